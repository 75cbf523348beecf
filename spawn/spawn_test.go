package spawn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/hubtest"
	"github.com/gevent-go/gevent/spawn"
)

func TestMain(m *testing.M) {
	// IgnoreCurrent: ants starts its package-level default pool at init; the hubs
	// never use it, and every goroutine a test leaves behind is still caught.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// newHub returns a hub stopped at the end of the test, and the log of the
// failures nobody observed.
func newHub(t *testing.T, opts ...hub.Option) (*hub.Hub, *hubtest.ErrLog) {
	t.Helper()
	log := &hubtest.ErrLog{}
	return hubtest.NewHub(t, append([]hub.Option{hub.WithErrorHandler(log.Handle)}, opts...)...), log
}

// run runs body as the main greenlet of a fresh hub.
func run(t *testing.T, body func(ctx context.Context) error, opts ...hub.Option) (*hub.Hub, *hubtest.ErrLog) {
	t.Helper()
	h, log := newHub(t, opts...)
	require.NoError(t, h.Run(context.Background(), body))
	return h, log
}

func value[T any](v T) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { return v, nil }
}

func failing(err error) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return 0, err }
}

// gevent item 1: get() gives the value; links added after death fire; a
// raised error arrives at get() as the same instance.
func TestGetValueAndError(t *testing.T) {
	boom := errors.New("boom")
	run(t, func(ctx context.Context) error {
		g := spawn.Spawn(ctx, value(100))
		v, err := g.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, 100, v)

		var late []int
		g.Link(func(g *spawn.Greenlet[int]) { late = append(late, g.Value()) })
		assert.Equal(t, []int{100}, late, "a link added after death fires")

		f := spawn.Spawn(ctx, failing(boom))
		f.Link(func(*spawn.Greenlet[int]) {})
		_, err = f.Get(ctx)
		assert.Same(t, boom, err)
		return nil
	})
}

// gevent item 3: link_value never fires for a failure, link_exception never
// for a success; a killed greenlet counts as a success.
func TestLinkKinds(t *testing.T) {
	cases := []struct {
		name          string
		fn            func(context.Context) (int, error)
		kill          bool
		wantValueLink bool
		wantErrLink   bool
	}{
		{"success", value(1), false, true, false},
		{"failure", failing(errors.New("x")), false, false, true},
		{"default kill", func(ctx context.Context) (int, error) {
			_ = hub.Sleep(ctx, time.Hour)
			return 1, nil
		}, true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				g := spawn.Spawn(ctx, tc.fn)
				var gotValue, gotErr, gotAny bool
				g.LinkValue(func(*spawn.Greenlet[int]) { gotValue = true })
				g.LinkError(func(*spawn.Greenlet[int]) { gotErr = true })
				g.Link(func(*spawn.Greenlet[int]) { gotAny = true })
				if tc.kill {
					require.NoError(t, hub.Yield(ctx))
					require.NoError(t, g.Kill(ctx, nil))
					assert.True(t, g.Killed())
					assert.Equal(t, 0, g.Value(), "a default kill leaves the zero value")
				} else {
					require.NoError(t, g.Join(ctx))
				}
				assert.Equal(t, tc.wantValueLink, gotValue)
				assert.Equal(t, tc.wantErrLink, gotErr)
				assert.True(t, gotAny)
				return nil
			})
		})
	}
}

