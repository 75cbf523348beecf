package variants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
)

// gevent-go's own micro variants, written against package hub (the only
// package merged so far). They share plain variables between greenlets
// without locks: with P = 1 (the default) the hub runs one greenlet at a
// time and its token hand-off orders their memory accesses.
func init() {
	oursMicro("spawn_join", "gevent_go_hub_run", "hub.Run main greenlet spawns N greenlets (the hub-level spawn of internal/sched), then h.Wait: the gevent pattern", func(b *harness.B) error {
		n := 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			for range b.N {
				hubsched.Spawn(h, ctx, sched.Task{Run: func(context.Context) error { n++; return nil }})
			}
			return wait(ctx, h)
		})
		return errors.Join(err, checkCount("spawn_join", int64(n), int64(b.N)))
	})
	oursMicro("spawn_join", "gevent_go_hub_plain", "the hub-level spawn (internal/sched) from a plain goroutine, then h.Wait", func(b *harness.B) error {
		h, err := hub.New()
		if err != nil {
			return err
		}
		n := 0
		ctx := context.Background()
		for range b.N {
			hubsched.Spawn(h, ctx, sched.Task{Run: func(context.Context) error { n++; return nil }})
		}
		err = wait(ctx, h)
		b.StopTimer()
		return errors.Join(err, stopHub(h), checkCount("spawn_join", int64(n), int64(b.N)))
	})

	yield := func(b *harness.B) error {
		b.SetOps(2 * b.N)
		var errs []error
		last, steps, outOfTurn := -1, 0, 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			for id := range 2 {
				hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
					for range b.N {
						if last == id {
							outOfTurn++
						}
						last = id
						steps++
						if err := hub.Yield(ctx); err != nil {
							return err
						}
					}
					return nil
				}, Done: collect(&errs)})
			}
			return wait(ctx, h)
		})
		if outOfTurn > 0 {
			err = errors.Join(err, fmt.Errorf("switch: %d turns out of order", outOfTurn))
		}
		return errors.Join(err, errors.Join(errs...), checkCount("switch", int64(steps), int64(2*b.N)))
	}
	oursMicro("switch", "gevent_go_yield", "two greenlets alternating hub.Yield", yield)
	oursMicro("switch", "gevent_go_yield_p1", "two greenlets alternating hub.Yield, GOMAXPROCS=1", yield, p1)

	oursMicro("pool_map", "gevent_go_hub_cap100", "hub.WithCapacity(100), one greenlet per item (stand-in until package pool lands)", func(b *harness.B) error {
		out := make([]int, b.N)
		err := withHub(b, []hub.Option{hub.WithCapacity(mapConc)}, func(ctx context.Context, h *hub.Hub) error {
			for i := range b.N {
				hubsched.Spawn(h, ctx, sched.Task{Run: func(context.Context) error { out[i] = mapFn(i); return nil }})
			}
			return wait(ctx, h)
		})
		return errors.Join(err, checkMapped(out))
	})

	oursMicro("sleep_many", "gevent_go_sleep", "N greenlets in hub.Sleep(10ms) (one timer heap per hub)", func(b *harness.B) error {
		var errs []error
		n, short := 0, 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			for range b.N {
				hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
					t := time.Now()
					if err := hub.Sleep(ctx, sleepFor); err != nil {
						return err
					}
					if time.Since(t) < sleepFor {
						short++
					}
					n++
					return nil
				}, Done: collect(&errs)})
			}
			return wait(ctx, h)
		})
		return errors.Join(err, errors.Join(errs...), checkSlept(int64(n), int64(short), b.N))
	})

	oursMicro("mem_parked", "gevent_go_waiter", "N greenlets parked on a hub.Waiter each (the primitive every hub wait is built on)", func(b *harness.B) error {
		var errs []error
		var waiters []*hub.Waiter
		parked, woke := 0, 0
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			all := hub.NewWaiter(ctx)
			for range b.N {
				hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
					w := hub.NewWaiter(ctx)
					waiters = append(waiters, w)
					if parked++; parked == b.N {
						all.Wake() // runs only once this greenlet has parked (P = 1)
					}
					if err := w.Park(ctx, "bench.parked", nil); err != nil {
						return err
					}
					woke++
					return nil
				}, Done: collect(&errs)})
			}
			if err := all.Park(ctx, "bench.all-parked", nil); err != nil {
				return err
			}
			b.Parked()
			for _, w := range waiters {
				if !w.Wake() {
					return errors.New("mem_parked: a waiter was settled before its wake-up")
				}
			}
			return wait(ctx, h)
		})
		return errors.Join(err, errors.Join(errs...), checkCount("mem_parked", int64(woke), int64(b.N)))
	})
}

// withHub runs fn as the main greenlet of a new hub (hub.Run), stops the
// timer when it returns, and then stops the hub.
func withHub(b *harness.B, opts []hub.Option, fn func(ctx context.Context, h *hub.Hub) error) error {
	h, err := hub.New(opts...)
	if err != nil {
		return err
	}
	err = h.Run(context.Background(), func(ctx context.Context) error { return fn(ctx, h) })
	b.StopTimer()
	return errors.Join(err, stopHub(h))
}

// wait joins every greenlet of h.
func wait(ctx context.Context, h *hub.Hub) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if h.Wait(ctx) != nil {
		return errors.New("hub.Wait gave up: greenlets still alive")
	}
	return nil
}

func stopHub(h *hub.Hub) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.Stop(ctx)
}

// collect returns a Task.Done that records failures in *errs. Done runs
// while the greenlet holds the run token, so the append needs no lock at
// P = 1.
func collect(errs *[]error) func(context.Context, sched.Outcome) {
	return func(_ context.Context, o sched.Outcome) {
		if o.Err != nil {
			*errs = append(*errs, o.Err)
		}
	}
}

// hubsched is the hub's scheduler as the hub-level variants drive it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
