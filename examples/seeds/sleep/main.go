// Seed "sleep". The seed texts pause workers with time.sleep(n) and
// gevent.sleep(n), and hand over with gevent.sleep(0):
//
//	def task(n): gevent.sleep(0.1); print('task', n, 'done')
//	gevent.joinall([gevent.spawn(task, i) for i in range(3)])   # 0.1 s, not 0.3 s
//
// hub.Sleep parks only the calling greenlet: the others run meanwhile.
// hub.Yield is gevent.sleep(0): the caller goes to the back of the line.
// Go cannot patch time.Sleep (it is not a variable): inside a greenlet it
// holds the hub, and every other greenlet waits, exactly like an unpatched
// time.sleep under gevent. Part 3 shows the difference.
//
//	go run ./examples/seeds/sleep
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

// three runs three greenlets doing fn(ctx, i) and returns how long they took.
func three(ctx context.Context, fn func(ctx context.Context, i int) error) (time.Duration, error) {
	start := time.Now()
	var gs []*spawn.Greenlet[struct{}]
	for i := 1; i <= 3; i++ {
		gs = append(gs, spawn.Go(ctx, func(ctx context.Context) error { return fn(ctx, i) }))
	}
	_, err := spawn.JoinAll(ctx, gs, spawn.RaiseError())
	return time.Since(start).Round(10 * time.Millisecond), err
}

func run(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "1. three greenlets, each hub.Sleep(50ms)")
	took, err := three(ctx, func(ctx context.Context, i int) error {
		fmt.Fprintf(w, "task %d: sleeping\n", i)
		if err := hub.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
		fmt.Fprintf(w, "task %d: awake\n", i)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "took %v: they slept at the same time\n", took)

	fmt.Fprintln(w, "2. hub.Yield is gevent.sleep(0): A; yield; B in three greenlets")
	_, err = three(ctx, func(ctx context.Context, i int) error {
		fmt.Fprintf(w, "%dA ", i)
		if err := hub.Yield(ctx); err != nil {
			return err
		}
		fmt.Fprintf(w, "%dB ", i)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "3. three greenlets, each time.Sleep(50ms): not a cooperative point")
	took, err = three(ctx, func(ctx context.Context, i int) error {
		fmt.Fprintf(w, "task %d: sleeping, holding the hub\n", i)
		time.Sleep(50 * time.Millisecond)
		fmt.Fprintf(w, "task %d: awake\n", i)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "took %v: one after the other\n", took)
	return nil
}
