package pool_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/hubtest"
	"github.com/gevent-go/gevent/internal/leaktest"
	"github.com/gevent-go/gevent/pool"
	"github.com/gevent-go/gevent/spawn"
)

// TestMain stops the default hub (the examples run on it) before checking
// for leaked goroutines.
func TestMain(m *testing.M) { leaktest.Main(m, leaktest.StopDefaultHub) }

// run runs body as the main greenlet of a fresh hub inside a synctest bubble,
// so sleeps take no real time and elapsed times are exact; the hub is
// stopped before the bubble ends. It returns the failures nobody observed.
func run(t *testing.T, body func(ctx context.Context) error, opts ...hub.Option) *hubtest.ErrLog {
	t.Helper()
	log := &hubtest.ErrLog{}
	synctest.Test(t, func(t *testing.T) {
		h := hub.MustNew(append([]hub.Option{hub.WithErrorHandler(log.Handle)}, opts...)...)
		defer func() { require.NoError(t, h.Stop(context.Background())) }()
		require.NoError(t, h.Run(context.Background(), body))
	})
	return log
}

func sleeper(d time.Duration) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) { return 0, hub.Sleep(ctx, d) }
}

// gevent item 29: apply returns the value or the error; two tasks in Pool(2)
// synchronising on an event log cons1, prod, cons2.
func TestApply(t *testing.T) {
	boom := errors.New("boom")
	run(t, func(ctx context.Context) error {
		p := pool.New(2)
		v, err := pool.Apply(ctx, p, func(context.Context) (string, error) { return "return value", nil })
		require.NoError(t, err)
		assert.Equal(t, "return value", v)

		_, err = pool.Apply(ctx, pool.New(1), func(context.Context) (int, error) { return 0, boom })
		assert.Same(t, boom, err)

		_, err = pool.Apply(ctx, p, func(context.Context) (int, error) { panic("oops") })
		var pe *hub.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "oops", pe.Value)
		assert.Contains(t, string(pe.Stack), "pool_test.go")

		var evt hub.Event
		var log []string
		done := pool.Spawn(ctx, p, func(ctx context.Context) (int, error) {
			log = append(log, "cons1")
			if evt.Wait(ctx) != nil {
				return 0, context.Cause(ctx)
			}
			log = append(log, "cons2")
			return 0, nil
		})
		pool.ApplyAsync(ctx, p, func(ctx context.Context) (int, error) {
			if err := hub.Sleep(ctx, time.Millisecond); err != nil {
				return 0, err
			}
			log = append(log, "prod")
			evt.Set()
			return 0, nil
		}, nil)
		_, err = done.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"cons1", "prod", "cons2"}, log)
		return p.Join(ctx)
	})
}

// gevent item 30: Pool(1).apply(pool.apply, f) runs the inner apply inline:
// no deadlock. The inner call runs in the outer member's greenlet.
func TestApplyReentrant(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		var outer, inner *hub.G
		v, err := pool.Apply(ctx, p, func(ctx context.Context) (int, error) {
			outer = hub.Current(ctx)
			return pool.Apply(ctx, p, func(ctx context.Context) (int, error) {
				inner = hub.Current(ctx)
				return 5 + 1, nil
			})
		})
		require.NoError(t, err)
		assert.Equal(t, 6, v)
		assert.Same(t, outer, inner)

		var evt hub.Event
		pool.ApplyAsync(ctx, p, func(context.Context) (int, error) { evt.Set(); return 0, nil }, nil)
		require.NoError(t, evt.Wait(ctx))

		// A map item of a full pool applying on the same pool runs inline too.
		out, err := pool.Map(ctx, p, []int{1, 2, 3}, func(ctx context.Context, x int) (int, error) {
			return pool.Apply(ctx, p, func(context.Context) (int, error) { return 10 * x, nil })
		})
		require.NoError(t, err)
		assert.Equal(t, []int{10, 20, 30}, out)
		return nil
	})
}

