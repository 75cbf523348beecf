package hub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
)

// blocker is one blocking call of a primitive, set up so that it blocks.
// check verifies, after the call was abandoned (its greenlet killed, its ctx
// cancelled), that the primitive kept everything: no item or permit was lost
// to the abandoned caller, and it left nothing behind in a wait list.
type blocker struct {
	block func(ctx context.Context) error
	check func(t *testing.T)
}

func blockers() map[string]func() blocker {
	bg := context.Background()
	return map[string]func() blocker{
		"Event.Wait": func() blocker {
			var e Event
			return blocker{
				func(ctx context.Context) error {
					if e.Wait(ctx) != nil {
						return context.Cause(ctx)
					}
					return nil
				},
				func(t *testing.T) {
					if n := e.s.waiting(); n != 0 {
						t.Errorf("%d left waiting", n)
					}
				},
			}
		},
		"AsyncResult.Get": func() blocker {
			var r AsyncResult[int]
			return blocker{
				func(ctx context.Context) error { _, err := r.Get(ctx); return err },
				func(t *testing.T) {
					if n := r.s.waiting(); n != 0 {
						t.Errorf("%d left waiting", n)
					}
				},
			}
		},
		"Queue.Get": func() blocker {
			q := NewQueue[int](1)
			return blocker{
				func(ctx context.Context) error { _, err := q.Get(ctx); return err },
				func(t *testing.T) {
					q.TryPut(7)
					if v, err := q.TryGet(); v != 7 || err != nil {
						t.Errorf("item put after the abandoned get: %d, %v", v, err)
					}
					checkEmptyLists(t, &q.qcore)
				},
			}
		},
		"Queue.Put": func() blocker {
			q := NewLifoQueue[int](1)
			q.TryPut(1)
			return blocker{
				func(ctx context.Context) error { return q.Put(ctx, 2) },
				func(t *testing.T) {
					v, err := q.TryGet()
					_, err2 := q.TryGet()
					if v != 1 || err != nil || !errors.Is(err2, ErrEmpty) {
						t.Errorf("queue holds %d, %v then %v; want only 1", v, err, err2)
					}
					checkEmptyLists(t, &q.qcore)
				},
			}
		},
		"Queue.Peek": func() blocker {
			q := NewQueue[int](0)
			return blocker{
				func(ctx context.Context) error { _, err := q.Peek(ctx); return err },
				func(t *testing.T) { checkEmptyLists(t, &q.qcore) },
			}
		},
		"Queue.Join": func() blocker {
			q := NewQueue[int](0)
			q.TryPut(1)
			return blocker{
				q.Join,
				func(t *testing.T) {
					q.TaskDone()
					if err := q.Join(bg); err != nil || q.idle.s.waiting() != 0 {
						t.Errorf("Join: %v; %d left waiting", err, q.idle.s.waiting())
					}
				},
			}
		},
		"Channel.Put": func() blocker {
			c := NewChannel[int]()
			return blocker{
				func(ctx context.Context) error { return c.Put(ctx, 1) },
				func(t *testing.T) {
					if _, err := c.TryGet(); !errors.Is(err, ErrEmpty) {
						t.Errorf("TryGet after the abandoned put: %v, want ErrEmpty", err)
					}
					checkEmptyLists(t, &c.qcore)
				},
			}
		},
		"Channel.Get": func() blocker {
			c := NewChannel[int]()
			return blocker{
				func(ctx context.Context) error { _, err := c.Get(ctx); return err },
				func(t *testing.T) {
					if err := c.TryPut(1); !errors.Is(err, ErrFull) {
						t.Errorf("TryPut after the abandoned get: %v, want ErrFull", err)
					}
					checkEmptyLists(t, &c.qcore)
				},
			}
		},
		"Semaphore.Acquire": func() blocker {
			s := NewSemaphore(0)
			return blocker{
				s.Acquire,
				func(t *testing.T) {
					s.Release()
					if s.Available() != 1 || !s.TryAcquire() {
						t.Errorf("released permit went astray: Available %d", s.Available())
					}
				},
			}
		},
		"BoundedSemaphore.Acquire": func() blocker {
			s := NewBoundedSemaphore(1)
			s.TryAcquire()
			return blocker{
				s.Acquire,
				func(t *testing.T) {
					if err := s.Release(); err != nil || s.Available() != 1 {
						t.Errorf("Release: %v, Available %d", err, s.Available())
					}
				},
			}
		},
		"Lock.Lock": func() blocker {
			var l Lock
			l.TryLock()
			return blocker{
				l.Lock,
				func(t *testing.T) {
					if err := l.Unlock(); err != nil || !l.TryLock() {
						t.Errorf("Unlock: %v, then the lock was not free", err)
					}
				},
			}
		},
		"RLock.Lock": func() blocker {
			var r RLock
			r.TryLock(bg) // held from outside any greenlet
			return blocker{
				r.Lock,
				func(t *testing.T) {
					if err := r.Unlock(bg); err != nil || !r.TryLock(bg) {
						t.Errorf("Unlock: %v, then the rlock was not free", err)
					}
				},
			}
		},
		"PipeEnd.Recv": func() blocker {
			a, b := NewPipe[int](true)
			return blocker{
				func(ctx context.Context) error { _, err := a.Recv(ctx); return err },
				func(t *testing.T) {
					b.Send(bg, 5)
					if v, err := a.Recv(bg); v != 5 || err != nil {
						t.Errorf("Recv after the abandoned one: %d, %v", v, err)
					}
				},
			}
		},
	}
}

