// Seed "apply_async". The seed texts hand tasks to a pool without waiting,
// and collect the results in a callback:
//
//	p = multiprocessing.Pool(4)          # or gevent.pool.Pool(4)
//	for i in range(10): p.apply_async(task, args=(i,), callback=collect)
//	p.close(); p.join()
//
// pool.ApplyAsync never blocks: on a full pool the task waits, first come
// first served, for a free slot. The callback gets the typed result once
// the task succeeds; it runs on the greenlet that finished the task, so it
// can append to a plain slice without a lock. p.Join waits for them all.
//
//	go run ./examples/seeds/applyasync
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
)

func main() { seed.Main(run) }

func run(ctx context.Context, w io.Writer) error {
	start := time.Now()
	at := func() time.Duration { return time.Since(start).Round(10 * time.Millisecond) }
	p := pool.New(4)
	var results []int
	running := 0
	for i := 1; i <= 10; i++ {
		pool.ApplyAsync(ctx, p, func(ctx context.Context) (int, error) {
			running++
			defer func() { running-- }()
			fmt.Fprintf(w, "%4v task %2d: running (%d running)\n", at(), i, running)
			if err := hub.Sleep(ctx, time.Duration(10+10*(i%3))*time.Millisecond); err != nil {
				return 0, err
			}
			return i * i, nil
		}, func(v int) {
			results = append(results, v)
			fmt.Fprintf(w, "%4v callback: %d\n", at(), v)
		})
	}
	fmt.Fprintf(w, "main: 10 tasks handed to a pool of %d without blocking; %d members now\n", p.Size(), p.Len())
	if err := p.Join(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "%4v main: joined; %d results, in completion order: %v\n", at(), len(results), results)
	return nil
}
