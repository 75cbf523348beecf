package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the coroutine scheduler's rules and of kills, waits and stops
// that must never lie or hang.

var errCause = errors.New("the kill's cause")

// A kill from outside the greenlet's hub, landing while the greenlet runs
// through cooperative points, always ends it with the kill's cause. (The
// killed flag used to be visible before the cause: the kill could land with
// a nil cause and the greenlet end as a success.)
func TestKillCauseNeverLost(t *testing.T) {
	other := newHub(t)
	killers := map[string]func(g *G, cancel context.CancelCauseFunc){
		"plain goroutine":  func(g *G, _ context.CancelCauseFunc) { g.Kill(errCause) },
		"spawn ctx cancel": func(_ *G, cancel context.CancelCauseFunc) { cancel(errCause) },
		"another hub's greenlet": func(g *G, _ context.CancelCauseFunc) {
			_, out := spawnFn(context.Background(), other, "killer", func(context.Context) error {
				g.Kill(errCause)
				return nil
			})
			<-out
		},
	}
	for name, kill := range killers {
		t.Run(name, func(t *testing.T) {
			h := newHub(t)
			for range 300 {
				ctx, cancel := context.WithCancelCause(context.Background())
				running := make(chan struct{})
				g, out := spawnFn(ctx, h, "victim", func(ctx context.Context) error {
					close(running)
					for {
						Yield(ctx)
						Checkpoint(ctx)
					}
				})
				// Another greenlet keeps the victim switching.
				_, busy := spawnFn(context.Background(), h, "busy", func(ctx context.Context) error {
					for range 50 {
						Yield(ctx)
					}
					return nil
				})
				<-running
				kill(g, cancel)
				o := <-out
				<-busy
				cancel(nil)
				require.True(t, o.Killed)
				require.ErrorIs(t, o.Err, errCause)
			}
		})
	}
}

// A kill that arrives while the greenlet is in Offload, whose fn returns as
// soon as its ctx is cancelled, lands when Offload returns: the greenlet
// never carries on past it. fn's ctx carries no greenlet.
func TestOffloadKillLands(t *testing.T) {
	h := newHub(t)
	for range 300 {
		inFn := make(chan struct{})
		var carriedOn atomic.Bool
		g, out := spawnFn(context.Background(), h, "", func(ctx context.Context) error {
			_, err := Offload(ctx, func(ctx context.Context) (int, error) {
				if Current(ctx) != nil {
					return 0, errors.New("fn's ctx carries the greenlet")
				}
				assert.NoError(t, Checkpoint(ctx)) // no kill state touched from here
				close(inFn)
				<-ctx.Done()
				return 0, ctx.Err()
			})
			carriedOn.Store(true)
			return err
		})
		<-inFn
		g.Kill(errCause)
		o := <-out
		require.False(t, carriedOn.Load(), "the greenlet carried on past Offload")
		require.True(t, o.Killed)
		require.ErrorIs(t, o.Err, errCause)
	}
}

