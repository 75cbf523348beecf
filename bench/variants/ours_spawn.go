// This variant is written against the typed spawn API in TEAM.md. It is kept
// out of the build (and out of go mod tidy) by its file name until package
// spawn is merged: then rename it to ours_spawn.go, and it replaces the
// spawn_join/gevent_go_spawn slot.

package variants

import (
	"context"
	"errors"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func init() {
	oursMicro("spawn_join", "gevent_go_spawn", "spawn.Spawn per task from the hub.Run main greenlet, then spawn.JoinAll", func(b *harness.B) error {
		n := 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			gs := make([]*spawn.Greenlet[struct{}], b.N)
			for i := range gs {
				gs[i] = spawn.Spawn(ctx, func(context.Context) (struct{}, error) { n++; return struct{}{}, nil })
			}
			_, err := spawn.JoinAll(ctx, gs)
			return err
		})
		return errors.Join(err, checkCount("spawn_join", int64(n), int64(b.N)))
	})
}
