package hub

import (
	"context"

	"github.com/gevent-go/gevent/internal/sched"
)

// The scheduler's entry points for the library's own packages (spawn,
// pool, netpoll); see package internal/sched for why they travel this way.
func init() {
	sched.Install(sched.API[*Hub, *G]{
		Register: func(h *Hub, g *G, ctx context.Context, name string, r sched.Runner) {
			if r == nil {
				panic("hub: nil greenlet runner")
			}
			h.registerAt(g, ctx, name, r)
		},
		Spawn:       (*Hub).spawn,
		Start:       (*G).start,
		StartLater:  (*G).startLater,
		ReportError: (*Hub).reportError,
		PanicError: func(r any) error {
			if IsKill(r) {
				panic(r)
			}
			return newPanicError(r)
		},
	})
}
