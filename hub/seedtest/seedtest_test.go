package seedtest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/hub/seedtest"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/pool"
	"github.com/gevent-go/gevent/spawn"
)

// workload mixes the cooperative points (yield, sleep, event, queue, spawn,
// kill) and records what each greenlet did, in order.
func workload(ctx context.Context, log *[]string) error {
	h := hub.For(ctx)
	q := hub.NewQueue[int](2)
	var ev hub.Event
	note := func(s string) { *log = append(*log, s) }
	var gs []*hub.G
	for i := range 4 {
		gs = append(gs, hubsched.Spawn(h, ctx, sched.Task{Name: "w" + strconv.Itoa(i), Run: func(ctx context.Context) error {
			for j := range 4 {
				note(fmt.Sprint("w", i, ".", j))
				switch (i + j) % 4 {
				case 0:
					hub.Yield(ctx)
				case 1:
					hub.Sleep(ctx, time.Millisecond)
				case 2:
					q.Put(ctx, i*10+j)
				case 3:
					if v, err := q.TryGet(); err == nil {
						note(fmt.Sprint("got ", v))
					}
				}
			}
			ev.Wait(ctx)
			return nil
		}}))
	}
	victim := hubsched.Spawn(h, ctx, sched.Task{Name: "victim", Run: func(ctx context.Context) error {
		defer note("victim unwound")
		return hub.Sleep(ctx, time.Hour)
	}})
	hub.Sleep(ctx, 2*time.Millisecond)
	victim.Kill(nil)
	for q.Len() > 0 {
		v, _ := q.Get(ctx)
		note(fmt.Sprint("drained ", v))
	}
	ev.Set()
	if h.Wait(ctx) != nil {
		return errors.New("wait gave up")
	}
	_ = gs
	return nil
}

// runOnce runs the workload once on a hub seeded with seed, in a bubble,
// and returns its log and schedule.
func runOnce(t *testing.T, seed uint64) (log []string, trace []string) {
	synctest.Test(t, func(t *testing.T) {
		h := hub.MustNew(hub.WithSeed(seed), hub.WithMonitor(0, nil))
		require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error { return workload(ctx, &log) }))
		for _, s := range h.Trace() {
			trace = append(trace, s.String())
		}
		require.NoError(t, h.Stop(context.Background()))
	})
	return log, trace
}

// One seed gives one schedule and one output, run after run; different
// seeds give different ones.
func TestSameSeedSameSchedule(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		log0, trace0 := runOnce(t, seed)
		require.NotEmpty(t, trace0)
		for range 99 {
			log, trace := runOnce(t, seed)
			require.Equal(t, trace0, trace, "seed %d: a different schedule", seed)
			require.Equal(t, log0, log, "seed %d: a different output", seed)
		}
	}
	distinct := map[string]bool{}
	for seed := range uint64(10) {
		_, trace := runOnce(t, seed+1)
		distinct[strings.Join(trace, "\n")] = true
	}
	assert.Greater(t, len(distinct), 5, "ten seeds gave only %d schedules", len(distinct))
}

// explore finds a planted bug within bound seeds, replays its seed and gets
// the same failure and schedule, and checks that FIFO order misses it.
func explore(t *testing.T, bound int, body func(ctx context.Context) error) {
	t.Helper()
	r := seedtest.Explore(t, bound, body)
	require.Error(t, r.Err, "no seed of %d found the bug", bound)
	t.Logf("found by seed %d after %d seeds: %v", r.Seed, r.Tried, r.Err)
	for range 5 {
		t.Setenv(seedtest.EnvSeed, strconv.FormatUint(r.Seed, 10))
		again := seedtest.Explore(t, 1, body)
		require.Equal(t, r.Err.Error(), again.Err.Error(), "the replay failed differently")
		require.Equal(t, r.Trace, again.Trace, "the replay took another schedule")
	}
	synctest.Test(t, func(t *testing.T) {
		h := hub.MustNew(hub.WithMonitor(0, nil))
		assert.NoError(t, h.Run(context.Background(), body), "FIFO order found it too: not a scheduling bug")
		require.NoError(t, h.Stop(context.Background()))
	})
}

// A check-then-act across a Yield: two greenlets can both take a slot that
// one of them checked was free.
func TestFindsCheckThenAct(t *testing.T) {
	explore(t, 100, func(ctx context.Context) error {
		h := hub.For(ctx)
		taken, takers := false, 0
		take := func(pre int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				for range pre {
					hub.Yield(ctx)
				}
				if !taken {
					hub.Yield(ctx) // the bug: the check and the act are apart
					taken = true
					takers++
				}
				return nil
			}
		}
		hubsched.Spawn(h, ctx, sched.Task{Name: "early", Run: take(0)})
		hubsched.Spawn(h, ctx, sched.Task{Name: "late", Run: take(2)})
		h.Wait(ctx)
		if takers > 1 {
			return fmt.Errorf("%d greenlets took the one slot", takers)
		}
		return nil
	})
}

