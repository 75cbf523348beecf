// Seed "daemon". The seed texts mark a worker as a daemon so the program
// does not wait for it:
//
//	t = threading.Thread(target=heartbeat, daemon=True); t.start()
//	p = multiprocessing.Process(target=heartbeat, daemon=True); p.start()
//
// A program waits only for what it joins. Like a gevent script, a seed
// program ends when its main greenlet returns, and the greenlets still
// running then are killed (the hub stops): every greenlet is a daemon unless
// someone joins it. The kill lands at the daemon's next cooperative point
// and its deferred calls run, which threads marked daemon never get.
//
//	go run ./examples/seeds/daemon
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
	spawn.Go(ctx, func(ctx context.Context) error {
		defer fmt.Fprintln(w, "daemon: killed at exit; its deferred cleanup ran")
		for i := 1; ; i++ {
			if err := hub.Sleep(ctx, 20*time.Millisecond); err != nil {
				return err
			}
			fmt.Fprintf(w, "daemon: heartbeat %d\n", i)
		}
	}, spawn.WithName("daemon"))

	worker := spawn.Go(ctx, func(ctx context.Context) error {
		fmt.Fprintln(w, "worker: working for 50 ms")
		err := hub.Sleep(ctx, 50*time.Millisecond)
		fmt.Fprintln(w, "worker: done")
		return err
	}, spawn.WithName("worker"))

	fmt.Fprintln(w, "main: joining the worker only")
	if err := worker.Join(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "main: worker joined; returning without waiting for the daemon")
	return nil
}