// gevent item 31: free_count drops on spawn and comes back once the member
// finished; apply_async never blocks, even on a full pool, and its work runs
// only when the caller yields.
func TestFreeCountAndApplyAsync(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(2)
		assert.Equal(t, 2, p.FreeCount())
		var r []int
		first := pool.Spawn(ctx, p, func(context.Context) (int, error) { r = append(r, 1); return 0, nil })
		assert.Equal(t, 1, p.FreeCount())
		require.NoError(t, first.Join(ctx))
		assert.Equal(t, []int{1}, r)
		require.NoError(t, hub.Yield(ctx))
		assert.Equal(t, 2, p.FreeCount())

		appender := func(v int) func(context.Context) (int, error) {
			return func(context.Context) (int, error) { r = append(r, v); return v, nil }
		}
		var got []int
		cb := func(v int) { got = append(got, v) }
		pool.ApplyAsync(ctx, p, appender(2), cb)
		assert.Equal(t, 1, p.FreeCount())
		pool.ApplyAsync(ctx, p, appender(3), cb)
		assert.Equal(t, 0, p.FreeCount())
		fourth := pool.ApplyAsync(ctx, p, appender(4), cb) // does not block
		assert.Equal(t, []int{1}, r, "nothing ran before the caller yielded")
		assert.Equal(t, 3, p.Len(), "the queued greenlet is a member holding no slot")
		assert.True(t, p.Contains(fourth))
		assert.False(t, fourth.Started())

		require.NoError(t, hub.Sleep(ctx, 10*time.Millisecond))
		sort.Ints(r)
		assert.Equal(t, []int{1, 2, 3, 4}, r)
		assert.Equal(t, []int{2, 3, 4}, got, "callbacks get the values, in completion order")
		assert.Equal(t, 2, p.FreeCount())
		assert.Equal(t, 0, p.Len())
		return nil
	})
}

// gevent item 32: discard returns the slot without killing; a crashed member
// gives its slot back and its failure reaches the hub's error handler, unless
// it was handed to a caller (a Get waiting for it).
func TestDiscardAndCrash(t *testing.T) {
	boom := errors.New("crash")
	log := run(t, func(ctx context.Context) error {
		p := pool.New(1)
		first := pool.Spawn(ctx, p, sleeper(time.Hour))
		p.Discard(first)
		assert.Equal(t, 0, p.Len())
		assert.Equal(t, 1, p.FreeCount())
		assert.False(t, p.Contains(first))
		require.NoError(t, first.Kill(ctx, nil))
		assert.Equal(t, 1, p.FreeCount(), "the discarded member's death frees nothing more")

		crashed := pool.Spawn(ctx, p, func(context.Context) (int, error) { return 0, boom })
		_, err := crashed.Get(ctx)
		assert.Same(t, boom, err)
		require.NoError(t, hub.Yield(ctx))
		assert.Equal(t, 1, p.FreeCount())

		joined := pool.Spawn(ctx, p, func(context.Context) (int, error) { return 0, boom })
		require.NoError(t, joined.Join(ctx)) // Join does not hand the error over
		return nil
	})
	errs := log.All()
	require.Len(t, errs, 1, "only the joined crash is reported; Get took the other; the discarded member's kill is a success")
	assert.Same(t, boom, errs[0])
}

