package hub

// Ready reports whether a Get would return at once: an item is in the
// queue, or the queue is shut down (Get then fails at once). With
// Subscribe, it makes a Queue a Waitable, for Select, spawn.Wait and
// spawn.IWait (gevent waits on a queue's readiness the same way). Another
// getter may take the item before the waiter gets to it: a waiter woken
// this way uses TryGet, or Get, which then waits again.
func (q *Queue[T]) Ready() bool {
	q.lock()
	defer q.mu.Unlock()
	return q.n > 0 || q.shut
}

// Subscribe calls fn (which must not block) once the queue is Ready: at
// once, on the caller's goroutine, if it is, else on the goroutine of the
// Put that adds an item (an item handed straight to a waiting getter does
// not count) or of the Shutdown. It takes nothing from the queue. cancel
// removes the subscription; fn is not called after cancel returns unless
// its call had begun.
func (q *Queue[T]) Subscribe(fn func()) (cancel func()) {
	if fn == nil {
		panic("hub: Subscribe with a nil function")
	}
	q.lock()
	if q.n > 0 || q.shut {
		q.mu.Unlock()
		fn()
		return func() {}
	}
	n := &waitNode[T]{fn: fn}
	q.subs.push(n)
	q.mu.Unlock()
	return func() {
		q.mu.Lock()
		q.subs.remove(n)
		q.mu.Unlock()
		n.w.state.CompareAndSwap(waiting, cancelled)
	}
}

// fireSubs detaches the subscribers, unlocks q (the caller holds q.mu),
// and calls them, in the order they subscribed.
func (q *qcore[T]) fireSubs() {
	var fire []*waitNode[T]
	for n := q.subs.pop(); n != nil; n = q.subs.pop() {
		fire = append(fire, n)
	}
	q.mu.Unlock()
	for _, n := range fire {
		// The node's state arbitrates between this call and a concurrent
		// cancel, as for Event's subscribers.
		if n.w.state.CompareAndSwap(waiting, woken) {
			n.fn()
		}
	}
}
