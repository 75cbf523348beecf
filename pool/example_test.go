package pool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
)

// Map runs the items at most the pool's size at a time and returns the
// results in input order.
func ExampleMap() {
	_ = hub.Run(context.Background(), func(ctx context.Context) error {
		p := pool.New(2)
		running, peak := 0, 0
		lengths, err := pool.Map(ctx, p, []string{"gevent", "in", "go"}, func(ctx context.Context, s string) (int, error) {
			running++
			peak = max(peak, running)
			defer func() { running-- }()
			return len(s), hub.Sleep(ctx, 10*time.Millisecond)
		})
		fmt.Println(lengths, err, "at most", peak, "at once")
		return nil
	})
	// Output: [6 2 2] <nil> at most 2 at once
}

// IMapUnordered yields each result as soon as it is ready.
func ExampleIMapUnordered() {
	_ = hub.Run(context.Background(), func(ctx context.Context) error {
		p := pool.New(3)
		naps := []int{3, 1, 2}
		for n, err := range pool.IMapUnordered(ctx, p, naps, func(ctx context.Context, n int) (int, error) {
			return n, hub.Sleep(ctx, time.Duration(n)*40*time.Millisecond)
		}) {
			fmt.Println(n, err)
		}
		return nil
	})
	// Output:
	// 1 <nil>
	// 2 <nil>
	// 3 <nil>
}

// ApplyAsync never blocks: on a full pool the work queues for a slot, and
// the callback receives each value.
func ExampleApplyAsync() {
	_ = hub.Run(context.Background(), func(ctx context.Context) error {
		p := pool.New(2)
		var done []string
		for _, word := range []string{"a", "b", "c"} {
			pool.ApplyAsync(ctx, p, func(ctx context.Context) (string, error) {
				return strings.ToUpper(word), hub.Sleep(ctx, 10*time.Millisecond)
			}, func(v string) { done = append(done, v) })
		}
		fmt.Println("members:", p.Len(), "free slots:", p.FreeCount())
		if err := p.Join(ctx); err != nil {
			return err
		}
		fmt.Println(done)
		return nil
	})
	// Output:
	// members: 3 free slots: 0
	// [A B C]
}

// Spawn on a full pool waits for a slot.
func ExampleSpawn() {
	_ = hub.Run(context.Background(), func(ctx context.Context) error {
		p := pool.New(1)
		start := time.Now()
		for i := range 3 {
			pool.Spawn(ctx, p, func(ctx context.Context) (int, error) {
				return i, hub.Sleep(ctx, 20*time.Millisecond)
			})
		}
		// The third Spawn waited for the first two to end.
		fmt.Println(time.Since(start) >= 40*time.Millisecond, p.Len())
		return p.Join(ctx)
	})
	// Output: true 1
}

// Go spawns a function without a value. If ctx ends before a slot frees,
// the greenlet it returns never runs and has ended with ErrPoolFull.
func ExampleGo() {
	_ = hub.Run(context.Background(), func(ctx context.Context) error {
		p := pool.New(1)
		busy := pool.Go(ctx, p, func(ctx context.Context) error { return hub.Sleep(ctx, time.Second) })
		tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		g := pool.Go(tctx, p, func(context.Context) error { return nil })
		fmt.Println(g.Ready(), g.Started(), errors.Is(g.Err(), pool.ErrPoolFull))
		fmt.Println(errors.Is(g.Err(), context.DeadlineExceeded))
		return busy.Kill(ctx, nil)
	})
	// Output:
	// true false true
	// true
}

// Submit hands work to a pool when only whether it got to run matters, as a
// server handing out connections does: it waits for a slot, and says why
// when none freed in time.
func ExampleSubmit() {
	_ = hub.Run(context.Background(), func(ctx context.Context) error {
		p := pool.New(1)
		err := pool.Submit(ctx, p, func(ctx context.Context) error {
			fmt.Println("first job runs")
			return hub.Sleep(ctx, time.Second)
		})
		fmt.Println(err)
		tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		err = pool.Submit(tctx, p, func(context.Context) error { return nil })
		fmt.Println(errors.Is(err, pool.ErrPoolFull), errors.Is(err, context.DeadlineExceeded))
		return p.Kill(ctx, nil)
	})
	// Output:
	// <nil>
	// first job runs
	// true true
}
