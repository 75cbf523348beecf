package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
)

// waiting returns the number of entries in s's wait list.
func (s *signal) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters.n
}

// gevent test__event: an event set by a spawned setter makes wait() return
// true; after clear(), a short wait returns false (item 57).
func TestEventSetBySpawnedGreenlet(t *testing.T) {
	h := newTestHub(t)
	var e Event
	run(t, h, func(ctx context.Context) error {
		spawn(ctx, h, "setter", func(ctx context.Context) error {
			if err := Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
			e.Set()
			return nil
		})
		if e.Wait(ctx) != nil || !e.IsSet() || !e.Ready() {
			t.Error("Wait after a Set: want true and the flag raised")
		}
		e.Clear()
		if e.IsSet() {
			t.Error("IsSet after Clear")
		}
		if e.Wait(timeout(t, ctx, 10*time.Millisecond)) == nil {
			t.Error("Wait on a cleared event that nobody sets returned true")
		}
		return nil
	})
}

// gevent: Event().wait(timeout=.2), AsyncResult().wait(timeout=.2) and
// AsyncResult().get(timeout=.2) return after about 0.2 s, without raising
// (items 56, 59). Run on synctest's fake clock, so the bound is exact.
func TestEventWaitTimeout(t *testing.T) {
	const d = 200 * time.Millisecond
	cases := []struct {
		name string
		wait func(ctx context.Context) (ok bool, err error)
	}{
		{"Event.Wait", func(ctx context.Context) (bool, error) {
			var e Event
			return e.Wait(ctx) == nil, nil
		}},
		{"AsyncResult.Wait", func(ctx context.Context) (bool, error) {
			var r AsyncResult[int]
			v, err := r.Wait(ctx)
			return err == nil || v != 0, nil
		}},
		{"AsyncResult.Get", func(ctx context.Context) (bool, error) {
			var r AsyncResult[int]
			_, err := r.Get(ctx)
			return err == nil, err
		}},
	}
	for _, tc := range cases {
		for _, where := range []string{"greenlet", "goroutine"} {
			t.Run(tc.name+"/"+where, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := newBubbleHub(t)
					check := func(ctx context.Context) error {
						start := time.Now()
						ok, err := tc.wait(timeout(t, ctx, d))
						if ok {
							t.Error("wait succeeded; want a timeout")
						}
						if err != nil && !errors.Is(err, context.DeadlineExceeded) {
							t.Errorf("err = %v, want DeadlineExceeded", err)
						}
						if got := time.Since(start); got != d {
							t.Errorf("returned after %v, want %v", got, d)
						}
						return nil
					}
					if where == "greenlet" {
						run(t, h, check)
					} else {
						check(context.Background())
					}
				})
			})
		}
	}
}

// gevent test__event: set-then-clear with 1, 100 or 1000 waiters wakes all of
// them, and each wait returns true (item 61).
func TestEventSetThenClearWakesAll(t *testing.T) {
	for _, n := range []int{1, 100, 1000} {
		t.Run("", func(t *testing.T) {
			h := newTestHub(t)
			var e Event
			run(t, h, func(ctx context.Context) error {
				got := 0
				for range n {
					spawn(ctx, h, "waiter", func(ctx context.Context) error {
						if e.Wait(ctx) == nil {
							got++
						}
						return nil
					})
				}
				Yield(ctx) // every waiter runs and parks
				if w := e.s.waiting(); w != n {
					t.Fatalf("%d waiting, want %d", w, n)
				}
				e.Set()
				e.Clear()
				if h.Wait(timeout(t, ctx, 10*time.Second)) != nil {
					t.Fatal("waiters did not finish")
				}
				if got != n {
					t.Errorf("%d of %d waiters saw true", got, n)
				}
				return nil
			})
		})
	}
}

