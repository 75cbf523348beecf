package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Errors of the lock family. Match them with errors.Is.
var (
	// ErrOverRelease: a BoundedSemaphore was released more times than it
	// was acquired.
	ErrOverRelease = errors.New("hub: semaphore released more times than acquired")
	// ErrNotLocked: Unlock of a Lock or RLock that is not locked.
	ErrNotLocked = errors.New("hub: unlock of an unlocked lock")
	// ErrNotOwner: Unlock of an RLock by someone other than its holder.
	ErrNotOwner = errors.New("hub: unlock of an rlock held by someone else")
)

// permits is the core of the lock family: the number of permits taken and
// the FIFO list of callers waiting for one. A release hands its permit
// straight to the first waiter still waiting, so a permit is never free
// while someone waits, a newcomer never overtakes a waiter (gevent's
// fairness), and a waiter cancelled at the moment of the release never takes
// the permit with it.
type permits struct {
	mu      sync.Mutex
	taken   int
	waiters waitList[struct{}]
	subs    waitList[struct{}] // Subscribe callbacks, fired when a permit frees
}

func (p *permits) acquire(ctx context.Context, size int, reason string) error {
	p.mu.Lock()
	if p.taken < size {
		p.taken++
		p.mu.Unlock()
		return nil
	}
	_, err := block(ctx, &p.mu, &p.waiters, struct{}{}, reason)
	return err
}

func (p *permits) tryAcquire(size int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken < size {
		p.taken++
		return true
	}
	return false
}

// release returns a permit. With bounded, a release with no permit taken is
// refused and reported as false.
func (p *permits) release(bounded bool) bool {
	p.mu.Lock()
	if p.waiters.wakeFirst(nil) != nil {
		p.mu.Unlock()
		return true // the permit passed to the waiter: taken is unchanged
	}
	if bounded && p.taken <= 0 {
		p.mu.Unlock()
		return false
	}
	p.taken--
	// A permit is free now: every subscriber is told, once, outside the lock.
	fire(&p.mu, &p.subs)
	return true
}

// subscribe calls fn once a permit is free: at once if one is, else at the
// release that frees one. cancel removes a subscription that has not fired.
func (p *permits) subscribe(size int, fn func()) (cancel func()) {
	mustSubscriber(fn)
	p.mu.Lock()
	return subscribeLocked(&p.mu, &p.subs, p.taken < size, fn)
}

func (p *permits) available(size int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return size - p.taken
}

// semaphore holds what Semaphore and BoundedSemaphore share.
type semaphore struct {
	p    permits
	size int
}

func newSemaphore(n int) semaphore {
	if n < 0 {
		panic(fmt.Sprintf("hub: negative semaphore count %d", n))
	}
	return semaphore{size: n}
}

// Acquire takes a permit, blocking until one is free; waiters are served
// FIFO. It returns nil once it holds the permit, or ctx's cause if ctx is
// done first, and then it holds nothing (for gevent's acquire(timeout=t),
// pass a ctx with that timeout). A permit that is free is taken at once
// whatever ctx's state. From a greenlet a blocking Acquire is a cooperative
// point and a kill lands there.
func (s *semaphore) Acquire(ctx context.Context) error {
	return s.p.acquire(ctx, s.size, "semaphore.acquire")
}

// TryAcquire takes a permit if one is free and reports whether it did. It
// never blocks.
func (s *semaphore) TryAcquire() bool { return s.p.tryAcquire(s.size) }

// Available returns the number of free permits (gevent's counter).
func (s *semaphore) Available() int { return s.p.available(s.size) }

// Ready reports whether a permit is free, so that spawn.Wait and IWait can
// wait on a semaphore (gevent's wait([sem])). It never blocks.
func (s *semaphore) Ready() bool { return s.Available() > 0 }

// Subscribe calls fn (which must not block) once a permit is free: at once
// if one is, else when a release frees one rather than handing it to a
// waiter. It does not take the permit. cancel removes the subscription.
func (s *semaphore) Subscribe(fn func()) (cancel func()) { return s.p.subscribe(s.size, fn) }

// Semaphore is a counting semaphore, gevent's Semaphore: Acquire takes one
// of its permits, blocking while none is free, and Release returns one,
// passing it straight to the longest-waiting caller. It is safe for use by
// greenlets of any hub and by plain goroutines; from a greenlet, a blocking
// Acquire parks only that greenlet. The zero Semaphore has no permits until
// one is released. A Semaphore must not be copied after first use.
type Semaphore struct{ semaphore }

// NewSemaphore returns a Semaphore with n permits. A negative n is a
// programming error and panics.
func NewSemaphore(n int) *Semaphore { return &Semaphore{newSemaphore(n)} }

// Release returns a permit. As in gevent, releasing more than was acquired
// is allowed and adds a permit; use BoundedSemaphore to forbid it. It never
// blocks.
func (s *Semaphore) Release() { s.p.release(false) }