// gevent item 33: Add on a full Pool(1) waits; a deadline gives ErrPoolFull
// and leaves the counts alone; TryAdd fails at once.
func TestAddFull(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		first := spawn.Spawn(ctx, sleeper(time.Hour))
		second := spawn.Spawn(ctx, sleeper(time.Hour))
		defer func() { _ = spawn.KillAll(ctx, []*spawn.Greenlet[int]{first, second}, nil) }()
		assert.Equal(t, 1, p.FreeCount())
		assert.Equal(t, 0, p.Len())
		require.NoError(t, p.Add(ctx, first))
		assert.Equal(t, 0, p.FreeCount())
		assert.Equal(t, 1, p.Len())
		require.NoError(t, p.Add(ctx, first), "adding a member again is a no-op")
		assert.Equal(t, 1, p.Len())

		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		err := p.Add(tctx, second)
		cancel()
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, err, pool.ErrPoolFull)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 0, p.FreeCount())
		assert.Equal(t, 1, p.Len())
		assert.False(t, p.Contains(second))

		assert.ErrorIs(t, p.TryAdd(second), pool.ErrPoolFull)

		// Spawn on the full pool with a deadline: fn never runs, and the
		// greenlet has ended already, with ErrPoolFull and the ctx's cause.
		ran := false
		linked := false
		start = time.Now()
		tctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
		g := pool.Spawn(tctx, p, func(context.Context) (int, error) { ran = true; return 0, nil }, spawn.WithName("refused"))
		cancel()
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.True(t, g.Ready(), "ended before Spawn returns")
		assert.False(t, g.Started())
		assert.Equal(t, "refused", g.Name())
		assert.ErrorIs(t, g.Err(), pool.ErrPoolFull)
		assert.ErrorIs(t, g.Err(), context.DeadlineExceeded)
		g.Link(func(*spawn.Greenlet[int]) { linked = true })
		assert.True(t, linked, "a link added now fires at once")
		_, err = g.Get(ctx)
		assert.ErrorIs(t, err, pool.ErrPoolFull)
		assert.False(t, p.Contains(g))
		assert.Equal(t, 1, p.Len())
		require.NoError(t, hub.Yield(ctx))
		assert.False(t, ran)

		// Once a slot frees, the waiting Add gets it.
		third := spawn.Spawn(ctx, sleeper(time.Hour))
		defer third.KillAsync(nil)
		added := spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, p.Add(ctx, third) })
		require.NoError(t, hub.Yield(ctx))
		assert.False(t, added.Ready())
		first.KillAsync(nil)
		_, err = added.Get(ctx)
		require.NoError(t, err)
		assert.True(t, p.Contains(third))
		assert.Equal(t, 0, p.FreeCount())
		return nil
	})
}

// gevent item 34: a negative size panics; Pool(0) is full forever.
func TestSizes(t *testing.T) {
	assert.PanicsWithValue(t, "pool: negative size -1", func() { pool.New(-1) })
	run(t, func(ctx context.Context) error {
		p := pool.New(0)
		assert.Equal(t, 0, p.FreeCount())
		assert.True(t, p.Full())
		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		n, err := p.WaitAvailable(tctx)
		cancel()
		assert.Equal(t, 0, n)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 10*time.Millisecond, time.Since(start))

		tctx, cancel = context.WithTimeout(ctx, 10*time.Millisecond)
		g := pool.Go(tctx, p, func(context.Context) error { return nil })
		cancel()
		assert.ErrorIs(t, g.Err(), pool.ErrPoolFull)

		u := pool.New(pool.Unbounded)
		assert.Equal(t, pool.Unbounded, u.Size())
		assert.False(t, u.Full())
		for range 100 {
			pool.Spawn(ctx, u, sleeper(time.Millisecond))
		}
		assert.Equal(t, 100, u.Len())
		assert.Equal(t, pool.Unbounded-100, u.FreeCount())
		n, err = u.WaitAvailable(ctx)
		require.NoError(t, err)
		assert.Equal(t, pool.Unbounded-100, n)
		require.NoError(t, u.Join(ctx))

		// WaitAvailable on a busy pool returns once a slot frees.
		b := pool.New(1)
		pool.Spawn(ctx, b, sleeper(30*time.Millisecond))
		start = time.Now()
		n, err = b.WaitAvailable(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Equal(t, 30*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, b.FreeCount(), "WaitAvailable takes no slot")
		return nil
	})
}

