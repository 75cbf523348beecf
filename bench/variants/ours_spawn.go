package variants

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func init() {
	spawnJoin := func(opts []hub.Option) func(b *harness.B) error {
		return func(b *harness.B) error {
			var n atomic.Int64 // P = 2 runs greenlets in parallel
			err := withHub(b, opts, func(ctx context.Context, h *hub.Hub) error {
				gs := make([]*spawn.Greenlet[struct{}], b.N)
				for i := range gs {
					gs[i] = spawn.Spawn(ctx, func(context.Context) (struct{}, error) { n.Add(1); return struct{}{}, nil })
				}
				_, err := spawn.JoinAll(ctx, gs)
				return err
			})
			return errors.Join(err, checkCount("spawn_join", n.Load(), int64(b.N)))
		}
	}
	oursMicro("spawn_join", "gevent_go_spawn", "spawn.Spawn per task from the hub.Run main greenlet, then spawn.JoinAll", spawnJoin(nil))
	oursMicro("spawn_join", "gevent_go_spawn_p2", "the same on a hub with two run tokens (hub.WithParallelism(2))", spawnJoin([]hub.Option{hub.WithParallelism(2)}))
}
