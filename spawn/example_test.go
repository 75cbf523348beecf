package spawn_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func ExampleSpawn() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	_ = h.Run(context.Background(), func(ctx context.Context) error {
		g := spawn.Spawn(ctx, func(ctx context.Context) (string, error) {
			return "hello from a greenlet", nil
		})
		v, err := g.Get(ctx)
		fmt.Println(v, err)
		return nil
	})
	// Output: hello from a greenlet <nil>
}

func ExampleJoinAll() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	_ = h.Run(context.Background(), func(ctx context.Context) error {
		var gs []*spawn.Greenlet[int]
		for _, ms := range []int{30, 10, 20} {
			gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
				return ms, hub.Sleep(ctx, time.Duration(ms)*time.Millisecond)
			}))
		}
		done, err := spawn.JoinAll(ctx, gs)
		for _, g := range done { // in the order they finished
			fmt.Println(g.Value())
		}
		return err
	})
	// Output:
	// 10
	// 20
	// 30
}

func ExampleGreenlet_Kill() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	_ = h.Run(context.Background(), func(ctx context.Context) error {
		g := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			defer fmt.Println("deferred cleanup runs")
			for {
				_ = hub.Sleep(ctx, time.Millisecond) // the kill lands here even though the error is ignored
			}
		})
		_ = hub.Sleep(ctx, 5*time.Millisecond)
		_ = g.Kill(ctx, nil) // blocks until g is dead
		fmt.Println("killed:", g.Killed(), "successful:", g.Successful())

		f := spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, hub.Sleep(ctx, time.Hour) })
		_ = f.Kill(ctx, errors.New("shutting down"))
		_, err := f.Get(ctx)
		fmt.Println("kill with an error is a failure:", err)
		return nil
	})
	// Output:
	// deferred cleanup runs
	// killed: true successful: true
	// kill with an error is a failure: shutting down
}

// Go is Spawn for functions that return only an error.
func ExampleGo() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	_ = h.Run(context.Background(), func(ctx context.Context) error {
		g := spawn.Go(ctx, func(ctx context.Context) error {
			return errors.New("no value, just an error")
		})
		_, err := g.Get(ctx)
		fmt.Println(err)
		return nil
	})
	// Output: no value, just an error
}

// A ctx bound with hub.NewContext picks the hub, even from a plain goroutine.
func ExampleSpawn_onAHub() {
	h := hub.MustNew()
	defer h.Stop(context.Background())

	ctx := hub.NewContext(context.Background(), h)
	g := spawn.Spawn(ctx, func(ctx context.Context) (bool, error) {
		return hub.For(ctx) == h, nil
	})
	onH, _ := g.Get(ctx)
	fmt.Println(onH)
	// Output: true
}
