package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// IgnoreCurrent: ants starts its package-level default pool at init; the
	// hubs never use it, and every goroutine a test leaves behind is caught.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

func newHub(t *testing.T, opts ...Option) *Hub {
	t.Helper()
	h := MustNew(opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Stop(ctx))
	})
	return h
}

// spawnFn starts fn as a greenlet of h and returns a channel that yields its
// outcome.
func spawnFn(ctx context.Context, h *Hub, name string, fn func(ctx context.Context) error) (*G, <-chan sched.Outcome) {
	out := make(chan sched.Outcome, 1)
	g := h.spawn(ctx, sched.Task{Name: name, Run: fn, Done: func(_ context.Context, o sched.Outcome) { out <- o }})
	return g, out
}

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		opt  Option
		want error
	}{
		{"parallelism 0", WithParallelism(0), errInvalid},
		{"negative monitor", WithMonitor(-time.Second, nil), ErrNegativeDuration},
		{"nil logger", WithLogger(nil), errInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opt)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "hub: "), err.Error())
		})
	}
}

func TestNegativeDurations(t *testing.T) {
	h := newHub(t)
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		assert.ErrorIs(t, Sleep(ctx, -time.Millisecond), ErrNegativeDuration)
		_, err := WithTimeout(ctx, -1, func(context.Context) (int, error) { t.Error("must not run"); return 0, nil })
		assert.ErrorIs(t, err, ErrNegativeDuration)
		g := h.newGreenlet(ctx, sched.Task{Run: func(context.Context) error { return nil }})
		assert.ErrorIs(t, g.startLater(-time.Second), ErrNegativeDuration)
		return nil
	}))
	assert.ErrorIs(t, Sleep(context.Background(), -1), ErrNegativeDuration)
	assert.PanicsWithValue(t, "hub: nil greenlet function", func() { h.spawn(context.Background(), sched.Task{}) })
}

// Sleepers wake in deadline order, ties in the order they went to sleep.
func TestSleepOrder(t *testing.T) {
	h := newHub(t)
	var log []int
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		for i, d := range []int{30, 10, 20, 10} {
			h.spawn(ctx, sched.Task{Run: func(ctx context.Context) error {
				if err := Sleep(ctx, time.Duration(d)*time.Millisecond); err != nil {
					return err
				}
				log = append(log, i)
				return nil
			}})
		}
		return nil
	}))
	require.NoError(t, h.Wait(context.Background()))
	assert.Equal(t, []int{1, 3, 2, 0}, log)
}

// A hub created inside a synctest bubble runs on the fake clock: an hour of
// sleeping takes no real time, and the order of wake-ups still holds.
func TestSynctestFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := MustNew()
		start := time.Now()
		var woke []time.Duration
		require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
			for _, d := range []time.Duration{time.Hour, time.Minute} {
				h.spawn(ctx, sched.Task{Run: func(ctx context.Context) error {
					if err := Sleep(ctx, d); err != nil {
						return err
					}
					woke = append(woke, time.Since(start))
					return nil
				}})
			}
			return nil
		}))
		require.NoError(t, h.Wait(context.Background()))
		assert.Equal(t, []time.Duration{time.Minute, time.Hour}, woke)
		require.NoError(t, h.Stop(context.Background()))
	})
}

// With P = 2, two greenlets run at once; with P = 1, never.
func TestParallelism(t *testing.T) {
	for _, p := range []int{1, 2} {
		t.Run(fmt.Sprint("P=", p), func(t *testing.T) {
			h := newHub(t, WithParallelism(p), WithMonitor(0, nil))
			var running, peak atomic.Int32
			var outs []<-chan sched.Outcome
			for range 4 {
				_, out := spawnFn(context.Background(), h, "", func(ctx context.Context) error {
					n := running.Add(1)
					for {
						if cur := peak.Load(); n <= cur || peak.CompareAndSwap(cur, n) {
							break
						}
					}
					// Hold the token a little, non-cooperatively, so overlap
					// can show if the hub allowed it.
					deadline := time.Now().Add(20 * time.Millisecond)
					for time.Now().Before(deadline) && peak.Load() < int32(p) {
					}
					running.Add(-1)
					return nil
				})
				outs = append(outs, out)
			}
			for _, o := range outs {
				require.NoError(t, (<-o).Err)
			}
			assert.Equal(t, int32(p), peak.Load())
		})
	}
}