// Waiters wake in the order they began to wait, which here is the reverse of
// the order they were spawned in.
func TestEventWakesFIFO(t *testing.T) {
	h := newTestHub(t)
	var e Event
	run(t, h, func(ctx context.Context) error {
		var woke []int
		for i := range 5 {
			spawn(ctx, h, "waiter", func(ctx context.Context) error {
				for e.s.waiting() < 4-i { // waiter i begins after 4-i others
					if err := Yield(ctx); err != nil {
						return err
					}
				}
				if e.Wait(ctx) == nil {
					woke = append(woke, i)
				}
				return nil
			})
		}
		for e.s.waiting() < 5 {
			Yield(ctx)
		}
		e.Set()
		h.Wait(ctx)
		if want := []int{4, 3, 2, 1, 0}; !slices.Equal(woke, want) {
			t.Errorf("woke %v, want %v", woke, want)
		}
		return nil
	})
}

// gevent test__event wait_while_notifying: a caller whose wait() finds the
// event set while the waiters woken by that set have not run yet runs after
// them: [1, 2, 3] (item 62). With nothing pending, a wait on a set event
// does not switch at all.
func TestEventWaitOnSetEventDoesNotJumpAhead(t *testing.T) {
	h := newTestHub(t)
	var e Event
	run(t, h, func(ctx context.Context) error {
		var results []int
		waitThenAppend := func(ctx context.Context, i int) {
			e.Wait(ctx)
			results = append(results, i)
		}
		for i := 1; i <= 2; i++ {
			spawn(ctx, h, "waiter", func(ctx context.Context) error {
				waitThenAppend(ctx, i)
				return nil
			})
		}
		Yield(ctx)
		if w := e.s.waiting(); w != 2 {
			t.Fatalf("%d waiting, want 2", w)
		}
		e.Set()
		waitThenAppend(ctx, 3)
		if want := []int{1, 2, 3}; !slices.Equal(results, want) {
			t.Errorf("results %v, want %v", results, want)
		}

		// Nothing pending now: Wait returns without letting anyone run.
		ran := false
		spawn(ctx, h, "bystander", func(context.Context) error { ran = true; return nil })
		before := h.Stats().Switches
		if e.Wait(ctx) != nil {
			t.Error("Wait on a set event returned false")
		}
		if ran || h.Stats().Switches != before {
			t.Error("Wait on a set event with nothing pending switched")
		}
		return nil
	})
}

// Subscribers are called once, in order with the waiters; at once when
// already set; never after cancel.
func TestEventSubscribe(t *testing.T) {
	h := newTestHub(t)
	var e Event
	run(t, h, func(ctx context.Context) error {
		var log []string
		spawn(ctx, h, "waiter", func(ctx context.Context) error {
			e.Wait(ctx)
			log = append(log, "waiter")
			return nil
		})
		Yield(ctx)
		e.Subscribe(func() { log = append(log, "sub1") })
		cancel := e.Subscribe(func() { log = append(log, "cancelled") })
		e.Subscribe(func() { log = append(log, "sub2") })
		cancel()
		cancel() // idempotent
		if w := e.s.waiting(); w != 3 {
			t.Errorf("%d waiting after a cancel, want 3", w)
		}
		e.Set()
		e.Set() // a second Set notifies nobody again
		log = append(log, "after set")
		e.Subscribe(func() { log = append(log, "late") })()
		Yield(ctx)
		// The subscribers run on the setter's goroutine during Set; the
		// woken waiter runs when the setter yields.
		want := []string{"sub1", "sub2", "after set", "late", "waiter"}
		if !slices.Equal(log, want) {
			t.Errorf("log %v, want %v", log, want)
		}
		mustPanic(t, func() { e.Subscribe(nil) })
		return nil
	})
}

