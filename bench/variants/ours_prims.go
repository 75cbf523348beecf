package variants

import (
	"context"
	"errors"
	"fmt"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
)

// gevent-go variants on the hub's cooperative primitives.
func init() {
	oursMicro("queue", "gevent_go_queue", fmt.Sprintf("hub.NewQueue[int](%d), one producer greenlet, one consumer greenlet", queueCap), func(b *harness.B) error {
		var sum int64
		var errs []error
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			q := hub.NewQueue[int](queueCap)
			hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
				for i := 1; i <= b.N; i++ {
					if err := q.Put(ctx, i); err != nil {
						return err
					}
				}
				return nil
			}, Done: collect(&errs)})
			for range b.N {
				v, err := q.Get(ctx)
				if err != nil {
					return err
				}
				sum += int64(v)
			}
			return wait(ctx, h)
		})
		return errors.Join(err, errors.Join(errs...), checkSum(sum, b.N))
	})

	oursMicro("switch", "gevent_go_event", "two greenlets handing control through a pair of hub.Events (gevent's Event ping-pong)", func(b *harness.B) error {
		b.SetOps(2 * b.N)
		var errs []error
		steps := 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			var ping, pong hub.Event
			hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
				for range b.N {
					if ping.Wait(ctx) != nil {
						return context.Cause(ctx)
					}
					ping.Clear()
					steps++
					pong.Set()
				}
				return nil
			}, Done: collect(&errs)})
			for range b.N {
				steps++
				ping.Set()
				if pong.Wait(ctx) != nil {
					return context.Cause(ctx)
				}
				pong.Clear()
			}
			return wait(ctx, h)
		})
		return errors.Join(err, errors.Join(errs...), checkCount("switch", int64(steps), int64(2*b.N)))
	})

	oursMicro("mem_parked", "gevent_go_event", "N greenlets in Event.Wait", func(b *harness.B) error {
		var errs []error
		woke := 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			var ev hub.Event
			for range b.N {
				hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
					if ev.Wait(ctx) != nil {
						return context.Cause(ctx)
					}
					woke++
					return nil
				}, Done: collect(&errs)})
			}
			// Every spawned greenlet runs and parks in Wait before the main
			// greenlet resumes from this Yield: they are queued ahead of it.
			if err := hub.Yield(ctx); err != nil {
				return err
			}
			b.Parked()
			ev.Set()
			return wait(ctx, h)
		})
		return errors.Join(err, errors.Join(errs...), checkCount("mem_parked", int64(woke), int64(b.N)))
	})
}
