package hub_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func ExampleSleep() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	_ = h.Run(context.Background(), func(ctx context.Context) error {
		for _, name := range []string{"slow", "fast"} {
			d := 20 * time.Millisecond
			if name == "fast" {
				d = 10 * time.Millisecond
			}
			spawn.Go(ctx, func(ctx context.Context) error {
				if err := hub.Sleep(ctx, d); err != nil {
					return err
				}
				fmt.Println(name, "woke up")
				return nil
			})
		}
		fmt.Println("main sleeps; the others run meanwhile")
		return hub.Sleep(ctx, 40*time.Millisecond)
	})
	// Output:
	// main sleeps; the others run meanwhile
	// fast woke up
	// slow woke up
}

func ExampleWithTimeout() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	_ = h.Run(context.Background(), func(ctx context.Context) error {
		_, err := hub.WithTimeout(ctx, 10*time.Millisecond, func(ctx context.Context) (int, error) {
			return 0, hub.Sleep(ctx, time.Hour)
		})
		fmt.Println(errors.Is(err, hub.ErrTimeout), err)
		return nil
	})
	// Output: true hub: timeout after 10ms
}

// One hub per core: inside a shard, greenlets share plain state without
// locks (here, a per-shard counter); the shards run in parallel.
func ExampleShards() {
	s, err := hub.NewShards(2)
	if err != nil {
		panic(err)
	}
	defer s.Stop(context.Background())

	hits := make([]int, s.Len()) // hits[i] is touched by shard i's greenlets only
	for i := range s.Len() {
		ctx := hub.NewContext(context.Background(), s.Hub(i))
		for range 1000 {
			spawn.Go(ctx, func(ctx context.Context) error {
				hits[i]++
				return hub.Yield(ctx)
			})
		}
	}
	s.Wait(context.Background())
	fmt.Println(hits)
	// Output: [1000 1000]
}

// A seeded hub draws the order in which ready greenlets run from its seed:
// the same seed gives the same order every time, another seed another one
// (FIFO, without a seed, would print [a b c d] for both).
func ExampleWithSeed() {
	for _, seed := range []uint64{1, 2, 1} {
		h := hub.MustNew(hub.WithSeed(seed))
		var order []string
		_ = h.Run(context.Background(), func(ctx context.Context) error {
			for _, name := range []string{"a", "b", "c", "d"} {
				spawn.Go(ctx, func(context.Context) error {
					order = append(order, name)
					return nil
				})
			}
			h.Wait(ctx)
			return nil
		})
		fmt.Println(seed, order)
		h.Stop(context.Background())
	}
	// Output:
	// 1 [a d b c]
	// 2 [b a c d]
	// 1 [a d b c]
}
