package local_test

import (
	"context"
	"fmt"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/local"
	"github.com/gevent-go/gevent/spawn"
)

// Each greenlet sees its own request id, even while the greenlets
// interleave; the main greenlet never set one.
func ExampleLocal() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	var requestID local.Local[string]
	h.Run(context.Background(), func(ctx context.Context) error {
		for _, id := range []string{"req-1", "req-2"} {
			spawn.Go(ctx, func(ctx context.Context) error {
				requestID.Set(ctx, id)
				hub.Yield(ctx) // the other greenlet runs and sets its own
				fmt.Println(requestID.Get(ctx))
				return nil
			})
		}
		h.Wait(ctx)
		fmt.Printf("main: %q\n", requestID.Get(ctx))
		return nil
	})
	// Output:
	// req-1
	// req-2
	// main: ""
}

// With Inherit, a greenlet starts with a copy of its spawner's value; with
// Init, a greenlet without a value gets one on first use.
func ExampleLocal_inherit() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	user := local.Local[string]{Inherit: true, Init: func(context.Context) string { return "anonymous" }}
	h.Run(context.Background(), func(ctx context.Context) error {
		fmt.Println("main:", user.Get(ctx))
		user.Set(ctx, "alice")
		spawn.Go(ctx, func(ctx context.Context) error {
			fmt.Println("child:", user.Get(ctx))
			return nil
		})
		h.Wait(ctx)
		return nil
	})
	// Output:
	// main: anonymous
	// child: alice
}