// gevent item 39: a second spawn on Pool(1) blocks until the first ends;
// join with a deadline on a busy pool fails, join without one succeeds; an
// empty pool joins at once.
func TestSpawnBlocksAndJoin(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		require.NoError(t, p.Join(ctx), "an empty pool joins at once")
		assert.Equal(t, 0, p.Len())
		start := time.Now()
		pool.Spawn(ctx, p, sleeper(100*time.Millisecond))
		assert.Equal(t, 1, p.Len())
		pool.Spawn(ctx, p, sleeper(100*time.Millisecond))
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the second spawn waited for the first")
		assert.Equal(t, 1, p.Len())

		tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		err := p.Join(tctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		require.NoError(t, p.Join(ctx))
		assert.Equal(t, 200*time.Millisecond, time.Since(start))
		assert.Equal(t, 0, p.Len())
		return nil
	})
}

// Waiters for a slot are served FIFO, and a newcomer cannot take a freed slot
// ahead of them.
func TestSlotsFIFO(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		pool.Spawn(ctx, p, sleeper(10*time.Millisecond))
		var order []int
		var spawners []*spawn.Greenlet[int]
		for i := range 5 {
			spawners = append(spawners, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
				return 0, pool.Spawn(ctx, p, func(context.Context) (int, error) { order = append(order, i); return 0, nil }).Err()
			}))
		}
		require.NoError(t, hub.Yield(ctx)) // all five are queued now
		assert.ErrorIs(t, p.TryAdd(spawn.New(ctx, sleeper(0))), pool.ErrPoolFull)
		_, err := spawn.JoinAll(ctx, spawners)
		require.NoError(t, err)
		require.NoError(t, p.Join(ctx))
		assert.Equal(t, []int{0, 1, 2, 3, 4}, order)
		return nil
	})
}

// gevent item 41: a Group counts only live members; join with RaiseError
// waits for the longest member, then returns the failure.
func TestGroup(t *testing.T) {
	boom := errors.New("boom")
	run(t, func(ctx context.Context) error {
		var g pool.Group // the zero value is ready to use
		assert.Equal(t, 0, g.Len())
		short := pool.Spawn(ctx, &g, func(ctx context.Context) (int, error) {
			return 0, errors.Join(hub.Sleep(ctx, 10*time.Millisecond), boom)
		})
		long := pool.Spawn(ctx, &g, sleeper(50*time.Millisecond))
		outside := spawn.Spawn(ctx, sleeper(time.Hour))
		g.Add(outside)
		g.Add(outside)
		assert.Equal(t, 3, g.Len())
		var members []spawn.Handle
		for m := range g.All() {
			members = append(members, m)
		}
		assert.Equal(t, []spawn.Handle{short, long, outside}, members)

		g.Discard(outside)
		outside.KillAsync(nil)
		start := time.Now()
		err := g.Join(ctx, spawn.RaiseError())
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "waited for the longest member")
		assert.True(t, long.Ready())
		assert.Equal(t, 0, g.Len())
		assert.False(t, g.Contains(short))
		require.NoError(t, g.Join(ctx, spawn.RaiseError()), "members gone before the call are not checked")

		// A dead greenlet added drops out at once.
		dead := spawn.Spawn(ctx, sleeper(0))
		require.NoError(t, dead.Join(ctx))
		g.Add(dead)
		assert.Equal(t, 0, g.Len())
		assert.Panics(t, func() { g.Add(nil) })
		assert.Panics(t, func() { g.Add((*spawn.Greenlet[int])(nil)) })
		assert.False(t, g.Contains((*spawn.Greenlet[int])(nil)))
		assert.False(t, g.Contains(nil))
		assert.NotPanics(t, func() { g.Discard((*spawn.Greenlet[int])(nil)) })
		assert.Nil(t, (*spawn.Greenlet[int])(nil).G())
		return nil
	})
}

