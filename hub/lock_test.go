package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
)

// gevent test__semaphore (item 64): Semaphore(0).acquire(timeout=.01) gives
// up after the timeout without raising: here Acquire returns the ctx's error.
func TestSemaphoreAcquireTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newBubbleHub(t)
		s := NewSemaphore(0)
		run(t, h, func(ctx context.Context) error {
			start := time.Now()
			err := s.Acquire(timeout(t, ctx, 10*time.Millisecond))
			if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 10*time.Millisecond {
				t.Errorf("Acquire = %v after %v; want DeadlineExceeded after 10ms", err, time.Since(start))
			}
			if s.Available() != 0 {
				t.Errorf("Available %d after a failed Acquire", s.Available())
			}
			return nil
		})
	})
}

// gevent lock_tests (item 68): Semaphore(-1) is an error; acquire(False) on
// value 2 gives True, True, False; BoundedSemaphore refuses a release past its
// initial value; an RLock nests; an unowned or foreign release fails.
func TestLockBasics(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context)
	}{
		{"negative counts panic", func(t *testing.T, ctx context.Context) {
			if msg := mustPanic(t, func() { NewSemaphore(-1) }); msg != "hub: negative semaphore count -1" {
				t.Errorf("panic %q", msg)
			}
			if msg := mustPanic(t, func() { NewBoundedSemaphore(-2) }); msg != "hub: negative semaphore count -2" {
				t.Errorf("panic %q", msg)
			}
		}},
		{"TryAcquire on 2", func(t *testing.T, ctx context.Context) {
			s := NewSemaphore(2)
			got := []bool{s.TryAcquire(), s.TryAcquire(), s.TryAcquire()}
			if !slices.Equal(got, []bool{true, true, false}) {
				t.Errorf("got %v", got)
			}
		}},
		{"Semaphore may over-release", func(t *testing.T, ctx context.Context) {
			s := NewSemaphore(1)
			s.Release()
			if s.Available() != 2 || !s.TryAcquire() || !s.TryAcquire() || s.TryAcquire() {
				t.Errorf("over-released Semaphore: Available %d", s.Available())
			}
			var zero Semaphore
			if zero.TryAcquire() {
				t.Error("zero Semaphore had a permit")
			}
			zero.Release()
			if !zero.TryAcquire() {
				t.Error("zero Semaphore after a Release had no permit")
			}
		}},
		{"BoundedSemaphore refuses over-release", func(t *testing.T, ctx context.Context) {
			s := NewBoundedSemaphore(2)
			if err := s.Release(); !errors.Is(err, ErrOverRelease) {
				t.Errorf("Release of a full BoundedSemaphore: %v", err)
			}
			s.Acquire(ctx)
			if err := s.Release(); err != nil {
				t.Errorf("Release after Acquire: %v", err)
			}
			if err := s.Release(); !errors.Is(err, ErrOverRelease) || s.Available() != 2 {
				t.Errorf("second Release: %v, Available %d", err, s.Available())
			}
		}},
		{"Lock", func(t *testing.T, ctx context.Context) {
			var l Lock
			if err := l.Unlock(); !errors.Is(err, ErrNotLocked) {
				t.Errorf("Unlock of a free Lock: %v", err)
			}
			if err := l.Lock(ctx); err != nil || l.TryLock() {
				t.Errorf("Lock %v, then TryLock succeeded", err)
			}
			if err := l.Unlock(); err != nil || !l.TryLock() {
				t.Errorf("Unlock %v, then TryLock failed", err)
			}
		}},
		{"RLock nests", func(t *testing.T, ctx context.Context) {
			var r RLock
			for range 3 {
				if err := r.Lock(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if !r.TryLock(ctx) {
				t.Error("TryLock by the holder failed")
			}
			for i := range 4 {
				if err := r.Unlock(ctx); err != nil {
					t.Fatalf("Unlock %d: %v", i, err)
				}
			}
			if err := r.Unlock(ctx); !errors.Is(err, ErrNotLocked) {
				t.Errorf("Unlock of an unlocked RLock: %v", err)
			}
		}},
		{"RLock foreign release", func(t *testing.T, ctx context.Context) {
			var r RLock
			r.Lock(ctx)
			h := Current(ctx).Hub()
			var err error
			var got bool
			g := spawn(ctx, h, "foreigner", func(ctx context.Context) error {
				err = r.Unlock(ctx)
				got = r.TryLock(ctx)
				return nil
			})
			join(ctx, g)
			if !errors.Is(err, ErrNotOwner) || got {
				t.Errorf("foreign Unlock: %v; foreign TryLock: %v", err, got)
			}
			if err := r.Unlock(context.Background()); !errors.Is(err, ErrNotOwner) {
				t.Errorf("Unlock from outside any greenlet: %v", err)
			}
			if err := r.Unlock(ctx); err != nil {
				t.Errorf("owner's Unlock: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHub(t)
			run(t, h, func(ctx context.Context) error { tc.fn(t, ctx); return nil })
		})
	}
}

// Outside any greenlet an RLock is a plain lock shared by all such callers.
func TestRLockOutsideGreenlets(t *testing.T) {
	var r RLock
	bg := context.Background()
	if !r.TryLock(bg) || r.TryLock(bg) {
		t.Fatal("outside greenlets: first TryLock must succeed, the second fail")
	}
	unlocked := make(chan error)
	go func() { unlocked <- r.Unlock(bg) }() // any plain goroutine may unlock
	if err := <-unlocked; err != nil {
		t.Fatalf("Unlock from another goroutine: %v", err)
	}
	h := newTestHub(t)
	run(t, h, func(ctx context.Context) error {
		if !r.TryLock(ctx) {
			t.Error("greenlet could not lock a free RLock")
		}
		if r.TryLock(bg) {
			t.Error("outsider locked an RLock held by a greenlet")
		}
		return r.Unlock(ctx)
	})
}

// gevent test__semaphore (item 66): two greenlets keep re-acquiring a
// semaphore while a third waits; the third still gets it, FIFO.
func TestSemaphoreFairness(t *testing.T) {
	h := newTestHub(t)
	s := NewSemaphore(1)
	run(t, h, func(ctx context.Context) error {
		var order []string
		for _, name := range []string{"a", "b"} {
			spawn(ctx, h, name, func(ctx context.Context) error {
				for range 10 {
					if err := s.Acquire(ctx); err != nil {
						return err
					}
					order = append(order, name)
					Yield(ctx)
					s.Release() // and at once try again, without yielding
				}
				return nil
			})
		}
		spawn(ctx, h, "c", func(ctx context.Context) error {
			if err := s.Acquire(ctx); err != nil {
				return err
			}
			order = append(order, "c")
			s.Release()
			return nil
		})
		h.Wait(ctx)
		if i := slices.Index(order, "c"); i < 0 || i > 2 {
			t.Errorf("c acquired at position %d of %v; want among the first three", i, order)
		}
		if got := strings.Join(order[:5], ""); got != "abcab" {
			t.Errorf("order starts %s, want abcab (FIFO hand-off)", got)
		}
		return nil
	})
}

// Waiters get permits in the order they asked.
func TestSemaphoreFIFO(t *testing.T) {
	h := newTestHub(t)
	s := NewBoundedSemaphore(2)
	run(t, h, func(ctx context.Context) error {
		s.Acquire(ctx)
		s.Acquire(ctx)
		var got []int
		for i := range 5 {
			spawn(ctx, h, "waiter", func(ctx context.Context) error {
				if err := s.Acquire(ctx); err != nil {
					return err
				}
				got = append(got, i)
				Yield(ctx)
				return s.Release()
			})
		}
		Yield(ctx)
		if s.TryAcquire() {
			t.Error("TryAcquire overtook the waiters")
		}
		s.Release()
		s.Release()
		h.Wait(ctx)
		if !slices.Equal(got, []int{0, 1, 2, 3, 4}) || s.Available() != 2 {
			t.Errorf("served %v, Available %d", got, s.Available())
		}
		return nil
	})
}

// Mutual exclusion and permit conservation under pressure: greenlets on a
// two-token hub and plain goroutines, some abandoning their waits; never
// more holders than permits, and every permit back at the end.
func TestLockStress(t *testing.T) {
	type locker struct {
		acquire func(ctx context.Context) error
		release func(ctx context.Context) error
		size    int
		check   func() error
	}
	cases := []struct {
		name string
		make func() locker
	}{
		{"Semaphore(3)", func() locker {
			s := NewBoundedSemaphore(3)
			return locker{s.Acquire, func(context.Context) error { return s.Release() }, 3, func() error {
				if s.Available() != 3 {
					return fmt.Errorf("Available %d, want 3", s.Available())
				}
				return nil
			}}
		}},
		{"Lock", func() locker {
			var l Lock
			return locker{l.Lock, func(context.Context) error { return l.Unlock() }, 1, func() error {
				if !l.TryLock() {
					return errors.New("lock still held")
				}
				return nil
			}}
		}},
		{"RLock", func() locker {
			var r RLock
			return locker{r.Lock, r.Unlock, 1, func() error {
				if !r.TryLock(context.Background()) {
					return errors.New("rlock still held")
				}
				return nil
			}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHub(t, WithParallelism(2))
			l := tc.make()
			var inside, peak atomic.Int32
			var wg sync.WaitGroup
			worker := func(ctx context.Context, id int) error {
				defer wg.Done()
				for i := range 200 {
					c, cancel := ctx, context.CancelFunc(func() {})
					if (i+id)%4 == 0 {
						c, cancel = context.WithTimeout(ctx, time.Duration(i%3)*time.Microsecond)
					}
					err := l.acquire(c)
					cancel()
					if err != nil {
						continue // abandoned: it holds nothing
					}
					n := inside.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					Yield(ctx)
					inside.Add(-1)
					if err := l.release(ctx); err != nil {
						return err
					}
				}
				return nil
			}
			for i := range 6 {
				wg.Add(1)
				if i%2 == 0 {
					h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error { return worker(ctx, i) },
						Done: func(_ context.Context, o sched.Outcome) {
							if o.Err != nil {
								t.Errorf("worker: %v", o.Err)
							}
						}})
				} else {
					go func() {
						if err := worker(context.Background(), i); err != nil {
							t.Errorf("worker: %v", err)
						}
					}()
				}
			}
			wg.Wait()
			if p := int(peak.Load()); p > l.size || p < 1 {
				t.Errorf("peak %d holders, size %d", p, l.size)
			}
			if err := l.check(); err != nil {
				t.Error(err)
			}
		})
	}
}