// Offload runs at most its bound of calls at once; greenlets beyond it wait
// cooperatively (the hub keeps running others).
func TestOffloadBound(t *testing.T) {
	h := newHub(t, WithOffload(2, 0))
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	var ticks atomic.Int32
	run(t, h, func(ctx context.Context) error {
		var gs []*G
		for range 6 {
			g, _ := spawnFn(ctx, h, "", func(ctx context.Context) error {
				_, err := Offload(ctx, func(context.Context) (struct{}, error) {
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					<-release
					inFlight.Add(-1)
					return struct{}{}, nil
				})
				return err
			})
			gs = append(gs, g)
		}
		ticker, _ := spawnFn(ctx, h, "ticker", func(ctx context.Context) error {
			for ticks.Load() < 100 {
				ticks.Add(1)
				if err := Yield(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		for inFlight.Load() < 2 {
			if err := Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
		}
		join(ctx, ticker) // the hub runs the ticker to its end meanwhile
		close(release)
		for _, g := range gs {
			join(ctx, g)
		}
		return nil
	})
	assert.Equal(t, int32(2), peak.Load())
	assert.Equal(t, int32(100), ticks.Load())
}

// Hub.Wait and Hub.Stop of hub B called from a greenlet of hub A wait
// cooperatively: A's other greenlets keep running.
func TestWaitOtherHubIsCooperative(t *testing.T) {
	a, b := newHub(t), newHub(t)
	release := &Event{}
	_, bOut := spawnFn(context.Background(), b, "b", func(ctx context.Context) error {
		release.Wait(ctx)
		return nil
	})
	var ran atomic.Int32
	run(t, a, func(ctx context.Context) error {
		spawnFn(ctx, a, "counter", func(ctx context.Context) error {
			for range 10 {
				ran.Add(1)
				Yield(ctx)
			}
			release.Set()
			return nil
		})
		if b.Wait(ctx) != nil {
			return errors.New("b.Wait gave up")
		}
		return nil
	})
	<-bOut
	assert.Equal(t, int32(10), ran.Load(), "hub A ran its other greenlet while waiting for B")

	c := MustNew()
	_, cOut := spawnFn(context.Background(), c, "c", func(ctx context.Context) error {
		return Sleep(ctx, time.Hour)
	})
	run(t, a, func(ctx context.Context) error {
		counter, _ := spawnFn(ctx, a, "counter", func(ctx context.Context) error {
			for range 10 {
				ran.Add(1)
				Yield(ctx)
			}
			return nil
		})
		if err := c.Stop(ctx); err != nil {
			return err
		}
		join(ctx, counter)
		return nil
	})
	o := <-cOut
	assert.ErrorIs(t, o.Err, ErrHubStopped)
	assert.Equal(t, int32(20), ran.Load())
}

// Sleepers wake in deadline order under load: none due later runs before
// the last of thousands due earlier (the timer used to re-arm before waking,
// so two firings could overlap).
func TestTimersDeadlineOrderUnderLoad(t *testing.T) {
	h := newHub(t, WithMonitor(0, nil))
	const early, late = 3000, 50
	// gap: Sleep is relative, so an OS stall between a sleeper's
	// time.Until and its timer entry moves its deadline by the stall (seen
	// at 5 ms on a loaded machine); 20 ms makes that rare, while 3000
	// wake-ups still take about that long under -race, so the old bug
	// (overlapping firings) would still show.
	const gap = 20 * time.Millisecond
	var order []int // 0 = due at T, 1 = due at T+gap
	run(t, h, func(ctx context.Context) error {
		// T is far enough ahead for a loaded machine to start every sleeper
		// before it; the late ones are spawned only once all the early ones
		// are parked in the heap (P = 1: an early greenlet that counted
		// itself has entered Sleep before the spawner runs again), so a slow
		// start cannot make an early sleeper arrive after a late one.
		base := time.Now().Add(time.Second)
		parked := 0
		sleeper := func(due time.Time, kind int) sched.Task {
			return sched.Task{Run: func(ctx context.Context) error {
				parked++
				if err := Sleep(ctx, time.Until(due)); err != nil {
					return err
				}
				order = append(order, kind)
				return nil
			}}
		}
		for range early {
			h.spawn(ctx, sleeper(base, 0))
		}
		for parked < early {
			if err := Yield(ctx); err != nil {
				return err
			}
		}
		if time.Until(base) <= 0 {
			return errors.New("the early sleepers took longer than a second to start")
		}
		for range late {
			h.spawn(ctx, sleeper(base.Add(gap), 1))
		}
		if err := h.Wait(ctx); err != nil {
			return fmt.Errorf("wait gave up: %w", err)
		}
		return nil
	})
	require.Len(t, order, early+late)
	firstLate := -1
	for i, k := range order {
		if k == 1 && firstLate < 0 {
			firstLate = i
		}
		if k == 0 && firstLate >= 0 {
			t.Fatalf("a sleeper due at T woke at %d, after one due at T+%v woke at %d", i, gap, firstLate)
		}
	}
}

// Greenlets started later by the timer start in their deadline order.
func TestSpawnLaterOrder(t *testing.T) {
	h := newHub(t)
	for range 20 {
		var order []int
		run(t, h, func(ctx context.Context) error {
			var gs []*G
			for i := range 3 {
				g := h.newGreenlet(ctx, sched.Task{Run: func(context.Context) error {
					order = append(order, i)
					return nil
				}})
				require.NoError(t, g.startLater(time.Duration(i+1)*time.Millisecond))
				gs = append(gs, g)
			}
			for _, g := range gs {
				join(ctx, g)
			}
			return nil
		})
		require.Equal(t, []int{0, 1, 2}, order)
	}
}

// The timer-first rule: a greenlet woken by its timer runs ahead of
// greenlets queued before the timer fired (gevent runs due timers between
// batches of callbacks); among themselves, queued greenlets stay FIFO.
func TestTimerWakeRunsAheadOfQueued(t *testing.T) {
	h := newHub(t, WithMonitor(0, nil))
	var order []string
	run(t, h, func(ctx context.Context) error {
		h.spawn(ctx, sched.Task{Run: func(ctx context.Context) error {
			if err := Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
			order = append(order, "sleeper")
			return nil
		}})
		if err := Yield(ctx); err != nil { // the sleeper parks
			return err
		}
		for i := range 3 {
			h.spawn(ctx, sched.Task{Run: func(context.Context) error {
				order = append(order, fmt.Sprint("queued", i))
				return nil
			}})
		}
		// Hold the token until the sleeper's timer has queued it behind
		// the three (a stall on purpose: only the timer can move now).
		for h.Stats().Ready < 4 {
			runtime.Gosched()
		}
		if h.Wait(ctx) != nil {
			return errors.New("wait gave up")
		}
		return nil
	})
	assert.Equal(t, []string{"sleeper", "queued0", "queued1", "queued2"}, order)
}

// A greenlet killed before it ran ends on its hub: its Done (and so its
// links) run there, with a ctx that carries the greenlet without its kill,
// so a cooperative wait in Done works and the killer is never blocked.
func TestKilledBeforeStartEndsOnHub(t *testing.T) {
	h := newHub(t)
	q := NewQueue[int](1)
	require.NoError(t, q.Put(context.Background(), 0)) // full
	doneRan := make(chan error, 1)
	g := h.newGreenlet(context.Background(), sched.Task{
		Run: func(context.Context) error { t.Error("a greenlet killed before it ran must never run"); return nil },
		Done: func(ctx context.Context, o sched.Outcome) {
			if running(ctx) == nil {
				doneRan <- errors.New("Done's ctx does not carry the running greenlet")
				return
			}
			// Waits cooperatively for room.
			doneRan <- errors.Join(q.Put(ctx, 42), o.Err)
		},
	})
	assert.True(t, g.Kill(errCause)) // returns at once: the link waits on the hub
	assert.False(t, g.Started())
	v, err := q.Get(context.Background())
	require.NoError(t, err)
	assert.Zero(t, v)
	v, err = q.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 42, v)
	assert.ErrorIs(t, <-doneRan, errCause)
	<-g.Dead()
	assert.False(t, g.Started())
}

// Greenlets killed while they wait for live capacity end at once, without
// waiting for capacity.
func TestKilledWhileWaitingForCapacity(t *testing.T) {
	h := newHub(t, WithCapacity(1))
	hold := &Event{}
	_, holder := spawnFn(context.Background(), h, "holder", func(ctx context.Context) error {
		hold.Wait(ctx)
		return nil
	})
	var outs []<-chan sched.Outcome
	var gs []*G
	for range 5 {
		g, out := spawnFn(context.Background(), h, "", func(context.Context) error {
			t.Error("must not run")
			return nil
		})
		gs, outs = append(gs, g), append(outs, out)
	}
	for h.Stats().Ready < 5 {
		runtime.Gosched()
	}
	for _, g := range gs {
		g.Kill(nil)
	}
	for _, out := range outs {
		o := <-out
		assert.True(t, o.Killed)
		assert.False(t, o.Started)
	}
	hold.Set()
	<-holder
}

// Spawner is nil once the spawner has died, as documented.
func TestSpawnerNilAfterDeath(t *testing.T) {
	h := newHub(t)
	var child *G
	run(t, h, func(ctx context.Context) error {
		child = h.spawn(ctx, sched.Task{Run: func(ctx context.Context) error { return Sleep(ctx, 5*time.Millisecond) }})
		assert.Equal(t, Current(ctx), child.Spawner())
		return nil
	})
	assert.Nil(t, child.Spawner())
	<-child.Dead()
}

// A reused Waiter never takes a wake-up or cancel meant for an earlier
// wait: a late ctx cancel of one wait must not cut the next one short.
func TestWaiterReuseIgnoresOldGenerations(t *testing.T) {
	h := newHub(t)
	var never Event
	run(t, h, func(ctx context.Context) error {
		for i := range 2000 {
			wctx, cancel := context.WithTimeout(ctx, time.Duration(i%3)*time.Microsecond)
			never.Wait(wctx) // times out; its watcher may still be firing
			cancel()
			if err := Sleep(ctx, time.Microsecond); err != nil {
				return fmt.Errorf("round %d: sleep cut short: %w", i, err)
			}
			var ev Event
			spawnFn(ctx, h, "", func(context.Context) error { ev.Set(); return nil })
			if ev.Wait(ctx) != nil {
				return fmt.Errorf("round %d: wait cut short", i)
			}
		}
		return nil
	})
}

// A panic and a runtime.Goexit in greenlets never take the hub down; each
// ends its greenlet, and the drivers keep resuming the others (P = 1 and 2).
func TestDriverSurvivesPanicAndGoexit(t *testing.T) {
	for _, p := range []int{1, 2} {
		t.Run(fmt.Sprint("P=", p), func(t *testing.T) {
			h := newHub(t, WithParallelism(p))
			var outs []<-chan sched.Outcome
			for i := range 20 {
				_, out := spawnFn(context.Background(), h, "", func(ctx context.Context) error {
					Yield(ctx)
					switch i % 3 {
					case 0:
						panic("boom")
					case 1:
						runtime.Goexit()
					}
					return Sleep(ctx, time.Millisecond)
				})
				outs = append(outs, out)
			}
			for i, out := range outs {
				o := <-out
				switch i % 3 {
				case 0:
					var pe *PanicError
					assert.ErrorAs(t, o.Err, &pe)
				case 1:
					assert.ErrorIs(t, o.Err, ErrGoexit)
				default:
					assert.NoError(t, o.Err)
				}
			}
			assert.NoError(t, h.Wait(context.Background()))
		})
	}
}

// Stop reports the greenlets it killed in one line, not one error each.
func TestStopLogsOneSummary(t *testing.T) {
	var buf syncBuffer
	h := MustNew(WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	for range 1000 {
		h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error { return Sleep(ctx, time.Hour) }})
	}
	for h.Stats().Parked < 1000 {
		runtime.Gosched()
	}
	require.NoError(t, h.Stop(context.Background()))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 1, buf.String())
	assert.Contains(t, lines[0], "count=1000")
}

// Stop returns by its ctx's deadline even when a greenlet will not die.
func TestStopBoundedByDeadline(t *testing.T) {
	h := MustNew()
	release := make(chan struct{})
	spawnFn(context.Background(), h, "stubborn", func(ctx context.Context) error {
		Blocking(ctx, "stubborn", func(context.Context) error { <-release; return nil }) // ignores the kill until released
		return nil
	})
	for h.Stats().Parked < 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := h.Stop(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)
	close(release)
	require.NoError(t, h.Stop(context.Background()))
}

// The monitor names the trap behind a stall.
func TestMonitorHints(t *testing.T) {
	cases := map[string]struct {
		stall func(ctx context.Context, release chan struct{})
		hint  string
	}{
		"ctx without greenlet": {func(_ context.Context, release chan struct{}) {
			var ev Event
			go func() { <-release; ev.Set() }()
			ev.Wait(context.Background())
		}, "ctx that carries no greenlet"},
		"bare channel": {func(_ context.Context, release chan struct{}) { <-release }, "bare channel receive"},
		"computing in hub calls": {func(ctx context.Context, release chan struct{}) {
			for {
				select {
				case <-release:
					return
				default:
					Checkpoint(ctx) // hub frames, but nothing blocks
				}
			}
		}, "long computation"},
		"time.Sleep": {func(_ context.Context, release chan struct{}) {
			for {
				select {
				case <-release:
					return
				default:
					time.Sleep(time.Millisecond)
				}
			}
		}, "hub.Sleep"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reports := make(chan BlockedReport, 1)
			h := newHub(t, WithMonitor(30*time.Millisecond, func(r BlockedReport) {
				select {
				case reports <- r:
				default:
				}
			}))
			release := make(chan struct{})
			_, out := spawnFn(context.Background(), h, "stall", func(ctx context.Context) error {
				tc.stall(ctx, release)
				return nil
			})
			r := <-reports
			close(release)
			<-out
			assert.Contains(t, r.Hint, tc.hint)
			assert.Contains(t, r.String(), "hint: ")
			assert.NotContains(t, r.Stack, "iter.Pull")
		})
	}
}