// gevent items 42 and 43: Kill returns with every member dead; KillAsync
// returns with Len unchanged and the members die at the next switch; a kill
// is delivered once; a blocking kill of members that refuse to die waits.
func TestKill(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(10)
		var deaths int
		for range 5 {
			pool.Spawn(ctx, p, func(ctx context.Context) (int, error) {
				defer func() { deaths++ }()
				return 0, hub.Sleep(ctx, time.Hour)
			})
		}
		require.NoError(t, hub.Yield(ctx)) // let them start
		start := time.Now()
		require.NoError(t, p.Kill(ctx, nil))
		assert.Zero(t, time.Since(start))
		assert.Equal(t, 0, p.Len())
		assert.Equal(t, 5, deaths)
		assert.Equal(t, 10, p.FreeCount())

		// KillAsync, and kills delivered once.
		var kills int
		g := pool.Spawn(ctx, p, func(ctx context.Context) (int, error) {
			for {
				func() {
					defer func() {
						if r := recover(); r != nil {
							require.True(t, hub.IsKill(r))
							kills++
						}
					}()
					_ = hub.Sleep(ctx, 10*time.Millisecond)
				}()
				if kills > 0 && ctx.Err() != nil {
					// Refuses to die for a while.
					return 0, hub.Sleep(context.WithoutCancel(ctx), 20*time.Millisecond)
				}
			}
		})
		require.NoError(t, hub.Yield(ctx))
		p.KillOneAsync(g, nil)
		p.KillOneAsync(g, nil)
		p.KillAsync(nil)
		assert.Equal(t, 1, p.Len(), "KillAsync does not wait")
		require.NoError(t, hub.Yield(ctx))
		assert.Equal(t, 1, kills)
		tctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		err := p.Kill(tctx, nil)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the member refuses to die for 20ms")
		assert.Equal(t, 1, p.Len())
		require.NoError(t, p.KillOne(ctx, g, nil))
		assert.Equal(t, 1, kills, "the kill was thrown once")
		assert.Equal(t, 0, p.Len())

		// KillOne of a non-member does nothing.
		other := spawn.Spawn(ctx, sleeper(time.Millisecond))
		require.NoError(t, p.KillOne(ctx, other, nil))
		p.KillOneAsync(other, nil)
		_, err = other.Get(ctx)
		require.NoError(t, err)
		assert.False(t, other.Killed())

		// Members that never started never run.
		ran := false
		pool.Spawn(ctx, p, func(context.Context) (int, error) { ran = true; return 0, nil })
		require.NoError(t, p.Kill(ctx, nil))
		require.NoError(t, hub.Yield(ctx))
		assert.False(t, ran)
		return nil
	})
}

// A member greenlet that kills its own pool kills the others first, then
// itself.
func TestKillFromMember(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(3)
		other := pool.Spawn(ctx, p, sleeper(time.Hour))
		var sawOtherDead bool
		killer := pool.Spawn(ctx, p, func(ctx context.Context) (int, error) {
			err := p.Kill(ctx, nil)
			sawOtherDead = other.Ready()
			return 1, err // not reached: the kill lands in Kill
		})
		v, err := killer.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, 0, v, "killed: the default kill is a success with the zero value")
		assert.True(t, killer.Killed())
		assert.False(t, sawOtherDead)
		assert.True(t, other.Ready())
		assert.Equal(t, 0, p.Len())
		return nil
	})
}

// The seeds' example: 20 tasks on a pool of 5 with completion callbacks.
func TestSeedCallbacks(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(5)
		running, peak := 0, 0
		var got []int
		for i := range 20 {
			pool.ApplyAsync(ctx, p, func(ctx context.Context) (int, error) {
				running++
				peak = max(peak, running)
				defer func() { running-- }()
				return i * i, hub.Sleep(ctx, time.Duration(20-i)*time.Millisecond)
			}, func(v int) { got = append(got, v) })
		}
		assert.Equal(t, 20, p.Len())
		start := time.Now()
		require.NoError(t, p.Join(ctx))
		assert.Equal(t, 5, peak)
		want := make([]int, 20)
		for i := range want {
			want[i] = i * i
		}
		assert.ElementsMatch(t, want, got)
		// Four waves of five: the longest wave starts with 20..16 ms.
		assert.Less(t, time.Since(start), 80*time.Millisecond)
		return nil
	})
}

