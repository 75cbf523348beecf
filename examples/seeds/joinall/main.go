// Seed "joinall". The seed texts wait for a list of workers:
//
//	for p in processes: p.join()
//	gevent.joinall([gevent.spawn(task, i) for i in range(3)])
//	gevent.joinall(greenlets, timeout=0.015)
//	gevent.joinall(greenlets, raise_error=True)
//
// spawn.JoinAll waits for all of them (cooperatively: the workers run while
// main waits) and returns them in the order they finished. A ctx deadline is
// joinall's timeout; spawn.RaiseError() is raise_error=True.
//
//	go run ./examples/seeds/joinall
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

// task sleeps for ms milliseconds and returns it; a negative ms fails.
func task(w io.Writer, name string, ms int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		if ms < 0 {
			fmt.Fprintf(w, "%s: failing\n", name)
			return 0, errors.New(name + " failed")
		}
		if err := hub.Sleep(ctx, time.Duration(ms)*time.Millisecond); err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "%s: done after %d ms\n", name, ms)
		return ms, nil
	}
}

func spawnAll(ctx context.Context, w io.Writer, delays ...int) []*spawn.Greenlet[int] {
	var gs []*spawn.Greenlet[int]
	for i, ms := range delays {
		name := fmt.Sprintf("task-%d", i+1)
		gs = append(gs, spawn.Spawn(ctx, task(w, name, ms), spawn.WithName(name)))
	}
	return gs
}

func names(gs []*spawn.Greenlet[int]) string {
	var ns []string
	for _, g := range gs {
		ns = append(ns, g.Name())
	}
	return strings.Join(ns, ", ")
}

func run(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "1. joinall: three tasks of 30, 10 and 20 ms")
	start := time.Now()
	done, err := spawn.JoinAll(ctx, spawnAll(ctx, w, 30, 10, 20))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "finished in this order: %s\n", names(done))
	fmt.Fprintf(w, "all done after %v: they slept at the same time, not one after the other (60ms)\n",
		time.Since(start).Round(10*time.Millisecond))

	fmt.Fprintln(w, "2. joinall with a 25 ms timeout: tasks of 10, 40 and 20 ms")
	gs := spawnAll(ctx, w, 10, 40, 20)
	tctx, cancel := context.WithTimeout(ctx, 25*time.Millisecond)
	done, err = spawn.JoinAll(tctx, gs)
	cancel()
	fmt.Fprintf(w, "timed out (%v): finished %s; task-2 still running: %v\n",
		errors.Is(err, context.DeadlineExceeded), names(done), !gs[1].Ready())
	if err := gs[1].Kill(ctx, nil); err != nil {
		return err
	}
	fmt.Fprintf(w, "killed task-2: ready %v, successful %v (a plain kill is not a failure)\n", gs[1].Ready(), gs[1].Successful())

	fmt.Fprintln(w, "3. joinall with raise_error: tasks of 10 ms, a failure, 20 ms")
	gs = spawnAll(ctx, w, 10, -1, 20)
	done, err = spawn.JoinAll(ctx, gs, spawn.RaiseError())
	fmt.Fprintf(w, "joinall returned at the first failure: %v (finished so far: %s)\n", err, names(done))
	// The others keep running, as in gevent; wait for them too.
	if _, err := spawn.JoinAll(ctx, gs); err != nil {
		return err
	}
	fmt.Fprintf(w, "then all three are ready: %v %v %v\n", gs[0].Ready(), gs[1].Ready(), gs[2].Ready())
	return nil
}