// When every greenlet waits on something only another greenlet could end,
// the monitor says so once (gevent's LoopExit), naming the waits.
func TestMonitorReportsLoopExit(t *testing.T) {
	reports := make(chan BlockedReport, 4)
	h := newHub(t, WithMonitor(10*time.Millisecond, func(r BlockedReport) { reports <- r }))
	var ev Event
	q := NewQueue[int](0)
	_, a := spawnFn(context.Background(), h, "waiter", func(ctx context.Context) error { ev.Wait(ctx); return nil })
	_, b := spawnFn(context.Background(), h, "getter", func(ctx context.Context) error { _, err := q.Get(ctx); return err })
	r := <-reports
	assert.Nil(t, r.Greenlet)
	assert.Len(t, r.Waits, 2)
	assert.Contains(t, r.String(), "waiter")
	assert.Contains(t, r.String(), "queue.get")
	ev.Set()
	require.NoError(t, q.Put(context.Background(), 1))
	<-a
	<-b
	select {
	case r := <-reports:
		t.Fatalf("a second report: %v", r)
	default:
	}
}

// The documented LockOSThread rule: a greenlet holding a thread lock across
// a cooperative point kills the process with the message the package doc
// quotes (checked in a child process), and the documented alternative,
// Offload with the lock inside fn, works.
func TestLockOSThreadRule(t *testing.T) {
	if os.Getenv("HUB_LOCKED_YIELD") == "1" {
		h := MustNew()
		h.Run(context.Background(), func(ctx context.Context) error {
			spawnFn(ctx, h, "", func(context.Context) error { return nil })
			runtime.LockOSThread()
			return Yield(ctx) // the runtime throws here
		})
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockOSThreadRule$")
	cmd.Env = append(os.Environ(), "HUB_LOCKED_YIELD=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child survived a locked switch:\n%s", out)
	assert.Contains(t, string(out), "coro: OS thread locking must match locking at coroutine creation")

	h := newHub(t)
	run(t, h, func(ctx context.Context) error {
		_, err := Offload(ctx, func(context.Context) (int, error) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			return 0, nil
		})
		if err != nil {
			return err
		}
		return Yield(ctx)
	})
}