func TestMonitorReportsBlockedGreenlet(t *testing.T) {
	cases := []struct {
		name  string
		block func(ch chan struct{})
		frame string
	}{
		{"time.Sleep", func(chan struct{}) { time.Sleep(150 * time.Millisecond) }, "time.Sleep"},
		{"channel", func(ch chan struct{}) { <-ch }, "chanrecv"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reports := make(chan BlockedReport, 4)
			h := newHub(t, WithMonitor(50*time.Millisecond, func(r BlockedReport) { reports <- r }))
			ch := make(chan struct{})
			_, out := spawnFn(context.Background(), h, "offender", func(ctx context.Context) error {
				tc.block(ch)
				return nil
			})
			r := <-reports
			close(ch)
			require.NoError(t, (<-out).Err)
			assert.Equal(t, "offender", r.Name)
			assert.GreaterOrEqual(t, r.Blocked, 50*time.Millisecond)
			assert.Contains(t, r.Stack, tc.frame)
			assert.Contains(t, r.String(), "appears to be blocked")
			select {
			case extra := <-reports:
				t.Fatalf("one stall reported twice: %v", extra)
			default:
			}
		})
	}
}

// Offload keeps the hub live while a blocking call runs: another greenlet
// makes progress meanwhile.
func TestOffloadKeepsHubLive(t *testing.T) {
	h := newHub(t)
	release := make(chan struct{})
	ticks := 0
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		ticker := h.spawn(ctx, sched.Task{Run: func(ctx context.Context) error {
			for ticks < 3 {
				if err := Sleep(ctx, time.Millisecond); err != nil {
					return err
				}
				ticks++
			}
			close(release)
			return nil
		}})
		v, err := Offload(ctx, func(context.Context) (string, error) {
			<-release // a plain channel wait: would deadlock at P = 1 without Offload
			return "done", nil
		})
		require.NoError(t, err)
		assert.Equal(t, "done", v)
		<-ticker.Dead()
		return nil
	}))
	assert.Equal(t, 3, ticks)
}

func TestOffloadPanicBecomesError(t *testing.T) {
	h := newHub(t)
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		_, err := Offload(ctx, func(context.Context) (int, error) { panic("offloaded") })
		var pe *PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "offloaded", pe.Value)
		return nil
	}))
}

func TestStatsAndDump(t *testing.T) {
	h := newHub(t)
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		parent := h.spawn(ctx, sched.Task{Name: "parent", Run: func(ctx context.Context) error {
			h.spawn(ctx, sched.Task{Name: "child", Run: func(ctx context.Context) error { return Sleep(ctx, time.Hour) }})
			return Sleep(ctx, time.Hour)
		}})
		require.NoError(t, Yield(ctx))
		require.NoError(t, Yield(ctx))
		s := h.Stats()
		assert.Equal(t, 3, s.Live)
		assert.Equal(t, 1, s.Running)
		assert.Equal(t, 2, s.Parked)
		assert.Equal(t, uint64(3), s.Spawned)
		assert.Positive(t, s.Switches)

		var b bytes.Buffer
		require.NoError(t, h.Dump(&b))
		dump := b.String()
		assert.Contains(t, dump, `"main" running`)
		assert.Contains(t, dump, `|    +--- #`, "the child is nested under its spawner")
		assert.Regexp(t, `\|    \+--- #\d+ "parent" parked on sleep\n\|    \|    \+--- #\d+ "child" parked on sleep`, dump)
		parent.Kill(nil)
		return nil
	}))
}

// Stop kills what is live (including never-started and delayed greenlets),
// waits for it, and leaves no goroutine behind; Spawn afterwards fails fast.
func TestStop(t *testing.T) {
	h := MustNew()
	cleaned := make(chan struct{})
	var outs []<-chan sched.Outcome
	_, o := spawnFn(context.Background(), h, "sleeper", func(ctx context.Context) error {
		defer close(cleaned)
		return Sleep(ctx, time.Hour)
	})
	outs = append(outs, o)
	g := h.newGreenlet(context.Background(), sched.Task{Run: func(context.Context) error { return nil }})
	require.NoError(t, g.startLater(time.Hour))
	for !(h.Stats().Parked == 1) {
		runtime.Gosched()
	}
	require.NoError(t, h.Stop(context.Background()))
	<-cleaned
	out := <-outs[0]
	assert.True(t, out.Killed)
	assert.ErrorIs(t, out.Err, ErrHubStopped)
	assert.Equal(t, StateDead, g.State())
	assert.False(t, g.Started())
	require.NoError(t, h.Stop(context.Background()), "idempotent")

	_, o = spawnFn(context.Background(), h, "late", func(context.Context) error { t.Error("ran after stop"); return nil })
	assert.ErrorIs(t, (<-o).Err, ErrHubStopped)
}