// A panicking subscriber does not strand the waiters and subscribers
// after it: they are notified, then the panic reaches the setter.
func TestEventSubscriberPanic(t *testing.T) {
	h := newTestHub(t)
	var e Event
	run(t, h, func(ctx context.Context) error {
		var log []string
		e.Subscribe(func() { log = append(log, "before") })
		e.Subscribe(func() { panic("boom") })
		spawn(ctx, h, "waiter", func(ctx context.Context) error {
			if e.Wait(ctx) == nil {
				log = append(log, "waiter")
			}
			return nil
		})
		Yield(ctx)
		e.Subscribe(func() { log = append(log, "after") })
		if msg := mustPanic(t, e.Set); msg != "boom" {
			t.Errorf("panic %q, want boom", msg)
		}
		h.Wait(ctx)
		if want := []string{"before", "after", "waiter"}; !slices.Equal(log, want) {
			t.Errorf("log %v, want %v", log, want)
		}
		return nil
	})
}

// gevent test__event (cross-thread, item 63): a plain goroutine waiting on an
// Event is woken by a greenlet's Set, and a greenlet by a goroutine's Set.
func TestEventAcrossGoroutines(t *testing.T) {
	h := newTestHub(t)
	var toGoroutine, toGreenlet Event
	done := make(chan error)
	go func() {
		err := toGoroutine.Wait(context.Background())
		toGreenlet.Set()
		done <- err
	}()
	run(t, h, func(ctx context.Context) error {
		toGoroutine.Set()
		if toGreenlet.Wait(timeout(t, ctx, 10*time.Second)) != nil {
			t.Error("greenlet not woken by the goroutine's Set")
		}
		return nil
	})
	if <-done != nil {
		t.Error("goroutine not woken by the greenlet's Set")
	}
}

// gevent test__event and test__semaphore (items 63, 67), with two hubs
// standing for two threads with their own hubs: a greenlet of one hub waiting
// on an Event, a Queue and a Semaphore is woken by a greenlet of the other.
func TestPrimitivesAcrossHubs(t *testing.T) {
	h1, h2 := newTestHub(t), newTestHub(t)
	var e Event
	q := NewQueue[int](1)
	s := NewSemaphore(0)
	done := make(chan []string, 1)
	waiter := h1.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
		var got []string
		if e.Wait(ctx) == nil {
			got = append(got, "event")
		}
		if v, err := q.Get(ctx); err == nil {
			got = append(got, fmt.Sprint("queue ", v))
		}
		if s.Acquire(ctx) == nil {
			got = append(got, "semaphore")
		}
		done <- got
		return nil
	}})
	waitParked(t, waiter)
	run(t, h2, func(ctx context.Context) error {
		e.Set()
		return q.Put(ctx, 5)
	})
	waitParked(t, waiter)
	s.Release()
	if got := <-done; !slices.Equal(got, []string{"event", "queue 5", "semaphore"}) {
		t.Errorf("woken by %v", got)
	}
	<-waiter.Dead()
}

