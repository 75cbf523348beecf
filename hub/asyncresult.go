package hub

import "context"

// AsyncResult is a value or an error that will arrive later, and that any
// number of greenlets (and goroutines) can wait for: gevent's AsyncResult.
// Set or SetError makes it ready and wakes every waiter, FIFO. Settle takes
// both at once, so a greenlet's result can be forwarded to it from a link:
//
//	g.Link(func(g *spawn.Greenlet[int]) { r.Settle(g.Value(), g.Err()) })
//
// As in gevent, setting a ready AsyncResult again replaces its outcome
// (waiters already woken see the outcome current when they read it). The
// zero AsyncResult is unset and ready to use. It must not be copied after
// first use.
type AsyncResult[T any] struct {
	s   signal
	val T
	err error
}

// Set stores v as the result and wakes all waiters. It never blocks.
func (r *AsyncResult[T]) Set(v T) { r.Settle(v, nil) }

// SetError stores err as the result and wakes all waiters. It never blocks.
// A nil err is a programming error and panics.
func (r *AsyncResult[T]) SetError(err error) {
	if err == nil {
		panic("hub: AsyncResult.SetError with a nil error")
	}
	r.Settle(*new(T), err)
}

// Settle stores v (if err is nil) or err as the result and wakes all
// waiters. It never blocks.
func (r *AsyncResult[T]) Settle(v T, err error) {
	if err != nil {
		var zero T
		v = zero
	}
	r.s.raise(func() { r.val, r.err = v, err })
}

// Get blocks until the result is ready and returns it: the value, or the
// stored error. If ctx is done first it returns ctx's cause. A ready result
// is returned without blocking, even with a done ctx (it may yield, as
// Event.Wait does). From a greenlet, a Get that blocks or yields is a
// cooperative point and a kill lands there.
func (r *AsyncResult[T]) Get(ctx context.Context) (T, error) {
	if err := r.s.wait(ctx, "asyncresult.get"); err != nil {
		var zero T
		return zero, err
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.val, r.err
}

// Wait is gevent's AsyncResult.wait: it blocks like Get, then returns the
// value and nil once the result is ready. It never returns the stored
// error: on a failed result it returns the zero value and nil (see Err; Get
// returns the stored error). When ctx is done first it returns the zero
// value and ctx's cause.
func (r *AsyncResult[T]) Wait(ctx context.Context) (T, error) {
	if err := r.s.wait(ctx, "asyncresult.wait"); err != nil {
		var zero T
		return zero, err
	}
	return r.Value(), nil
}

// Ready reports whether a result has been stored.
func (r *AsyncResult[T]) Ready() bool { return r.s.set.Load() }

// Successful reports whether a value (not an error) has been stored.
func (r *AsyncResult[T]) Successful() bool {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.s.set.Load() && r.err == nil
}

// Value returns the stored value, or the zero value if the result is not
// ready or is an error. It never blocks.
func (r *AsyncResult[T]) Value() T {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.val
}

// Err returns the stored error, or nil if the result is not ready or is a
// value. It never blocks.
func (r *AsyncResult[T]) Err() error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.err
}

// Subscribe arranges for fn to be called once, when the result becomes
// ready: at once if it is ready already. fn must not block. See
// Event.Subscribe; it lets spawn.Wait and spawn.IWait wait on an AsyncResult.
func (r *AsyncResult[T]) Subscribe(fn func()) (cancel func()) {
	return r.s.subscribe(fn)
}