// gevent item 4: panicking links are all called and each is reported; a link
// that unlinks a later link prevents that call.
func TestLinkPanicsAndUnlinkMidNotify(t *testing.T) {
	_, log := run(t, func(ctx context.Context) error {
		g := spawn.Spawn(ctx, value(1))
		var calls []int
		for i := range 3 {
			g.Link(func(*spawn.Greenlet[int]) {
				calls = append(calls, i)
				panic(fmt.Sprint("link ", i))
			})
		}
		var later spawn.LinkID
		g.Link(func(g *spawn.Greenlet[int]) { g.Unlink(later) })
		later = g.Link(func(*spawn.Greenlet[int]) { calls = append(calls, 99) })
		require.NoError(t, g.Join(ctx))
		assert.Equal(t, []int{0, 1, 2}, calls)
		return nil
	})
	errs := log.All()
	require.Len(t, errs, 3)
	for i, err := range errs {
		var pe *hub.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, fmt.Sprint("link ", i), pe.Value)
		assert.Contains(t, string(pe.Stack), "spawn_test.go", "the stack shows the panicking link")
	}
}

// gevent item 5: joinall(raise_error) gives all values; the earliest to
// finish with an error wins.
func TestJoinAllRaiseError(t *testing.T) {
	run(t, func(ctx context.Context) error {
		gs := []*spawn.Greenlet[int]{spawn.Spawn(ctx, value(1)), spawn.Spawn(ctx, value(2)), spawn.Spawn(ctx, value(3))}
		done, err := spawn.JoinAll(ctx, gs, spawn.RaiseError())
		require.NoError(t, err)
		var vals []int
		for _, g := range done {
			vals = append(vals, g.Value())
		}
		assert.Equal(t, []int{1, 2, 3}, vals)

		errA, errB := errors.New("a"), errors.New("b")
		a := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			_ = hub.Sleep(ctx, 20*time.Millisecond)
			return 0, errA
		})
		b := spawn.Spawn(ctx, failing(errB))
		_, err = spawn.JoinAll(ctx, []*spawn.Greenlet[int]{a, b}, spawn.RaiseError())
		assert.Same(t, errB, err)
		assert.False(t, a.Ready(), "the others keep running")
		require.NoError(t, a.Join(ctx))
		return nil
	})
}

// gevent item 6: joinall(count=1) returns once the first is done, the sleeper
// still running; duplicates are fine; a ctx deadline returns what finished.
func TestJoinAllCountDuplicatesTimeout(t *testing.T) {
	run(t, func(ctx context.Context) error {
		sleeper := spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, hub.Sleep(ctx, time.Hour) })
		quick := spawn.Spawn(ctx, value(1))
		done, err := spawn.JoinAll(ctx, []spawn.Handle{sleeper, quick}, spawn.JoinCount(1))
		require.NoError(t, err)
		require.Len(t, done, 1)
		assert.Equal(t, quick.ID(), done[0].ID())
		assert.False(t, sleeper.Ready())

		dup, err := spawn.JoinAll(ctx, []*spawn.Greenlet[int]{quick, quick})
		require.NoError(t, err)
		assert.Len(t, dup, 2)

		tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		done, err = spawn.JoinAll(tctx, []spawn.Handle{sleeper, quick})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Len(t, done, 1)
		return sleeper.Kill(ctx, nil)
	})
}

// gevent item 7 and bad input: programmer errors are clear.
func TestBadInput(t *testing.T) {
	h, _ := newHub(t)
	assert.PanicsWithValue(t, "spawn: nil function", func() {
		spawn.Spawn[int](hub.NewContext(context.Background(), h), nil)
	})
	g := spawn.SpawnLater(hub.NewContext(context.Background(), h), -time.Second, value(1))
	_, err := g.Get(context.Background())
	assert.ErrorIs(t, err, hub.ErrNegativeDuration)
	assert.False(t, g.Started())

	var nilG *spawn.Greenlet[int]
	assert.ErrorIs(t, nilG.Join(context.Background()), spawn.ErrNilGreenlet)
	assert.ErrorIs(t, nilG.Kill(context.Background(), nil), spawn.ErrNilGreenlet)
	assert.PanicsWithValue(t, "spawn: JoinAll with a nil entry at index 0", func() {
		spawn.JoinAll(context.Background(), []*spawn.Greenlet[int]{nilG})
	})

	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		self := make(chan *spawn.Greenlet[error], 1)
		g := spawn.Spawn(ctx, func(ctx context.Context) (error, error) {
			return (<-self).Join(ctx), nil
		})
		self <- g
		v, err := g.Get(ctx)
		require.NoError(t, err)
		assert.ErrorIs(t, v, spawn.ErrJoinSelf)
		return nil
	}))

	stopped := hub.MustNew(hub.WithErrorHandler(func(*hub.G, error) {}))
	require.NoError(t, stopped.Stop(context.Background()))
	g2 := spawn.Spawn(hub.NewContext(context.Background(), stopped), value(1))
	_, err = g2.Get(context.Background())
	assert.ErrorIs(t, err, hub.ErrHubStopped)
}

