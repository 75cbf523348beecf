// Seed "shared state". The seed texts share memory between processes
// through multiprocessing.Value and Array, and guard a shared counter in
// threads with a Lock:
//
//	num = Value('d', 0.0); arr = Array('i', range(10))
//	p = Process(target=f, args=(num, arr)); p.start(); p.join()
//	with lock: counter += 1
//
// Greenlets of one hub share plain Go variables: no shared-memory wrapper,
// no pickling, and no lock for counter++. Only one greenlet runs at a time
// and it gives the hub up only at a cooperative point (Sleep, Yield, a wait),
// so code between two such points never interleaves with another greenlet's
// (go test -race agrees: the hand-off is a synchronization point). The
// guarantee ends at a cooperative point: part 3 yields between reading the
// counter and writing it back, and loses updates exactly as threads would.
//
//	go run ./examples/seeds/sharedstate
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

// spawnN runs n copies of fn and waits for all of them.
func spawnN(ctx context.Context, n int, fn func(ctx context.Context) error) error {
	var gs []*spawn.Greenlet[struct{}]
	for range n {
		gs = append(gs, spawn.Go(ctx, fn))
	}
	_, err := spawn.JoinAll(ctx, gs, spawn.RaiseError())
	return err
}

func run(ctx context.Context, w io.Writer) error {
	// 1. Value and Array: a child changes them, the parent sees the change.
	num := 0.0
	arr := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	child := spawn.Go(ctx, func(ctx context.Context) error {
		num = 3.1415927
		for i := range arr {
			arr[i] = -arr[i]
		}
		return nil
	})
	if err := child.Join(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "1. after the child: num = %v, arr = %v\n", num, arr)

	// 2. A counter shared by 10 greenlets, 1000 increments each, no lock.
	// Each yields after every increment, so they take turns all the way.
	counter := 0
	err := spawnN(ctx, 10, func(ctx context.Context) error {
		for range 1000 {
			counter++
			if err := hub.Yield(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2. 10 greenlets x 1000 increments, no lock: counter = %d\n", counter)

	// 3. The same, but yielding between the read and the write: the other
	// nine read the same old value meanwhile, and their writes collide.
	counter = 0
	err = spawnN(ctx, 10, func(ctx context.Context) error {
		for range 1000 {
			v := counter
			if err := hub.Yield(ctx); err != nil {
				return err
			}
			counter = v + 1
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "3. the same with a yield between read and write: counter = %d (updates lost: hold a hub.Lock across the yield)\n", counter)
	return nil
}