func checkEmptyLists[T any, K zeroKind](t *testing.T, q *qcore[T, K]) {
	t.Helper()
	if g, p, k := q.counts(); g+p+k != 0 {
		t.Errorf("left in wait lists: %d getters, %d putters, %d peekers", g, p, k)
	}
}

// Kill and ctx cancellation land in every blocking call: a greenlet parked
// in one dies promptly when killed (its deferred calls run, the code after
// the call does not), a cancelled ctx makes the call return its cause, for
// greenlets and plain goroutines alike, and the primitive loses nothing.
func TestBlockingCallsAbandoned(t *testing.T) {
	for name, mk := range blockers() {
		t.Run(name+"/kill", func(t *testing.T) {
			h := newTestHub(t)
			b := mk()
			var deferred, after bool
			var out sched.Outcome
			run(t, h, func(ctx context.Context) error {
				g := h.spawn(ctx, sched.Task{
					Run: func(ctx context.Context) error {
						defer func() { deferred = true }()
						b.block(ctx)
						after = true
						return nil
					},
					Done: func(_ context.Context, o sched.Outcome) { out = o },
				})
				Yield(ctx)
				if g.State() != StateParked {
					t.Fatalf("greenlet not parked in the call: %v", g.State())
				}
				g.Kill(nil)
				join(ctx, g)
				return nil
			})
			if !deferred || after || !out.Killed || out.Err != ErrKilled {
				t.Errorf("deferred %v, code after the call ran %v, outcome %+v", deferred, after, out)
			}
			b.check(t)
		})
		t.Run(name+"/cancel", func(t *testing.T) {
			h := newTestHub(t)
			b := mk()
			var err error
			run(t, h, func(ctx context.Context) error {
				var cancel context.CancelCauseFunc
				g := spawn(ctx, h, "blocked", func(ctx context.Context) error {
					var c context.Context
					c, cancel = context.WithCancelCause(ctx)
					err = b.block(c)
					return nil
				})
				Yield(ctx)
				if g.State() != StateParked {
					t.Fatalf("greenlet not parked in the call: %v", g.State())
				}
				cancel(errTest)
				join(ctx, g)
				return nil
			})
			if err != errTest {
				t.Errorf("call returned %v, want the ctx's cause", err)
			}
			b.check(t)
		})
		t.Run(name+"/goroutine", func(t *testing.T) {
			b := mk()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
			defer cancel()
			if err := b.block(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("call returned %v, want DeadlineExceeded", err)
			}
			b.check(t)
		})
	}
}