// gevent items 8, 9 and 19: the lifecycle, as (started, ready, successful, value).
func TestLifecycle(t *testing.T) {
	boom := errors.New("boom")
	run(t, func(ctx context.Context) error {
		type st struct {
			started, ready, successful bool
			value                      int
			err                        error
		}
		state := func(g *spawn.Greenlet[int]) st {
			return st{g.Started(), g.Ready(), g.Successful(), g.Value(), g.Err()}
		}
		g := spawn.New(ctx, value(7))
		assert.Equal(t, st{}, state(g), "created")
		g.Start()
		assert.Equal(t, st{}, state(g), "queued, not yet run: the spawner has not yielded")
		require.NoError(t, g.Join(ctx))
		assert.Equal(t, st{true, true, true, 7, nil}, state(g), "finished")
		g.Start()
		require.NoError(t, hub.Yield(ctx))
		assert.Equal(t, st{true, true, true, 7, nil}, state(g), "start after finish does nothing")

		f := spawn.Spawn(ctx, failing(boom))
		require.NoError(t, f.Join(ctx))
		assert.Equal(t, st{true, true, false, 0, boom}, state(f))
		return nil
	})
}

// gevent item 10: a panic comes back from Get as a *hub.PanicError with the
// value and the stack; the unobserved failure is reported exactly once.
func TestPanicBecomesError(t *testing.T) {
	_, log := run(t, func(ctx context.Context) error {
		g := spawn.Spawn(ctx, func(context.Context) (int, error) { panic("kaboom") })
		for !g.Ready() {
			require.NoError(t, hub.Yield(ctx))
		}
		_, err := g.Get(ctx)
		var pe *hub.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "kaboom", pe.Value)
		assert.Contains(t, string(pe.Stack), "spawn_test.TestPanicBecomesError")
		return nil
	})
	require.Len(t, log.All(), 1)
}

// gevent item 11: a child records the greenlet that spawned it.
func TestSpawner(t *testing.T) {
	run(t, func(ctx context.Context) error {
		parent := spawn.Spawn(ctx, func(ctx context.Context) (*hub.G, error) {
			child := spawn.Spawn(ctx, value(1))
			return child.Spawner(), nil
		})
		sp, err := parent.Get(ctx)
		require.NoError(t, err)
		assert.Same(t, parent.G(), sp)
		assert.Nil(t, parent.Spawner(), "the main greenlet's spawner is outside any greenlet")
		return nil
	})
}