// A lost wake-up: a waiter checks a flag, reaches a cooperative point, then
// waits for an Event that the notifier raised and lowered in between.
func TestFindsLostWakeUp(t *testing.T) {
	explore(t, 100, func(ctx context.Context) error {
		h := hub.For(ctx)
		var ev hub.Event
		ready := false
		hubsched.Spawn(h, ctx, sched.Task{Name: "notifier", Run: func(ctx context.Context) error {
			hub.Yield(ctx)
			hub.Yield(ctx)
			ready = true
			ev.Set()
			ev.Clear() // a pulse: only waiters already waiting see it
			return nil
		}})
		var lost error
		hubsched.Spawn(h, ctx, sched.Task{Name: "waiter", Run: func(ctx context.Context) error {
			if !ready {
				hub.Yield(ctx) // the bug: the check and the wait are apart
				_, err := hub.WithTimeout(ctx, time.Second, func(ctx context.Context) (bool, error) {
					if ev.Wait(ctx) != nil {
						return false, context.Cause(ctx)
					}
					return true, nil
				})
				if errors.Is(err, hub.ErrTimeout) {
					lost = errors.New("the wake-up was lost")
				}
			}
			return nil
		}})
		h.Wait(ctx)
		return lost
	})
}

// An unlocked read-modify-write across a Sleep: two increments that wake at
// the same instant can interleave (the order of sleepers due together is
// seeded) and one update is lost.
func TestFindsLostUpdate(t *testing.T) {
	explore(t, 100, func(ctx context.Context) error {
		h := hub.For(ctx)
		counter := 0
		hubsched.Spawn(h, ctx, sched.Task{Name: "slow", Run: func(ctx context.Context) error {
			v := counter
			hub.Sleep(ctx, time.Millisecond) // the bug: read, sleep, write
			counter = v + 1
			return nil
		}})
		hubsched.Spawn(h, ctx, sched.Task{Name: "quick", Run: func(ctx context.Context) error {
			hub.Sleep(ctx, time.Millisecond)
			counter++
			return nil
		}})
		h.Wait(ctx)
		if counter != 2 {
			return fmt.Errorf("counter %d after two increments", counter)
		}
		return nil
	})
}

// The library's own concurrency passes under many seeds: queues with
// several producers and consumers, a pool map, kills of greenlets parked
// anywhere.
func TestLibraryUnderSeeds(t *testing.T) {
	t.Run("queue", func(t *testing.T) {
		seedtest.Run(t, 100, func(ctx context.Context) error {
			q := hub.NewQueue[int](3)
			sum, got := 0, 0
			var producers []*spawn.Greenlet[struct{}]
			for p := range 3 {
				producers = append(producers, spawn.Spawn(ctx, func(ctx context.Context) (struct{}, error) {
					for i := range 20 {
						if err := q.Put(ctx, p*100+i); err != nil {
							return struct{}{}, err
						}
					}
					return struct{}{}, nil
				}))
			}
			var consumers []*spawn.Greenlet[struct{}]
			for range 2 {
				consumers = append(consumers, spawn.Spawn(ctx, func(ctx context.Context) (struct{}, error) {
					for {
						v, err := q.Get(ctx)
						if err != nil {
							return struct{}{}, nil // shut down
						}
						sum += v
						got++
						q.TaskDone()
					}
				}))
			}
			if _, err := spawn.JoinAll(ctx, producers, spawn.RaiseError()); err != nil {
				return err
			}
			if err := q.Join(ctx); err != nil {
				return err
			}
			q.Shutdown()
			if _, err := spawn.JoinAll(ctx, consumers); err != nil {
				return err
			}
			if want := 3*190 + 100*20*(0+1+2); got != 60 || sum != want {
				return fmt.Errorf("got %d items summing to %d, want 60 summing to %d", got, sum, want)
			}
			return nil
		})
	})
	t.Run("pool map", func(t *testing.T) {
		seedtest.Run(t, 100, func(ctx context.Context) error {
			in := make([]int, 30)
			for i := range in {
				in[i] = i
			}
			out, err := pool.Map(ctx, pool.New(4), in, func(ctx context.Context, v int) (int, error) {
				if err := hub.Sleep(ctx, time.Duration(v%3)*time.Millisecond); err != nil {
					return 0, err
				}
				return v * v, nil
			})
			if err != nil {
				return err
			}
			for i, v := range out {
				if v != i*i {
					return fmt.Errorf("out[%d] = %d", i, v)
				}
			}
			return nil
		})
	})
	t.Run("kills", func(t *testing.T) {
		seedtest.Run(t, 100, func(ctx context.Context) error {
			var unwound []int
			var gs []*spawn.Greenlet[int]
			var ev hub.Event
			for i := range 6 {
				gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
					defer func() { unwound = append(unwound, i) }()
					switch i % 3 {
					case 0:
						return i, hub.Sleep(ctx, time.Hour)
					case 1:
						ev.Wait(ctx)
					default:
						for {
							hub.Yield(ctx)
						}
					}
					return i, nil
				}))
			}
			hub.Yield(ctx)
			if err := spawn.KillAll(ctx, gs, nil); err != nil {
				return err
			}
			// Every greenlet that started unwound (its deferred call ran);
			// one killed before it started never ran at all.
			var started []int
			for i, g := range gs {
				if g.Started() {
					started = append(started, i)
				}
				if !g.Killed() {
					return fmt.Errorf("greenlet %d was not killed", i)
				}
			}
			slices.Sort(unwound)
			if !slices.Equal(unwound, started) {
				return fmt.Errorf("unwound %v, started %v", unwound, started)
			}
			return nil
		})
	})
}

// Report names the seed, how to replay it, and the schedule.
func TestReport(t *testing.T) {
	r := seedtest.Report("TestX/sub", 7, []hub.Switch{{From: 1, To: 2, ToName: "w", Point: "yield"}})
	assert.Contains(t, r, "seed 7 failed")
	assert.Contains(t, r, "go test -run '^TestX$' -args -gevent.seed=7")
	assert.Contains(t, r, "GEVENT_SEED=7")
	assert.Contains(t, r, "g1 -[yield]-> g2(w)")
}

// hubsched is the hub's scheduler as these tests drive it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
