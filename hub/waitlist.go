package hub

import (
	"context"
	"sync"
)

// waitNode is one blocked caller (or one subscriber) in a primitive's FIFO
// wait list. The primitive links it under its own lock; whoever satisfies the
// wait unlinks it under that same lock, fills in val and err, and wakes w
// while still holding the lock. So a caller whose wait was cancelled (w not
// woken) can take the lock, find its node unlinked or unlink it itself, and
// know that nothing was handed to it: an item or permit is either delivered
// with a successful wake-up or never leaves the primitive.
type waitNode[T any] struct {
	w          Waiter
	prev, next *waitNode[T]
	linked     bool
	val        T     // the item a putter offers, or the item handed to a getter
	err        error // a failure carried by the wake-up (a shut-down queue)
	fn         func()
}

// initWaiter makes w a Waiter for the caller identified by ctx, in place, so
// a wait costs one allocation (the node) rather than two.
func initWaiter(w *Waiter, ctx context.Context) {
	if g := running(ctx); g != nil {
		w.g = g
	} else {
		w.ch = make(chan struct{}, 1)
	}
}

// waitList is an intrusive doubly-linked FIFO of wait nodes: O(1) push, pop
// and removal of a cancelled waiter from the middle.
type waitList[T any] struct {
	head, tail *waitNode[T]
	n          int
}

func (l *waitList[T]) push(n *waitNode[T]) {
	n.prev, n.next, n.linked = l.tail, nil, true
	if l.tail == nil {
		l.head = n
	} else {
		l.tail.next = n
	}
	l.tail = n
	l.n++
}

func (l *waitList[T]) remove(n *waitNode[T]) {
	if !n.linked {
		return
	}
	if n.prev == nil {
		l.head = n.next
	} else {
		n.prev.next = n.next
	}
	if n.next == nil {
		l.tail = n.prev
	} else {
		n.next.prev = n.prev
	}
	n.prev, n.next, n.linked = nil, nil, false
	l.n--
}

func (l *waitList[T]) pop() *waitNode[T] {
	n := l.head
	if n != nil {
		l.remove(n)
	}
	return n
}

// wakeFirst pops waiters until one accepts the wake-up; set prepares the
// node (fills in val or err) before its wake. It returns the woken node, or
// nil if no waiter was left. Waiters that were cancelled meanwhile are
// dropped: their callers clean up on their own and were handed nothing.
// The caller holds the list's lock.
func (l *waitList[T]) wakeFirst(set func(n *waitNode[T])) *waitNode[T] {
	for n := l.pop(); n != nil; n = l.pop() {
		if set != nil {
			set(n)
		}
		if n.w.Wake() {
			return n
		}
		var zero T
		n.val, n.err = zero, nil
	}
	return nil
}

// wakeAll wakes every waiter with err (nil for a plain wake-up).
// The caller holds the list's lock.
func (l *waitList[T]) wakeAll(err error) {
	for n := l.pop(); n != nil; n = l.pop() {
		n.err = err
		n.w.Wake()
	}
}

// block parks the caller, who holds mu, on a new node carrying val, linked
// at the tail of l; it unlocks mu. It returns the node, for what the waker
// left in it, and nil once the node was woken: the waker has done all the
// bookkeeping. Otherwise the wait was cancelled or the greenlet killed: the
// node is unlinked (unless a waker already dropped it, handing it nothing),
// a pending kill lands here, and the ctx's cause is returned.
func block[T any](ctx context.Context, mu *sync.Mutex, l *waitList[T], val T, reason string) (*waitNode[T], error) {
	n := &waitNode[T]{val: val}
	initWaiter(&n.w, ctx)
	l.push(n)
	mu.Unlock()
	err := n.w.Park(ctx, reason, func() {
		mu.Lock()
		l.remove(n)
		mu.Unlock()
	})
	return n, err
}

// subscribeLocked is the Subscribe of a primitive whose lock mu the caller holds:
// if ready, it unlocks and calls fn at once; else it links a subscriber
// node carrying fn at the tail of l and unlocks. cancel unlinks a node that
// has not fired and settles it, so a notifier that detached it already
// skips it (notifiers settle a subscriber's node before calling its fn).
func subscribeLocked[T any](mu *sync.Mutex, l *waitList[T], ready bool, fn func()) (cancel func()) {
	if ready {
		mu.Unlock()
		fn()
		return func() {}
	}
	n := &waitNode[T]{fn: fn}
	l.push(n)
	mu.Unlock()
	return func() {
		mu.Lock()
		l.remove(n)
		mu.Unlock()
		n.w.settle(cancelled)
	}
}

// fire detaches every subscriber of l, unlocks mu (which the caller holds)
// and calls them, in the order they subscribed. Each node is settled first:
// that arbitrates between this call and a concurrent cancel.
func fire[T any](mu *sync.Mutex, l *waitList[T]) {
	if l.n == 0 {
		mu.Unlock()
		return
	}
	subs := make([]*waitNode[T], 0, l.n)
	for n := l.pop(); n != nil; n = l.pop() {
		subs = append(subs, n)
	}
	mu.Unlock()
	for _, n := range subs {
		if _, ok := n.w.settle(woken); ok {
			n.fn()
		}
	}
}

// mustSubscriber panics if a Subscribe was given a nil fn.
func mustSubscriber(fn func()) {
	if fn == nil {
		panic("hub: Subscribe with a nil function")
	}
}