// gevent items 13-15: a greenlet killed before it starts never runs; its links
// fire once; it is successful iff the kill had no error. The same after
// StartLater.
func TestKillBeforeStart(t *testing.T) {
	boom := errors.New("boom")
	type killer func(ctx context.Context, g *spawn.Greenlet[int], cause error)
	killers := map[string]killer{
		"KillAsync": func(_ context.Context, g *spawn.Greenlet[int], c error) { g.KillAsync(c) },
		"Kill":      func(ctx context.Context, g *spawn.Greenlet[int], c error) { require.NoError(t, g.Kill(ctx, c)) },
		"KillAll": func(ctx context.Context, g *spawn.Greenlet[int], c error) {
			require.NoError(t, spawn.KillAll(ctx, []*spawn.Greenlet[int]{g}, c))
		},
	}
	starts := map[string]func(g *spawn.Greenlet[int]){
		"spawned": func(g *spawn.Greenlet[int]) { g.Start() },
		"later":   func(g *spawn.Greenlet[int]) { require.NoError(t, g.StartLater(time.Hour)) },
		"created": func(*spawn.Greenlet[int]) {},
	}
	for kname, kill := range killers {
		for sname, start := range starts {
			for _, cause := range []error{nil, boom} {
				t.Run(fmt.Sprint(kname, "/", sname, "/", cause), func(t *testing.T) {
					run(t, func(ctx context.Context) error {
						ran := false
						g := spawn.New(ctx, func(context.Context) (int, error) { ran = true; return 1, nil })
						links := 0
						g.Link(func(*spawn.Greenlet[int]) { links++ })
						start(g)
						kill(ctx, g, cause)
						kill(ctx, g, cause) // a second kill is harmless
						require.NoError(t, g.Join(ctx))
						assert.False(t, ran, "never runs")
						assert.Equal(t, 1, links, "links fire exactly once")
						assert.True(t, g.Ready())
						assert.False(t, g.Started())
						assert.Equal(t, cause == nil, g.Successful())
						_, err := g.Get(ctx)
						assert.Equal(t, cause, err)
						return nil
					})
				})
			}
		}
	}
}

// gevent items 14 and 16: kills of started greenlets land at the next
// cooperative point even when the code ignores errors; deferred calls have
// run when a blocking Kill returns; a kill with an error is a failure.
func TestKillStarted(t *testing.T) {
	boom := errors.New("boom")
	parks := map[string]func(ctx context.Context){
		"sleep": func(ctx context.Context) { _ = hub.Sleep(ctx, time.Hour) },
		"yield": func(ctx context.Context) { _ = hub.Yield(ctx) },
		"join": func(ctx context.Context) {
			_ = spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, hub.Sleep(context.WithoutCancel(ctx), time.Hour) }).Join(ctx)
		},
		"offload": func(ctx context.Context) {
			_, _ = hub.Offload(ctx, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, nil })
		},
	}
	for name, park := range parks {
		for _, cause := range []error{nil, boom} {
			t.Run(fmt.Sprint(name, "/", cause), func(t *testing.T) {
				h, _ := run(t, func(ctx context.Context) error {
					cleaned := false
					loops := 0
					g := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
						defer func() { cleaned = true }()
						for {
							loops++
							park(ctx) // errors ignored on purpose
						}
					})
					require.NoError(t, hub.Sleep(ctx, 5*time.Millisecond))
					require.NoError(t, g.Kill(ctx, cause))
					assert.True(t, cleaned, "deferred calls ran before Kill returned")
					assert.True(t, g.Killed())
					assert.Equal(t, cause == nil, g.Successful())
					_, err := g.Get(ctx)
					assert.Equal(t, cause, err)
					return nil
				})
				// The joined sleeper of the "join" case is still around; the hub's
				// Stop in cleanup kills it.
				_ = h
			})
		}
	}
}

// gevent item 43 / pain point: a greenlet that swallows the kill survives;
// a blocking kill with a deadline returns the deadline's error.
func TestKillSwallowed(t *testing.T) {
	run(t, func(ctx context.Context) error {
		survived := make(chan struct{})
		g := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			func() {
				defer func() {
					if r := recover(); r != nil && !hub.IsKill(r) {
						panic(r)
					}
				}()
				_ = hub.Sleep(ctx, time.Hour)
			}()
			close(survived)
			// The ctx stays cancelled; a detached ctx still sleeps.
			return 5, hub.Sleep(context.WithoutCancel(ctx), 30*time.Millisecond)
		})
		require.NoError(t, hub.Yield(ctx))
		kctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, g.Kill(kctx, nil), context.DeadlineExceeded)
		assert.False(t, g.Ready())
		<-survived
		v, err := g.Get(ctx)
		assert.NoError(t, err)
		assert.Equal(t, 5, v, "a greenlet that swallowed the kill returns normally")
		return nil
	})
}