// The seeds' example: a pool of 4 running 100 tasks never runs more than 4
// at once, and runs exactly 4 while work is queued.
func TestSeedBoundedConcurrency(t *testing.T) {
	cases := []struct {
		name  string
		spawn func(ctx context.Context, p *pool.Pool, fn func(context.Context) (int, error))
	}{
		{"Spawn", func(ctx context.Context, p *pool.Pool, fn func(context.Context) (int, error)) {
			pool.Spawn(ctx, p, fn)
		}},
		{"ApplyAsync", func(ctx context.Context, p *pool.Pool, fn func(context.Context) (int, error)) {
			pool.ApplyAsync(ctx, p, fn, nil)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				p := pool.New(4)
				running, peak, done := 0, 0, 0
				for range 100 {
					tc.spawn(ctx, p, func(ctx context.Context) (int, error) {
						running++
						peak = max(peak, running)
						defer func() { running--; done++ }()
						return 0, hub.Sleep(ctx, time.Millisecond)
					})
				}
				require.NoError(t, p.Join(ctx))
				assert.Equal(t, 100, done)
				assert.Equal(t, 4, peak)
				assert.Equal(t, 4, p.FreeCount())
				return nil
			})
		})
	}
}

// A ctx bound with hub.NewContext runs members on that hub even when the
// caller is a plain goroutine; pools are usable from several goroutines at
// once.
func TestBoundCtxFromGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hub.MustNew(hub.WithParallelism(2))
		defer func() { require.NoError(t, h.Stop(context.Background())) }()
		p := pool.New(3)
		hctx := hub.NewContext(context.Background(), h) // the members run on h
		var mu sync.Mutex
		running, peak := 0, 0
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				v, err := pool.Apply(hctx, p, func(ctx context.Context) (int, error) {
					assert.Same(t, h, hub.Current(ctx).Hub())
					mu.Lock()
					running++
					peak = max(peak, running)
					mu.Unlock()
					defer func() { mu.Lock(); running--; mu.Unlock() }()
					return i * i, hub.Sleep(ctx, time.Millisecond)
				})
				assert.NoError(t, err)
				assert.Equal(t, i*i, v)
			})
		}
		wg.Wait()
		assert.Equal(t, 3, peak)
		require.NoError(t, p.Join(hctx))
	})
}

// A failure reaches the hub's error handler exactly once unless a caller
// receives it: Spawn and ApplyAsync members are reported, Apply and map items
// are not; a discarded member is reported by spawn itself.
func TestFailureReporting(t *testing.T) {
	errSpawn, errAsync, errApply, errMap, errDiscarded := errors.New("spawn"), errors.New("async"),
		errors.New("apply"), errors.New("map"), errors.New("discarded")
	fail := func(err error) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) { return 0, errors.Join(hub.Yield(ctx), err) }
	}
	log := run(t, func(ctx context.Context) error {
		p := pool.New(2)
		pool.Spawn(ctx, p, fail(errSpawn))
		pool.ApplyAsync(ctx, p, fail(errAsync), func(int) { t.Error("callback on failure") })
		_, err := pool.Apply(ctx, p, fail(errApply))
		assert.ErrorIs(t, err, errApply)
		_, err = pool.Map(ctx, p, []int{1}, func(ctx context.Context, _ int) (int, error) { return fail(errMap)(ctx) })
		assert.ErrorIs(t, err, errMap)
		d := pool.Spawn(ctx, p, fail(errDiscarded))
		p.Discard(d)
		// Join does not wait for a discarded member; joining it (which
		// does not take its error) keeps the hub up until it has failed.
		return errors.Join(p.Join(ctx), d.Join(ctx))
	})
	var got []error
	for _, err := range log.All() {
		for _, want := range []error{errSpawn, errAsync, errApply, errMap, errDiscarded} {
			if errors.Is(err, want) {
				got = append(got, want)
			}
		}
	}
	assert.ElementsMatch(t, []error{errSpawn, errAsync, errDiscarded}, got)
	assert.Len(t, log.All(), 3)
}

