package hub_test

import (
	"context"
	"fmt"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// A greenlet waits on a Go channel fed by another greenlet of the same hub
// (a bare receive would hold the run token and deadlock), and on a hub
// Event that says to stop, whichever comes first.
func ExampleSelect() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	h.Run(context.Background(), func(ctx context.Context) error {
		jobs := make(chan string)
		var quit hub.Event
		spawn.Go(ctx, func(ctx context.Context) error {
			for _, j := range []string{"wash", "dry"} {
				if err := hub.Send(ctx, jobs, j); err != nil {
					return err
				}
			}
			quit.Set()
			return nil
		})
		for {
			var job string
			i, err := hub.Select(ctx,
				hub.CaseRecv(jobs, func(j string, ok bool) { job = j }),
				hub.CaseReady(&quit, nil),
			)
			if err != nil {
				return err
			}
			if i == 1 {
				fmt.Println("quit")
				return nil
			}
			fmt.Println("job:", job)
		}
	})
	// Output:
	// job: wash
	// job: dry
	// quit
}