// gevent item 17: 1000 links fire in registration order; two greenlets doing
// A; sleep(0); B give 1A 2A 1B 2B.
func TestOrder(t *testing.T) {
	run(t, func(ctx context.Context) error {
		g := spawn.Spawn(ctx, value(0))
		var got []int
		for i := range 1000 {
			g.Link(func(*spawn.Greenlet[int]) { got = append(got, i) })
		}
		require.NoError(t, g.Join(ctx))
		for i, v := range got {
			require.Equal(t, i, v)
		}
		require.Len(t, got, 1000)

		var log []string
		var gs []*spawn.Greenlet[int]
		for i := 1; i <= 2; i++ {
			gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
				log = append(log, fmt.Sprint(i, "A"))
				_ = hub.Yield(ctx)
				log = append(log, fmt.Sprint(i, "B"))
				return 0, nil
			}))
		}
		log = append(log, "spawned")
		_, err := spawn.JoinAll(ctx, gs)
		require.NoError(t, err)
		assert.Equal(t, "spawned 1A 2A 1B 2B", strings.Join(log, " "))
		return nil
	})
}

// P = 1 makes greenlets mutually exclusive between cooperative points: plain
// shared variables need no locks, and the race detector agrees.
func TestOneAtATimeSharedState(t *testing.T) {
	run(t, func(ctx context.Context) error {
		counter := 0
		shared := map[int]int{}
		var gs []*spawn.Greenlet[int]
		for i := range 50 {
			gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
				for j := range 100 {
					v := counter
					shared[i] = j
					counter = v + 1 // no interleaving between the read and this write
					if j%10 == 0 {
						_ = hub.Yield(ctx)
					}
				}
				return 0, nil
			}))
		}
		_, err := spawn.JoinAll(ctx, gs)
		require.NoError(t, err)
		assert.Equal(t, 5000, counter)
		assert.Len(t, shared, 50)
		return nil
	})
}

// gevent item 21: a child spawned by a greenlet runs even after that greenlet
// exits. Cancelling the spawn ctx (or killing the spawner) kills children
// spawned with it; WithoutCancel detaches.
func TestChildOutlivesParentAndStructuredKill(t *testing.T) {
	run(t, func(ctx context.Context) error {
		parent := spawn.Spawn(ctx, func(ctx context.Context) (*spawn.Greenlet[int], error) {
			return spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
				return 3, hub.Sleep(ctx, 5*time.Millisecond)
			}), nil
		})
		child, err := parent.Get(ctx)
		require.NoError(t, err)
		v, err := child.Get(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, v)

		var attached, detached *spawn.Greenlet[int]
		p2 := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			attached = spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 1, hub.Sleep(ctx, time.Hour) })
			detached = spawn.Spawn(context.WithoutCancel(ctx), func(ctx context.Context) (int, error) {
				return 2, hub.Sleep(ctx, 10*time.Millisecond)
			})
			return 0, hub.Sleep(ctx, time.Hour)
		})
		require.NoError(t, hub.Yield(ctx))
		boom := errors.New("stop")
		require.NoError(t, p2.Kill(ctx, boom))
		_, err = attached.Get(ctx)
		assert.Same(t, boom, err, "the kill reaches the attached child with the parent's cause")
		v, err = detached.Get(ctx)
		assert.NoError(t, err)
		assert.Equal(t, 2, v)
		return nil
	})
}

