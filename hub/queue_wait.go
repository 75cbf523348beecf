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
	mustSubscriber(fn)
	q.lock()
	return subscribeLocked(&q.mu, &q.subs, q.n > 0 || q.shut, fn)
}

// fireSubs calls the subscribers (see fire); the caller holds q.mu, which
// it unlocks.
func (q *qcore[T, K]) fireSubs() { fire(&q.mu, &q.subs) }