// gevent item 38: Get with a deadline on a slower task times out, and the
// task goes on; an ApplyAsync greenlet queued on a full pool whose spawn ctx
// is cancelled never runs and leaves the pool at once.
func TestApplyAsyncTimeoutAndCancel(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		slow := pool.ApplyAsync(ctx, p, func(ctx context.Context) (int, error) {
			return 36, hub.Sleep(ctx, 235*time.Millisecond)
		}, nil)
		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, 35*time.Millisecond)
		_, err := slow.Get(tctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 35*time.Millisecond, time.Since(start))
		assert.False(t, slow.Ready())

		cctx, cancelQueued := context.WithCancel(ctx)
		ran := false
		queued := pool.ApplyAsync(cctx, p, func(context.Context) (int, error) { ran = true; return 0, nil }, nil)
		assert.Equal(t, 2, p.Len())
		cancelQueued()
		require.NoError(t, queued.Join(ctx))
		assert.Equal(t, 1, p.Len())

		v, err := slow.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, 36, v)
		require.NoError(t, hub.Yield(ctx))
		assert.False(t, ran)
		assert.Equal(t, 1, p.FreeCount(), "the cancelled request gave nothing away")
		return nil
	})
}

// Join from a member does not wait for the caller itself.
func TestJoinFromMember(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g pool.Group
		pool.Spawn(ctx, &g, sleeper(20*time.Millisecond))
		joiner := pool.Spawn(ctx, &g, func(ctx context.Context) (int, error) {
			start := time.Now()
			err := g.Join(ctx)
			return int(time.Since(start) / time.Millisecond), err
		})
		v, err := joiner.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, 20, v)
		return nil
	})
}

// Join takes spawn's join options: with RaiseError it still waits for every
// member, then returns the first failure by finishing order, which it
// observes (the hub does not report it); JoinCount changes nothing; a ctx
// that ends first wins.
func TestJoinOptions(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	failAfter := func(d time.Duration, err error) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) { return 0, errors.Join(hub.Sleep(ctx, d), err) }
	}
	log := run(t, func(ctx context.Context) error {
		p := pool.New(3)
		pool.Spawn(ctx, p, sleeper(50*time.Millisecond))
		pool.Spawn(ctx, p, failAfter(20*time.Millisecond, second))
		pool.Spawn(ctx, p, failAfter(10*time.Millisecond, first))
		start := time.Now()
		err := p.Join(ctx, spawn.RaiseError())
		assert.ErrorIs(t, err, first, "the first to fail, not the first added")
		assert.NotErrorIs(t, err, second)
		assert.Equal(t, 50*time.Millisecond, time.Since(start), "waited for every member")
		assert.Equal(t, 0, p.Len())

		pool.Spawn(ctx, p, sleeper(30*time.Millisecond))
		pool.Spawn(ctx, p, sleeper(10*time.Millisecond))
		start = time.Now()
		require.NoError(t, p.Join(ctx, spawn.JoinCount(1)))
		assert.Equal(t, 30*time.Millisecond, time.Since(start), "JoinCount changes nothing")

		pool.Spawn(ctx, p, failAfter(40*time.Millisecond, first))
		tctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		start = time.Now()
		err = p.Join(tctx, spawn.RaiseError())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 5*time.Millisecond, time.Since(start))
		return p.Join(ctx)
	})
	errs := log.All()
	require.Len(t, errs, 2, "only the failures Join did not hand over are reported")
	assert.ErrorIs(t, errs[0], second)
	assert.ErrorIs(t, errs[1], first)
}