// gevent test__event: set_exception wakes a waiter whose get() raises it;
// before that, nothing is stored (item 58). A set wakes get() with the
// value; a second set overwrites, as in gevent.
func TestAsyncResultSetAndGet(t *testing.T) {
	cases := []struct {
		name    string
		settle  func(r *AsyncResult[string])
		wantV   string
		wantErr error
	}{
		{"Set", func(r *AsyncResult[string]) { r.Set("v") }, "v", nil},
		{"SetError", func(r *AsyncResult[string]) { r.SetError(errTest) }, "", errTest},
		{"Settle value", func(r *AsyncResult[string]) { r.Settle("v", nil) }, "v", nil},
		{"Settle error drops the value", func(r *AsyncResult[string]) { r.Settle("v", errTest) }, "", errTest},
		{"second Set overwrites", func(r *AsyncResult[string]) { r.Set("a"); r.Set("b") }, "b", nil},
		{"SetError after Set", func(r *AsyncResult[string]) { r.Set("a"); r.SetError(errTest) }, "", errTest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHub(t)
			var r AsyncResult[string]
			run(t, h, func(ctx context.Context) error {
				if r.Ready() || r.Successful() || r.Err() != nil || r.Value() != "" {
					t.Error("fresh AsyncResult is not empty")
				}
				var gotV string
				var gotErr error
				g := spawn(ctx, h, "getter", func(ctx context.Context) error {
					gotV, gotErr = r.Get(ctx)
					return nil
				})
				Yield(ctx)
				tc.settle(&r)
				join(ctx, g)
				if gotV != tc.wantV || gotErr != tc.wantErr {
					t.Errorf("Get = %q, %v; want %q, %v", gotV, gotErr, tc.wantV, tc.wantErr)
				}
				if !r.Ready() || r.Successful() != (tc.wantErr == nil) || r.Err() != tc.wantErr || r.Value() != tc.wantV {
					t.Errorf("Ready %v Successful %v Err %v Value %q", r.Ready(), r.Successful(), r.Err(), r.Value())
				}
				v, err := r.Wait(ctx)
				if err != nil || v != tc.wantV {
					t.Errorf("Wait = %q, %v; want %q, nil", v, err, tc.wantV)
				}
				// Ready: Get returns at once even with a done ctx.
				done, cancel := context.WithCancel(ctx)
				cancel()
				if v, err := r.Get(done); v != tc.wantV || err != tc.wantErr {
					t.Errorf("Get with done ctx = %q, %v", v, err)
				}
				return nil
			})
		})
	}
}

// gevent: a get() interrupted by Timeout(0, exc) raises exc (item 59): the
// ctx's cause comes back.
func TestAsyncResultGetReturnsCtxCause(t *testing.T) {
	h := newTestHub(t)
	var r AsyncResult[int]
	run(t, h, func(ctx context.Context) error {
		c, cancel := context.WithCancelCause(ctx)
		cancel(errTest)
		if _, err := r.Get(c); err != errTest {
			t.Errorf("Get = %v, want the ctx's cause", err)
		}
		if _, err := r.Wait(c); err == nil {
			t.Error("Wait on an unset result reported ready")
		}
		_, err := WithTimeout(ctx, time.Millisecond, func(ctx context.Context) (int, error) {
			return r.Get(ctx)
		})
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("WithTimeout(Get) = %v; want a timeout", err)
		}
		mustPanic(t, func() { r.SetError(nil) })
		return nil
	})
}

// gevent test__event: an AsyncResult used as a link target receives the
// value or the error of the greenlet (item 60). The spawn package's links
// call Settle; here the hub's Task.Done does.
func TestAsyncResultAsLinkTarget(t *testing.T) {
	cases := []struct {
		name    string
		run     func(ctx context.Context) (int, error)
		wantV   int
		wantErr error
	}{
		{"value", func(context.Context) (int, error) { return 42, nil }, 42, nil},
		{"error", func(context.Context) (int, error) { return 0, errTest }, 0, errTest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHub(t)
			var r AsyncResult[int]
			run(t, h, func(ctx context.Context) error {
				var v int
				h.spawn(ctx, sched.Task{
					Run: func(ctx context.Context) (err error) {
						v, err = tc.run(ctx)
						return err
					},
					Done: func(_ context.Context, o sched.Outcome) { r.Settle(v, o.Err) },
				})
				got, err := r.Get(ctx)
				if got != tc.wantV || err != tc.wantErr {
					t.Errorf("Get = %d, %v; want %d, %v", got, err, tc.wantV, tc.wantErr)
				}
				return nil
			})
		})
	}
}

func TestAsyncResultSubscribe(t *testing.T) {
	var r AsyncResult[int]
	calls := 0
	cancel := r.Subscribe(func() { calls++ })
	dropped := r.Subscribe(func() { t.Error("cancelled subscriber called") })
	dropped()
	r.Set(1)
	r.Set(2)
	cancel() // after the call: no effect
	if calls != 1 {
		t.Errorf("subscriber called %d times, want 1", calls)
	}
	r.Subscribe(func() { calls++ })
	if calls != 2 {
		t.Error("subscriber of a ready result not called at once")
	}
}
