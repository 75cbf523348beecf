package hub

import (
	"context"
	"sync/atomic"
)

// A Waiter's state word is its generation << stBits | one of these.
const (
	waiting uint32 = iota
	woken
	cancelled
	timedOut // woken by the hub's timer (a Sleep): runs ahead of the ready queue

	stBits = 2
	stMask = 1<<stBits - 1
)

// Waiter is a one-shot wake-up for one blocked caller: the building block of
// every cooperative primitive (gevent's Waiter). A primitive creates a
// Waiter for the caller with NewWaiter, records it in its own wait list
// under its own lock, unlocks, and calls Park, whose undo takes the caller
// off that list again if the wait ends without a wake-up. Whoever satisfies
// the wait calls Wake. Wake and cancellation race safely: exactly one of
// them settles the Waiter.
//
// For a greenlet, Park parks it off its run token and Wake queues it for a
// token, in the order Wake is called, so a primitive that wakes its waiters
// in FIFO order gets them running in FIFO order. For a plain goroutine,
// Park blocks on a channel.
//
// A Waiter serves one wait. (Inside this package the hub reuses a
// greenlet's Waiter for its next wait of the same kind: each wait is then a
// new generation, and a wake-up or cancel still on its way for an old one
// carries that generation and is ignored.)
type Waiter struct {
	state atomic.Uint32 // generation<<stBits | waiting, woken, cancelled or timedOut
	g     *G
	ch    chan struct{}
}

// st returns w's state without its generation.
func (w *Waiter) st() uint32 { return w.state.Load() & stMask }

// settle moves w from waiting to to, and returns the generation it settled.
func (w *Waiter) settle(to uint32) (gen uint32, ok bool) {
	for {
		s := w.state.Load()
		if s&stMask != waiting {
			return 0, false
		}
		if w.state.CompareAndSwap(s, s&^stMask|to) {
			return s >> stBits, true
		}
	}
}

// rearm makes a settled w wait again, as a new generation. Only its own
// greenlet rearms it, once the previous wait has returned.
func (w *Waiter) rearm() {
	w.state.Store((w.state.Load()>>stBits + 1) << stBits)
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
	gen, ok := w.settle(woken)
	if !ok {
		return false
	}
	w.notify(gen, false)
	return true
}

// notify makes w's caller ready after the wait of generation gen settled.
func (w *Waiter) notify(gen uint32, timer bool) {
	if w.g != nil {
		w.g.hub.unpark(w.g, w, gen, timer)
		return
	}
	w.ch <- struct{}{}
}

// cancelWake settles w as cancelled and makes its caller ready.
func (w *Waiter) cancelWake() {
	if gen, ok := w.settle(cancelled); ok {
		w.notify(gen, false)
	}
}

// cancelGen is cancelWake for the wait of generation gen only (a kill's
// cancel must not hit a later wait of a reused Waiter).
func (w *Waiter) cancelGen(gen uint32) {
	// (waiting is 0: gen<<stBits is that generation still waiting.)
	if w.state.CompareAndSwap(gen<<stBits, gen<<stBits|cancelled) {
		w.notify(gen, false)
	}
}

// Woken reports whether w was settled by Wake.
func (w *Waiter) Woken() bool { return w.woken() }

func (w *Waiter) woken() bool {
	s := w.st()
	return s == woken || s == timedOut
}

// Wait blocks until w is woken, ctx is done, or (for a greenlet) the greenlet
// is killed. It returns nil if woken; otherwise ctx's cause, and then w is
// settled as cancelled and will never be woken. If Wake and cancellation race,
// Wake wins whenever it settled w first, and Wait returns nil: the wake-up is
// never lost. Wait itself never lands a kill: a primitive that has
// bookkeeping to do first calls Park, or does it and then calls Checkpoint.
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
		// the parked greenlet directly; any other ctx needs a watcher, which
		// cancels only this wait's generation (the Waiter may be reused).
		if ctx != g.ctxOf() && ctx.Done() != nil {
			gen := w.state.Load() >> stBits
			stop = context.AfterFunc(ctx, func() { w.cancelGen(gen) })
		}
		g.watched = stop != nil
		g.park(w, reason, true)
		if stop != nil {
			stop()
		}
		if g.killed.Load() {
			w.cancelWake()
		}
	}
	if w.woken() {
		return nil
	}
	return waitErr(ctx, g)
}

// waitErr is the error of a wait cancelled by ctx or by a kill of g.
func waitErr(ctx context.Context, g *G) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if g != nil && g.killed.Load() {
		return g.cause
	}
	return context.Canceled
}

func (w *Waiter) waitPlain(ctx context.Context) error {
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
	}
	if _, ok := w.settle(cancelled); ok {
		return context.Cause(ctx)
	}
	<-w.ch // Wake settled it first; take its notification
	return nil
}

// Park is the usual way to wait on a Waiter from a primitive. It waits like
// Wait. If the wait ends without a wake-up, Park first calls undo (when not
// nil), which takes the caller off the primitive's wait list under the
// primitive's own lock, and only then lands a pending kill of the calling
// greenlet: a kill never leaves a dead waiter behind in a primitive, and
// deferred calls see the primitive consistent. Park returns nil when woken
// (the caller then takes what the waker handed it, and a pending kill lands
// at its next cooperative point, so nothing handed over is lost), else
// ctx's cause.
func (w *Waiter) Park(ctx context.Context, reason string, undo func()) error {
	err := w.Wait(ctx, reason)
	if err == nil {
		return nil
	}
	if undo != nil {
		undo()
	}
	if w.g != nil {
		w.g.checkKill()
	}
	return err
}
