// Seed "pool map". The seed texts map a function over a list with a pool:
//
//	with multiprocessing.Pool(4) as p:   # or gevent.pool.Pool(4)
//	    print(p.map(square, range(10)))
//	    for r in p.imap_unordered(square, range(10)): print(r)
//
// pool.Map runs at most the pool's size at once and returns the results in
// input order, typed; pool.IMapUnordered yields them as they complete. The
// first error stops a Map and comes back from it. (A map does not spawn a
// greenlet per item: a few worker greenlets, members of the pool, take item
// after item.)
//
//	go run ./examples/seeds/poolmap
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
)

func main() { seed.Main(run) }

// square takes longer for small numbers, so completion order differs from
// input order.
func square(ctx context.Context, x int) (int, error) {
	if err := hub.Sleep(ctx, time.Duration(10-x)*10*time.Millisecond); err != nil {
		return 0, err
	}
	return x * x, nil
}

func run(ctx context.Context, w io.Writer) error {
	p := pool.New(4)
	nums := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

	start := time.Now()
	squares, err := pool.Map(ctx, p, nums, square)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "map:            %v after %v\n", squares, time.Since(start).Round(10*time.Millisecond))

	// On a pool as wide as the input every item starts at once, so they
	// complete in the order of their sleeps: 9 first, 0 last.
	var unordered []int
	for v, err := range pool.IMapUnordered(ctx, pool.New(len(nums)), nums, square) {
		if err != nil {
			return err
		}
		unordered = append(unordered, v)
	}
	fmt.Fprintf(w, "imap_unordered: %v\n", unordered)

	_, err = pool.Map(ctx, p, nums, func(ctx context.Context, x int) (int, error) {
		if x == 6 {
			return 0, errors.New("no square for 6")
		}
		return square(ctx, x)
	})
	fmt.Fprintf(w, "map with a failing item: %v\n", err)
	return nil
}