// gevent items 22 and 76: nested timeouts: the one that fired is reported by
// its own WithTimeout only.
func TestNestedTimeouts(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var inner error
		_, err := hub.WithTimeout(ctx, 20*time.Millisecond, func(ctx context.Context) (int, error) {
			v, err := hub.WithTimeout(ctx, time.Hour, func(ctx context.Context) (int, error) {
				return 1, hub.Sleep(ctx, time.Hour)
			})
			inner = err
			return v, err
		})
		var te *hub.TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 20*time.Millisecond, te.After, "the outer timeout fired")
		require.ErrorAs(t, inner, &te)
		assert.Equal(t, 20*time.Millisecond, te.After, "the inner one passed the outer's error through, not its own")

		v, err := hub.WithTimeout(ctx, time.Hour, value(9))
		assert.NoError(t, err)
		assert.Equal(t, 9, v)

		// gevent item 23: timers are not starved by a greenlet looping on Yield.
		_, err = hub.WithTimeout(ctx, 10*time.Millisecond, func(ctx context.Context) (int, error) {
			for {
				if err := hub.Yield(ctx); err != nil {
					return 0, err
				}
			}
		})
		assert.ErrorIs(t, err, hub.ErrTimeout)
		return nil
	})
}

// gevent items 25-28: hub.Wait, Wait with count, IWait in ready order.
func TestWaitAndIWait(t *testing.T) {
	h, _ := newHub(t)
	start := time.Now()
	spawn.SpawnLater(hub.NewContext(context.Background(), h), 30*time.Millisecond, value(1))
	require.NoError(t, h.Wait(context.Background()))
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.NoError(t, h.Wait(context.Background()), "wait can be repeated")

	long := spawn.SpawnLater(hub.NewContext(context.Background(), h), time.Hour, value(1))
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.Error(t, h.Wait(wctx))
	long.KillAsync(nil)

	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		sleeps := []time.Duration{30, 10, 20}
		var gs []*spawn.Greenlet[time.Duration]
		for _, d := range sleeps {
			gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (time.Duration, error) {
				return d, hub.Sleep(ctx, d*time.Millisecond)
			}))
		}
		var order []time.Duration
		for g, err := range spawn.IWait(ctx, gs) {
			require.NoError(t, err)
			order = append(order, g.Value())
		}
		assert.Equal(t, []time.Duration{10, 20, 30}, order)

		// A ctx that ends first: IWait yields its cause once, then ends.
		slow := spawn.Spawn(ctx, func(ctx context.Context) (time.Duration, error) { return 0, hub.Sleep(ctx, time.Hour) })
		short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		var errs []error
		for g, err := range spawn.IWait(short, []*spawn.Greenlet[time.Duration]{slow}) {
			assert.Nil(t, g)
			errs = append(errs, err)
		}
		cancel()
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], context.DeadlineExceeded)
		slow.KillAsync(nil)

		gs = gs[:0]
		for _, d := range sleeps {
			gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (time.Duration, error) {
				return d, hub.Sleep(ctx, d*time.Millisecond)
			}))
		}
		first, _ := spawn.Wait(ctx, gs, 2)
		require.Len(t, first, 2)
		assert.Equal(t, time.Duration(10), first[0].Value())
		assert.Equal(t, time.Duration(20), first[1].Value())
		for g := range spawn.IWait(ctx, gs) {
			if g.Value() == 10 {
				break // leaving early unsubscribes
			}
		}
		return spawn.KillAll(ctx, gs, nil)
	}))
}

// The main greenlet's body follows gevent's ordering; Run returns its error.
func TestRunMain(t *testing.T) {
	h, _ := newHub(t)
	boom := errors.New("main failed")
	var log []string
	err := h.Run(context.Background(), func(ctx context.Context) error {
		spawn.Spawn(ctx, func(ctx context.Context) (int, error) { log = append(log, "child"); return 0, nil })
		log = append(log, "main before yield")
		_ = hub.Yield(ctx)
		log = append(log, "main after yield")
		return boom
	})
	assert.Same(t, boom, err)
	assert.Equal(t, []string{"main before yield", "child", "main after yield"}, log)
}