// Stop gives up at its deadline when a greenlet refuses to die, and says so.
func TestStopDeadline(t *testing.T) {
	h := MustNew(WithMonitor(0, nil))
	release := make(chan struct{})
	_, out := spawnFn(context.Background(), h, "stubborn", func(ctx context.Context) error {
		Blocking(ctx, "stubborn", func(context.Context) error { <-release; return nil })
		return nil
	})
	for h.Stats().Parked != 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, h.Stop(ctx), context.DeadlineExceeded)
	close(release)
	assert.True(t, (<-out).Killed)
	require.NoError(t, h.Stop(context.Background()))
}

// A failure nobody observes reaches the error handler; the default handler
// logs it with the greenlet's name.
func TestUnobservedFailureIsLogged(t *testing.T) {
	var buf syncBuffer
	h := newHub(t, WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	g := h.spawn(context.Background(), sched.Task{Name: "doomed", Run: func(context.Context) error { return errors.New("nobody listens") }})
	<-g.Dead()
	assert.Contains(t, buf.String(), "nobody listens")
	assert.Contains(t, buf.String(), "doomed")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Kill lands in Blocking after fn returns, and in a Waiter wait at once.
func TestKillLandsInWaiter(t *testing.T) {
	h := newHub(t)
	w := make(chan *Waiter, 1)
	g, out := spawnFn(context.Background(), h, "", func(ctx context.Context) error {
		wt := NewWaiter(ctx)
		w <- wt
		_ = wt.Wait(ctx, "test") // error ignored on purpose
		Checkpoint(ctx)          // the kill lands here at the latest
		t.Error("survived the kill")
		return nil
	})
	wt := <-w
	for g.State() != StateParked {
		runtime.Gosched()
	}
	g.Kill(nil)
	o := <-out
	assert.True(t, o.Killed)
	assert.False(t, wt.Wake(), "a cancelled waiter cannot be woken: the wake-up goes elsewhere")
}

func TestCurrentAndFor(t *testing.T) {
	assert.Nil(t, Current(context.Background()))
	assert.Nil(t, Current(nil))
	h := newHub(t)
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		assert.Same(t, h, For(ctx))
		g := Current(ctx)
		require.NotNil(t, g)
		assert.Equal(t, "main", g.Name())
		derived, cancel := context.WithCancel(ctx)
		defer cancel()
		assert.Same(t, g, Current(derived))
		return nil
	}))
}

// A panic inside Blocking's fn unwinds with the token taken back: the
// greenlet's deferred calls run, the failure is recorded, and the hub keeps
// scheduling.
func TestBlockingPanic(t *testing.T) {
	h := newHub(t)
	deferred := false
	_, out := spawnFn(context.Background(), h, "", func(ctx context.Context) error {
		defer func() { deferred = true }()
		Blocking(ctx, "boom", func(context.Context) error { panic("inside blocking") })
		return nil
	})
	o := <-out
	var pe *PanicError
	require.ErrorAs(t, o.Err, &pe)
	assert.Equal(t, "inside blocking", pe.Value)
	assert.True(t, deferred)
	_, out = spawnFn(context.Background(), h, "", func(ctx context.Context) error { return Sleep(ctx, time.Millisecond) })
	assert.NoError(t, (<-out).Err, "the hub still schedules")
}

// Detach hides the greenlet but keeps values and cancellation.
func TestDetach(t *testing.T) {
	h := newHub(t)
	type key struct{}
	var detachedCtx context.Context
	g, out := spawnFn(context.WithValue(context.Background(), key{}, "v"), h, "", func(ctx context.Context) error {
		detachedCtx = Detach(ctx)
		assert.Nil(t, Current(detachedCtx))
		assert.Equal(t, "v", detachedCtx.Value(key{}))
		return Sleep(ctx, time.Hour)
	})
	for g.State() != StateParked {
		runtime.Gosched()
	}
	g.Kill(nil)
	<-out
	<-detachedCtx.Done()
	assert.ErrorIs(t, context.Cause(detachedCtx), ErrKilled)
	assert.Equal(t, context.Background(), Detach(context.Background()))
}

