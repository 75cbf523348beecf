// Seed "start and join". The seed texts start a process or a thread and
// wait for it:
//
//	p = multiprocessing.Process(target=work, args=(1,)); p.start(); p.join()
//	t = threading.Thread(target=work, args=(1,)); t.start(); t.join()
//	g = gevent.spawn(work, 1); g.join()
//
// With greenlets that is spawn.Spawn and Join (or Get, which also hands back
// the typed result: no Queue needed to get a value out, as a Process needs).
// spawn.New + Start is the create-then-start form of Process/Thread.
//
//	go run ./examples/seeds/startjoin
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

func run(ctx context.Context, w io.Writer) error {
	work := func(i int) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			fmt.Fprintf(w, "worker %d: started, working for %d ms\n", i, i*10)
			if err := hub.Sleep(ctx, time.Duration(i)*10*time.Millisecond); err != nil {
				return 0, err
			}
			fmt.Fprintf(w, "worker %d: done\n", i)
			return i * i, nil
		}
	}

	fmt.Fprintln(w, "main: spawning workers 1, 2 and 3")
	var gs []*spawn.Greenlet[int]
	for i := 1; i <= 3; i++ {
		gs = append(gs, spawn.Spawn(ctx, work(i), spawn.WithName(fmt.Sprintf("worker-%d", i))))
	}
	fmt.Fprintln(w, "main: spawned; none has run yet: they start when main yields (its first Get)")
	for _, g := range gs {
		v, err := g.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "main: joined %s, result %d\n", g.Name(), v)
	}

	// Create, then start: multiprocessing.Process(target=...) and p.start().
	g := spawn.New(ctx, work(4), spawn.WithName("worker-4"))
	fmt.Fprintf(w, "main: created %s, started: %v\n", g.Name(), g.Started())
	g.Start()
	if err := g.Join(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "main: joined %s, successful: %v, result %d\n", g.Name(), g.Successful(), g.Value())
	return nil
}