// Spawn and Go return only the greenlet. One that got no slot before ctx
// ended never runs and has ended with ErrPoolFull and ctx's cause, whether
// the caller is a greenlet or a plain goroutine; the hub does not report it,
// as it is the caller's. A kill of a caller waiting for a slot lands in Spawn.
func TestSpawnRefused(t *testing.T) {
	log := run(t, func(ctx context.Context) error {
		p := pool.New(1)
		ran := false
		g := pool.Go(ctx, p, func(ctx context.Context) error { ran = true; return hub.Sleep(ctx, time.Hour) })
		require.NoError(t, hub.Yield(ctx))
		assert.True(t, ran)
		assert.NoError(t, g.Err())

		// A plain goroutine.
		done := make(chan *spawn.Greenlet[struct{}])
		gctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
		stop := errors.New("stop")
		go func() {
			done <- pool.Go(hub.NewContext(gctx, hub.For(ctx)), p, func(context.Context) error { t.Error("ran"); return nil })
		}()
		synctest.Wait() // the goroutine waits for a slot
		cancel(stop)
		var refused *spawn.Greenlet[struct{}]
		hub.Blocking(ctx, "test", func(context.Context) error { refused = <-done; return nil })
		assert.True(t, refused.Ready())
		assert.ErrorIs(t, refused.Err(), pool.ErrPoolFull)
		assert.ErrorIs(t, refused.Err(), stop)

		// A greenlet killed while it waits for a slot.
		var inner *spawn.Greenlet[int]
		waiter := spawn.Go(ctx, func(ctx context.Context) error {
			inner = pool.Spawn(ctx, p, func(context.Context) (int, error) { t.Error("ran"); return 0, nil })
			return nil
		})
		require.NoError(t, hub.Yield(ctx))
		require.NoError(t, waiter.Kill(ctx, nil))
		assert.True(t, waiter.Killed())
		assert.Nil(t, inner, "the kill lands in Spawn")
		assert.Equal(t, 1, p.Len())
		return p.Kill(ctx, nil)
	})
	assert.Empty(t, log.All())
}

// Join with RaiseError hands a member's failure to the caller; if its ctx then
// ends while other members still run, that failure is returned beside ctx's
// cause instead of being lost (it is handed over, so the hub does not report
// it either).
func TestJoinRaiseErrorKeepsFailureOnTimeout(t *testing.T) {
	boom := errors.New("boom")
	log := run(t, func(ctx context.Context) error {
		p := pool.New(2)
		pool.Go(ctx, p, func(context.Context) error { return boom })
		slow := pool.Go(ctx, p, func(ctx context.Context) error { return hub.Sleep(ctx, time.Hour) })
		jctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := p.Join(jctx, spawn.RaiseError())
		assert.ErrorIs(t, err, boom)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		slow.KillAsync(nil)
		return p.Join(ctx)
	})
	assert.Empty(t, log.All())
}

// Submit: nil once fn started (its failure goes to the hub's error
// handler, not back to the caller); on a full pool past ctx's deadline an
// error matching ErrPoolFull and the cause, with fn never run and no member
// left behind; from a greenlet whose ctx carries a stopped hub,
// hub.ErrHubStopped.
func TestSubmit(t *testing.T) {
	boom := errors.New("boom")
	log := run(t, func(ctx context.Context) error {
		p := pool.New(1)
		ran := 0
		require.NoError(t, pool.Submit(ctx, p, func(ctx context.Context) error {
			ran++
			if err := hub.Sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
			return boom
		}))
		assert.Equal(t, 1, p.Len())

		start := time.Now()
		tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		err := pool.Submit(tctx, p, func(context.Context) error { ran++; return nil })
		cancel()
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, err, pool.ErrPoolFull)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 1, p.Len(), "the refused function is not a member")

		require.NoError(t, pool.Submit(ctx, p, func(context.Context) error { ran++; return nil }), "waits for the slot")
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		require.NoError(t, p.Join(ctx))
		assert.Equal(t, 2, ran, "the refused function never ran")

		stopped := hub.MustNew()
		require.NoError(t, stopped.Stop(ctx))
		err = pool.Submit(hub.NewContext(ctx, stopped), pool.NewGroup(), func(context.Context) error { ran++; return nil })
		assert.ErrorIs(t, err, hub.ErrHubStopped)
		assert.Equal(t, 2, ran)
		return nil
	})
	errs := log.All()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], boom, "the failure after it ran went to the error handler")
}