// The monitor reports the greenlet's own goroutine even when goroutines it
// started carry the hub's profiler label too, down to the greenlet's own
// function: runtime frames of the stall on top, no scheduler frames below.
func TestMonitorStackIgnoresChildGoroutines(t *testing.T) {
	reports := make(chan BlockedReport, 1)
	h := newHub(t, WithMonitor(50*time.Millisecond, func(r BlockedReport) { reports <- r }))
	childRunning := make(chan struct{})
	release := make(chan struct{})
	_, out := spawnFn(context.Background(), h, "parent", func(ctx context.Context) error {
		go func() { close(childRunning); <-release }() // inherits the label
		<-childRunning
		<-release // the stall: a bare receive in the greenlet itself
		return nil
	})
	r := <-reports
	close(release)
	<-out
	assert.Contains(t, r.Stack, "TestMonitorStackIgnoresChildGoroutines.func2\n")
	assert.Contains(t, r.Stack, "runtime.chanrecv1\n")
	assert.NotContains(t, r.Stack, "hub.(*Hub)")
	assert.NotContains(t, r.Stack, "iter.Pull")
}

// runtime.Goexit inside a greenlet (what t.FailNow does) ends that greenlet
// with ErrGoexit; its deferred calls run and the hub goes on scheduling.
func TestGoexitInGreenlet(t *testing.T) {
	h := newHub(t)
	deferred := false
	_, out := spawnFn(context.Background(), h, "", func(ctx context.Context) error {
		defer func() { deferred = true }()
		runtime.Goexit()
		return nil
	})
	o := <-out
	assert.ErrorIs(t, o.Err, ErrGoexit)
	assert.True(t, deferred)
	_, out = spawnFn(context.Background(), h, "", func(ctx context.Context) error { return Sleep(ctx, time.Millisecond) })
	assert.NoError(t, (<-out).Err, "the hub still schedules")
	assert.NoError(t, h.Wait(context.Background()))
}

// A hub starts no goroutine until a greenlet is started on it: asking the
// default hub for its stats (as monkey's late-patch check does) costs none.
func TestNewStartsNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	h := MustNew()
	_ = h.Stats()
	goleak.VerifyNone(t, before)
	_, out := spawnFn(context.Background(), h, "", func(context.Context) error { return nil })
	<-out
	require.NoError(t, h.Stop(context.Background()))
	goleak.VerifyNone(t, before)
}

// A semaphore's subscribers fire once, only when a release leaves a permit
// free (not when it hands the permit to a waiter), and not after cancel.
func TestSemaphoreSubscribe(t *testing.T) {
	s := NewSemaphore(1)
	require.True(t, s.TryAcquire())
	var fired, cancelledFired atomic.Int32
	s.Subscribe(func() { fired.Add(1) })
	cancel := s.Subscribe(func() { cancelledFired.Add(1) })
	cancel()

	acquired := make(chan struct{})
	go func() {
		assert.NoError(t, s.Acquire(context.Background()))
		close(acquired)
	}()
	for {
		s.p.mu.Lock()
		n := s.p.waiters.n
		s.p.mu.Unlock()
		if n == 1 {
			break
		}
		runtime.Gosched()
	}
	s.Release() // handed to the waiter: still no free permit
	<-acquired
	assert.Zero(t, fired.Load())
	s.Release() // now a permit is free
	assert.Equal(t, int32(1), fired.Load())
	s.Release() // over-release (allowed for Semaphore): subscribers fired once only
	assert.Equal(t, int32(1), fired.Load())
	assert.Zero(t, cancelledFired.Load())
	assert.PanicsWithValue(t, "hub: Subscribe with a nil function", func() { s.Subscribe(nil) })
}

func TestNewContextChoosesHub(t *testing.T) {
	a, b := newHub(t), newHub(t)
	assert.Same(t, Default(), For(context.Background()))
	assert.Same(t, b, For(NewContext(context.Background(), b)))
	assert.PanicsWithValue(t, "hub: NewContext with a nil hub", func() { NewContext(context.Background(), nil) })
	require.NoError(t, a.Run(context.Background(), func(ctx context.Context) error {
		assert.Same(t, a, For(ctx), "a greenlet's ctx is bound to its hub")
		assert.Same(t, a, For(Detach(ctx)), "a detached ctx keeps the hub")
		bound := NewContext(ctx, b)
		assert.Same(t, b, For(bound), "the nearest binding wins")
		assert.Same(t, Current(ctx), Current(bound), "binding keeps the greenlet")
		_, done := spawnFn(bound, For(bound), "on-b", func(ctx context.Context) error {
			assert.Same(t, b, For(ctx))
			assert.Same(t, a, For(NewContext(ctx, a)))
			return nil
		})
		o := <-done
		return o.Err
	}))
}