// Greenlets can be used from plain goroutines: Join and Get block the usual
// Go way.
func TestFromPlainGoroutines(t *testing.T) {
	h, _ := newHub(t, hub.WithParallelism(2))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
				return i * i, hub.Sleep(ctx, time.Millisecond)
			})
			v, err := g.Get(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, i*i, v)
		}()
	}
	wg.Wait()
}

// The hub's capacity bounds live greenlets; the others wait, ready.
func TestCapacity(t *testing.T) {
	run(t, func(ctx context.Context) error {
		live, peak := 0, 0
		var gs []*spawn.Greenlet[int]
		for range 20 {
			gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
				live++
				peak = max(peak, live)
				_ = hub.Sleep(ctx, time.Millisecond)
				live--
				return 0, nil
			}))
		}
		_, err := spawn.JoinAll(ctx, gs)
		require.NoError(t, err)
		// The main greenlet is live too.
		assert.LessOrEqual(t, peak, 3)
		assert.GreaterOrEqual(t, peak, 1)
		return nil
	}, hub.WithCapacity(4))
}

// gevent items 2, 26, 28 and 60: greenlets, events and async results can be
// waited on together; an AsyncResult is a link target; links can feed a
// queue.
func TestWaitOnPrimitivesAndLinkTargets(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ev := &hub.Event{}
		ar := new(hub.AsyncResult[int])
		g := spawn.SpawnLater(ctx, 20*time.Millisecond, value(1))
		spawn.SpawnLater(ctx, 5*time.Millisecond, func(ctx context.Context) (int, error) { ev.Set(); return 0, nil })
		spawn.SpawnLater(ctx, 10*time.Millisecond, func(ctx context.Context) (int, error) { ar.Set(7); return 0, nil })
		ready, _ := spawn.Wait(ctx, []spawn.Waitable{g, ar, ev}, 2)
		require.Len(t, ready, 2)
		assert.Same(t, ev, ready[0])
		assert.Same(t, ar, ready[1])
		again, _ := spawn.Wait(ctx, []spawn.Waitable{ev}, 0)
		assert.Len(t, again, 1, "waiting on a ready object returns at once")

		// AsyncResult as a link target: the value or the error, per link kind.
		boom := errors.New("boom")
		okRes, errRes := new(hub.AsyncResult[int]), new(hub.AsyncResult[int])
		ok := spawn.Spawn(ctx, value(100))
		ok.LinkValue(func(g *spawn.Greenlet[int]) { okRes.Settle(g.Value(), g.Err()) })
		bad := spawn.Spawn(ctx, failing(boom))
		bad.LinkError(func(g *spawn.Greenlet[int]) { errRes.Settle(g.Value(), g.Err()) })
		v, err := okRes.Get(ctx)
		assert.NoError(t, err)
		assert.Equal(t, 100, v)
		_, err = errRes.Get(ctx)
		assert.Same(t, boom, err)

		// Three greenlets linked to one queue deliver all three.
		q := hub.NewQueue[*spawn.Greenlet[int]](0)
		for i := range 3 {
			spawn.Spawn(ctx, value(i)).Link(func(g *spawn.Greenlet[int]) { _ = q.Put(ctx, g) })
		}
		sum := 0
		for range 3 {
			g, err := q.Get(ctx)
			require.NoError(t, err)
			sum += g.Value()
		}
		assert.Equal(t, 3, sum)
		return nil
	})
}