// BoundedSemaphore is a Semaphore that refuses to be released more times
// than it was acquired, gevent's BoundedSemaphore. The zero
// BoundedSemaphore has no permits and cannot gain any: create one with
// NewBoundedSemaphore. It must not be copied after first use.
type BoundedSemaphore struct{ semaphore }

// NewBoundedSemaphore returns a BoundedSemaphore with n permits. A negative
// n is a programming error and panics.
func NewBoundedSemaphore(n int) *BoundedSemaphore { return &BoundedSemaphore{newSemaphore(n)} }

// Release returns a permit, or returns ErrOverRelease, changing nothing, if
// every permit is already free. It never blocks.
func (s *BoundedSemaphore) Release() error {
	if !s.p.release(true) {
		return ErrOverRelease
	}
	return nil
}

// Lock is a cooperative mutual-exclusion lock, gevent's Lock: like a
// BoundedSemaphore of one permit. Any greenlet or goroutine may unlock it,
// as with sync.Mutex. Waiters are served FIFO. It is safe for use by
// greenlets of any hub and by plain goroutines; from a greenlet, a blocking
// Lock parks only that greenlet, where a sync.Mutex would stall its hub.
// The zero Lock is unlocked. A Lock must not be copied after first use.
type Lock struct{ p permits }

// Lock locks l, blocking while it is held. It returns nil once it holds l,
// or ctx's cause if ctx is done first, and then it does not hold l. A free
// lock is taken at once whatever ctx's state. From a greenlet a blocking Lock
// is a cooperative point and a kill lands there.
func (l *Lock) Lock(ctx context.Context) error { return l.p.acquire(ctx, 1, "lock") }

// TryLock locks l if it is free and reports whether it did. It never blocks.
func (l *Lock) TryLock() bool { return l.p.tryAcquire(1) }

// Ready reports whether l is unlocked, so that spawn.Wait and IWait can wait
// on a lock. It never blocks.
func (l *Lock) Ready() bool { return l.p.available(1) > 0 }

// Subscribe calls fn (which must not block) once l is unlocked: at once if it
// is, else when an Unlock leaves it free rather than handing it to a waiter.
// It does not lock l. cancel removes the subscription.
func (l *Lock) Subscribe(fn func()) (cancel func()) { return l.p.subscribe(1, fn) }

// Unlock unlocks l, handing it to the longest waiter if there is one. It
// returns ErrNotLocked if l is not locked. It never blocks.
func (l *Lock) Unlock() error {
	if !l.p.release(true) {
		return ErrNotLocked
	}
	return nil
}

// RLock is a re-entrant lock, gevent's RLock: the greenlet that holds it may
// lock it again, and it is released when that greenlet has unlocked it as
// many times as it locked it. Only the holder may unlock it. The holder is
// the greenlet carried by the ctx passed to Lock (hub.Current).
//
// Outside any greenlet there is no identity to re-enter with: every caller
// whose ctx carries no greenlet counts as the same anonymous holder, and for
// such callers RLock is a plain, non-re-entrant lock: a second Lock blocks
// until some such caller unlocks it, and any such caller may unlock it.
//
// Waiters are served FIFO. The zero RLock is unlocked. An RLock must not be
// copied after first use.
type RLock struct {
	l     Lock
	mu    sync.Mutex
	held  bool
	owner *G // nil while held from outside any greenlet
	depth int
}

// Lock locks r, or, if the calling greenlet holds it already, counts one
// more level and returns at once. Otherwise it blocks and fails as Lock.Lock
// does: a blocking Lock is a cooperative point and a kill lands there.
func (r *RLock) Lock(ctx context.Context) error {
	if r.reenter(ctx) {
		return nil
	}
	if err := r.l.Lock(ctx); err != nil {
		return err
	}
	r.own(ctx)
	return nil
}

// TryLock is Lock without waiting: it reports whether the caller now holds
// r. It never blocks.
func (r *RLock) TryLock(ctx context.Context) bool {
	if r.reenter(ctx) {
		return true
	}
	if !r.l.TryLock() {
		return false
	}
	r.own(ctx)
	return true
}

func (r *RLock) reenter(ctx context.Context) bool {
	me := Current(ctx)
	if me == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held && r.owner == me {
		r.depth++
		return true
	}
	return false
}

func (r *RLock) own(ctx context.Context) {
	r.mu.Lock()
	r.held, r.owner, r.depth = true, Current(ctx), 1
	r.mu.Unlock()
}

// Unlock undoes one Lock by the holder; the last one releases r to the
// longest waiter. It returns ErrNotLocked if r is not locked and ErrNotOwner
// if the caller (identified by ctx) is not the holder. It never blocks.
func (r *RLock) Unlock(ctx context.Context) error {
	me := Current(ctx)
	r.mu.Lock()
	switch {
	case !r.held:
		r.mu.Unlock()
		return ErrNotLocked
	case r.owner != me:
		r.mu.Unlock()
		return ErrNotOwner
	}
	r.depth--
	if r.depth > 0 {
		r.mu.Unlock()
		return nil
	}
	r.held, r.owner = false, nil
	r.mu.Unlock()
	return r.l.Unlock()
}
