package hub

import (
	"context"
	"sync/atomic"
)

const (
	waiting int32 = iota
	woken
	cancelled
)

// Waiter is a one-shot wake-up for one blocked caller: the building block of
// every cooperative primitive. A primitive creates a Waiter for the caller,
// records it in its own wait list under its own lock, unlocks, and calls Wait.
// Whoever satisfies the wait calls Wake. Wake and cancellation race safely:
// exactly one of them settles the Waiter.
//
// For a greenlet, Wait parks it off its run token and Wake queues it for a
// token, in the order Wake is called, so a primitive that wakes its waiters
// in FIFO order gets them running in FIFO order. For a plain goroutine, Wait
// blocks on a channel.
type Waiter struct {
	state atomic.Int32
	g     *G
	ch    chan struct{}
}

// NewWaiter returns a Waiter for the caller identified by ctx.
func NewWaiter(ctx context.Context) *Waiter {
	w := &Waiter{}
	if g := running(ctx); g != nil {
		w.g = g
	} else {
		w.ch = make(chan struct{}, 1)
	}
	return w
}

// Wake settles w as woken and makes its caller ready. It reports false if w
// was already woken or cancelled (then the caller must give the wake-up to
// someone else if it carried something, such as a queue item or a permit).
// It never blocks.
func (w *Waiter) Wake() bool {
	if !w.state.CompareAndSwap(waiting, woken) {
		return false
	}
	w.notify()
	return true
}

func (w *Waiter) notify() {
	if w.g != nil {
		w.g.hub.unpark(w.g, w)
		return
	}
	w.ch <- struct{}{}
}

// cancelWake settles w as cancelled and makes its caller ready.
func (w *Waiter) cancelWake() {
	if w.state.CompareAndSwap(waiting, cancelled) {
		w.notify()
	}
}

// Woken reports whether w was settled by Wake.
func (w *Waiter) Woken() bool { return w.state.Load() == woken }

// Wait blocks until w is woken, ctx is done, or (for a greenlet) the greenlet
// is killed. It returns nil if woken; otherwise ctx's cause, and then w is
// settled as cancelled and will never be woken. If Wake and cancellation race,
// Wake wins whenever it settled w first, and Wait returns nil: the wake-up is
// never lost. A kill lands when Wait returns (see the package doc), after the
// primitive's bookkeeping in the caller is the caller's to do in a deferred
// call or before the next cooperative point.
//
// reason names the wait in dumps and monitor reports ("queue.get", ...).
func (w *Waiter) Wait(ctx context.Context, reason string) error {
	if w.g == nil {
		return w.waitPlain(ctx)
	}
	g := w.g
	if ctx.Err() != nil {
		w.cancelWake()
	} else {
		var stop func() bool
		// The greenlet's own ctx is cancelled only by a kill, and Kill wakes
		// the parked greenlet directly; any other ctx needs a watcher.
		if ctx != context.Context(g) && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, w.cancelWake)
		}
		g.hub.park(g, w, reason)
		if stop != nil {
			stop()
		}
		if g.killed.Load() {
			w.cancelWake()
		}
	}
	if w.state.Load() == woken {
		return nil
	}
	return waitErr(ctx, g)
}

// waitErr is the error of a wait cancelled by ctx or by a kill of g.
func waitErr(ctx context.Context, g *G) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if g != nil && g.Err() != nil {
		return context.Cause(g)
	}
	return context.Canceled
}

func (w *Waiter) waitPlain(ctx context.Context) error {
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
	}
	if w.state.CompareAndSwap(waiting, cancelled) {
		return context.Cause(ctx)
	}
	<-w.ch // Wake settled it first; take its notification
	return nil
}

// Park is the usual way to use a Waiter from a primitive: it waits, then
// lands a pending kill of the calling greenlet. Use it when the primitive has
// no bookkeeping to undo after a cancelled wait; otherwise call Wait, undo,
// then Checkpoint.
func (w *Waiter) Park(ctx context.Context, reason string) error {
	err := w.Wait(ctx, reason)
	if w.g != nil {
		w.g.checkKill()
	}
	return err
}
