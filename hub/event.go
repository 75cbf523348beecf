package hub

import (
	"context"
	"sync"
	"sync/atomic"
)

// signal is the core of Event and AsyncResult: a flag, and the FIFO list of
// the waiters and subscribers to notify when it becomes set.
type signal struct {
	mu sync.Mutex
	// set is the flag: raised under mu (with the waiters detached in the
	// same critical section), read and lowered without it. A Clear racing a
	// raise is simply ordered before it.
	set     atomic.Bool
	waiters waitList[struct{}]
	// pending counts waiters woken by the last notifications that have not
	// yet returned from their wait. A caller that finds the flag set while
	// some are pending yields once, so it does not run ahead of greenlets
	// that were blocked before it (gevent's test__event wait_while_notifying).
	pending atomic.Int32
}

// raise calls update (if not nil) and raises the flag, under the lock, then
// notifies the waiters and subscribers. If the flag was raised already, only
// update runs: nobody is waiting then.
//
// The whole wait list is detached under the lock and every node marked
// unlinked there, so that a waiter cancelled concurrently knows that a
// notification is on its way and leaves the node alone.
func (s *signal) raise(update func()) {
	s.mu.Lock()
	if update != nil {
		update()
	}
	if s.set.Load() {
		s.mu.Unlock()
		return
	}
	s.set.Store(true)
	head := s.waiters.head
	var woken int32
	for n := head; n != nil; n = n.next {
		n.linked = false
		if n.fn == nil {
			woken++
		}
	}
	s.waiters = waitList[struct{}]{}
	if woken > 0 {
		s.pending.Add(woken)
	}
	s.mu.Unlock()
	s.notify(head)
}

// notify wakes the detached waiters and calls the detached subscribers, in
// the order they registered. It runs without the lock, so a subscriber may
// call back into the Event or AsyncResult. If a subscriber panics, the rest
// are still notified (the detached nodes have no other way to be woken) and
// then the panic goes on.
func (s *signal) notify(n *waitNode[struct{}]) {
	defer func() {
		if n != nil {
			r := recover()
			s.notify(n.next)
			panic(r)
		}
	}()
	for n != nil {
		// A woken greenlet may reuse its node at once (see wait): read the
		// link first, and never touch a node after waking it.
		next := n.next
		switch {
		case n.fn != nil:
			// A subscriber's node never parks; its Waiter state only
			// arbitrates between this call and the subscriber's cancel.
			if _, ok := n.w.settle(woken); ok {
				n.fn()
			}
		case !n.w.Wake():
			s.pending.Add(-1) // cancelled meanwhile: it will not return as woken
		}
		n = next
	}
}

// wait blocks until the flag is set and returns nil, or until ctx is done
// and returns its cause; a kill of the calling greenlet lands here.
func (s *signal) wait(ctx context.Context, reason string) error {
	if s.set.Load() {
		if s.pending.Load() > 0 {
			_ = Yield(ctx) // the flag was raised: the wait succeeded anyway
		}
		return nil
	}
	s.mu.Lock()
	if s.set.Load() {
		s.mu.Unlock()
		return nil
	}
	// A greenlet keeps one node for its signal waits and reuses it (a new
	// Waiter generation each time), so an Event or AsyncResult wait
	// allocates nothing in the steady state.
	g := running(ctx)
	var n *waitNode[struct{}]
	if g != nil && g.sig != nil {
		n, g.sig = g.sig, nil
		n.w.rearm()
	} else {
		n = &waitNode[struct{}]{}
		initWaiter(&n.w, ctx)
	}
	s.waiters.push(n)
	s.mu.Unlock()
	if err := n.w.Park(ctx, reason, func() {
		s.mu.Lock()
		// Still linked: no notification holds the node, so it may be
		// reused. Unlinked: raise detached it and notify may still read it.
		mine := n.linked
		s.waiters.remove(n)
		s.mu.Unlock()
		if mine && g != nil {
			g.sig = n
		}
	}); err != nil {
		return err
	}
	s.pending.Add(-1)
	if g != nil {
		g.sig = n
	}
	return nil
}

// subscribe calls fn once the flag is set: at once if it is set already.
func (s *signal) subscribe(fn func()) (cancel func()) {
	mustSubscriber(fn)
	s.mu.Lock()
	return subscribeLocked(&s.mu, &s.waiters, s.set.Load(), fn)
}

// Event is a flag that greenlets (and goroutines) can wait for: gevent's
// Event. Set raises it and wakes every waiter, in the order they began to
// wait; Clear lowers it again without disturbing anyone. The zero Event is
// cleared and ready to use. An Event must not be copied after first use.
type Event struct {
	s signal
}

// Set raises the flag and wakes all waiters, FIFO, then calls the
// subscribers. Setting a set Event does nothing. Set never blocks.
func (e *Event) Set() { e.s.raise(nil) }

// Clear lowers the flag. Waiters already woken by an earlier Set still
// return nil. Clear never blocks.
func (e *Event) Clear() { e.s.set.Store(false) }

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool { return e.s.set.Load() }

// Ready reports whether the flag is raised; with Subscribe it makes an Event
// a spawn.Waitable.
func (e *Event) Ready() bool { return e.IsSet() }

// Wait blocks until the flag is raised and returns nil, or until ctx is done
// and returns ctx's cause (context.Cause). It returns nil if the flag was
// raised at any point during the wait, even if it was cleared again before
// the waiter ran. If the flag is already raised it returns nil without
// blocking, except that a greenlet finding it
// raised while waiters woken by that Set have not run yet yields to them
// first, so that (with P = 1) it does not run ahead of them (gevent does the
// same). From a greenlet, a Wait that blocks or yields is a cooperative point
// and a kill lands there.
func (e *Event) Wait(ctx context.Context) error {
	return e.s.wait(ctx, "event.wait")
}

// Subscribe arranges for fn to be called once, when the flag is raised: at
// once, on the caller's goroutine, if it is raised already; otherwise on the
// goroutine that calls Set, after the waiters that registered before it were
// woken. fn must not block. The returned cancel unsubscribes; after cancel
// returns, fn is not called unless its call had already begun. It lets
// spawn.Wait and spawn.IWait wait on an Event.
func (e *Event) Subscribe(fn func()) (cancel func()) {
	return e.s.subscribe(fn)
}