// gevent items 27 and 65: semaphores and locks can be waited on; waiting on a
// free one returns at once; a release that frees a permit wakes the waiter.
func TestWaitOnSemaphoresAndLocks(t *testing.T) {
	run(t, func(ctx context.Context) error {
		free := hub.NewSemaphore(1)
		got, _ := spawn.Wait(ctx, []spawn.Waitable{free}, 0)
		assert.Len(t, got, 1, "a free semaphore is ready at once")

		s1, s2 := hub.NewSemaphore(1), hub.NewSemaphore(1)
		require.NoError(t, s1.Acquire(ctx))
		require.NoError(t, s2.Acquire(ctx))
		var lock hub.Lock
		require.NoError(t, lock.Lock(ctx))
		spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			_ = hub.Sleep(ctx, 5*time.Millisecond)
			s2.Release()
			_ = hub.Sleep(ctx, 5*time.Millisecond)
			return 0, lock.Unlock()
		})
		var order []spawn.Waitable
		for w := range spawn.IWait(ctx, []spawn.Waitable{s1, &lock, s2}) {
			order = append(order, w)
			if len(order) == 2 {
				break
			}
		}
		require.Len(t, order, 2)
		assert.Same(t, s2, order[0])
		assert.Same(t, &lock, order[1])
		assert.False(t, s1.Ready())
		s1.Release()
		assert.True(t, s1.Ready())
		return nil
	})
}

// A Queue can be waited on, with greenlets and the other primitives: it is
// ready when an item is in it (or it is shut down).
func TestWaitOnQueue(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q, other := hub.NewQueue[string](0), hub.NewQueue[string](0)
		g := spawn.SpawnLater(ctx, time.Hour, value(1))
		defer g.KillAsync(nil)
		spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, q.Put(ctx, "item") })
		ready, _ := spawn.Wait(ctx, []spawn.Waitable{g, other, q}, 1)
		require.Len(t, ready, 1)
		assert.Same(t, q, ready[0])
		v, err := q.TryGet()
		assert.Equal(t, "item", v)
		assert.NoError(t, err)

		other.Shutdown()
		ready, _ = spawn.Wait(ctx, []spawn.Waitable{q, other}, 1)
		require.Len(t, ready, 1)
		assert.Same(t, other, ready[0], "a shut-down queue is ready: Get fails at once")
		return nil
	})
}

// Go runs a value-less function as a greenlet; its error is the greenlet's.
func TestGo(t *testing.T) {
	h, _ := newHub(t)
	ctx := hub.NewContext(context.Background(), h)
	ran := false
	g := spawn.Go(ctx, func(ctx context.Context) error { ran = true; return nil })
	_, err := g.Get(ctx)
	require.NoError(t, err)
	assert.True(t, ran)
	boom := errors.New("boom")
	_, err = spawn.Go(ctx, func(context.Context) error { return boom }).Get(ctx)
	assert.ErrorIs(t, err, boom)
	assert.PanicsWithValue(t, "spawn: nil function", func() { spawn.Go(ctx, nil) })
}

// JoinAll with RaiseError hands the first failure to the caller; another
// failure that happens while it waits is not swallowed: it is reported once
// JoinAll returns (before, every member counted as observed).
func TestRaiseErrorReportsTheOthers(t *testing.T) {
	first, second, third := errors.New("first"), errors.New("second"), errors.New("third")
	_, log := run(t, func(ctx context.Context) error {
		a := spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, first })
		b := spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, second }) // fails in the same window
		_, err := spawn.JoinAll(ctx, []*spawn.Greenlet[int]{a, b}, spawn.RaiseError())
		assert.ErrorIs(t, err, first)
		c := spawn.Spawn(ctx, func(ctx context.Context) (int, error) { return 0, third })
		_, err = spawn.JoinAll(ctx, []*spawn.Greenlet[int]{a, c}, spawn.RaiseError())
		assert.ErrorIs(t, err, first, "a is ready and failed: returned at once, c not handed")
		_, err = spawn.JoinAll(ctx, []*spawn.Greenlet[int]{c})
		return err
	})
	reported := log.All()
	require.Len(t, reported, 2, "b's and c's failures, handed to nobody, are reported once each")
	assert.ErrorIs(t, reported[0], second)
	assert.ErrorIs(t, reported[1], third)
}