// Waiter.Park: a cancelled wait runs undo before the kill lands (deferred
// calls see it done, code after Park does not run); a wait woken before
// the kill reached it returns nil, so what the waker handed over is taken,
// and the kill lands at the next cooperative point; a ctx that ends runs
// undo and returns its cause without a kill.
func TestWaiterPark(t *testing.T) {
	t.Run("kill", func(t *testing.T) {
		h := newTestHub(t)
		var undone, sawUndo, after bool
		run(t, h, func(ctx context.Context) error {
			g := spawn(ctx, h, "parker", func(ctx context.Context) error {
				defer func() { sawUndo = undone }()
				w := NewWaiter(ctx)
				_ = w.Park(ctx, "test.park", func() { undone = true })
				after = true
				return nil
			})
			require.NoError(t, Yield(ctx)) // g parks
			require.Equal(t, StateParked, g.State())
			g.Kill(nil)
			join(ctx, g)
			return nil
		})
		assert.True(t, undone, "undo ran")
		assert.True(t, sawUndo, "undo ran before the deferred calls")
		assert.False(t, after, "the kill landed in Park")
	})
	t.Run("woken then killed", func(t *testing.T) {
		h := newTestHub(t)
		var w *Waiter
		var got, undone, afterCheckpoint bool
		run(t, h, func(ctx context.Context) error {
			g := spawn(ctx, h, "parker", func(ctx context.Context) error {
				w = NewWaiter(ctx)
				if err := w.Park(ctx, "test.park", func() { undone = true }); err == nil {
					got = true
				}
				_ = Checkpoint(ctx)
				afterCheckpoint = true
				return nil
			})
			require.NoError(t, Yield(ctx))
			require.True(t, w.Wake())
			g.Kill(nil) // before g runs again: the wake-up came first
			join(ctx, g)
			assert.True(t, g.Killed())
			return nil
		})
		assert.True(t, got, "Park returned nil: the wake-up is not lost")
		assert.False(t, undone, "no undo after a wake-up")
		assert.False(t, afterCheckpoint, "the kill landed at the next checkpoint")
	})
	t.Run("ctx", func(t *testing.T) {
		h := newTestHub(t)
		cause := errors.New("enough")
		run(t, h, func(ctx context.Context) error {
			var cancel context.CancelCauseFunc
			undone := false
			g := spawn(ctx, h, "parker", func(ctx context.Context) error {
				var cctx context.Context
				cctx, cancel = context.WithCancelCause(ctx)
				err := NewWaiter(cctx).Park(cctx, "test.park", func() { undone = true })
				assert.ErrorIs(t, err, cause)
				assert.True(t, undone)
				return nil
			})
			require.NoError(t, Yield(ctx))
			cancel(cause)
			join(ctx, g)
			assert.False(t, g.Killed())
			return nil
		})
	})
}
