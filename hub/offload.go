package hub

import "context"

// Offload runs fn on another goroutine, off the run token, and waits for it
// cooperatively: gevent's threadpool. It is for CPU-heavy work (parsing,
// hashing, compression) that would otherwise hold the token, and for calls
// that block in ways the hub cannot see but honour a ctx. At most the hub's
// offload bound (WithOffload; default GOMAXPROCS) of calls run at once; a
// greenlet beyond it waits, FIFO, for a slot.
//
// fn gets a ctx with ctx's values and cancellation but no greenlet (see
// Detach): it is cancelled when the calling greenlet is killed, and hub calls
// made with it block the plain Go way. If the greenlet is killed or ctx ends
// first, Offload returns at once (the kill lands here) and fn's eventual
// result is discarded; fn keeps its slot until it returns. A panic in fn
// comes back as a *PanicError. Called outside a greenlet, Offload simply
// calls fn.
func Offload[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	g := running(ctx)
	if g == nil {
		return fn(ctx)
	}
	g.checkKill()
	var zero T
	h := g.hub
	if err := h.offload.Acquire(ctx); err != nil {
		return zero, err
	}
	type call struct {
		w   Waiter
		v   T
		err error
	}
	c := &call{}
	c.w.g = g
	dctx := Detach(ctx)
	h.goOff(func() {
		defer func() {
			if p := recover(); p != nil {
				c.err = newPanicError(p)
			}
			h.offload.Release()
			c.w.Wake()
		}()
		c.v, c.err = fn(dctx)
	})
	err := c.w.Wait(ctx, "offload")
	// A kill lands here even when fn, seeing its ctx cancelled, returned
	// first and so woke the wait as a success.
	g.checkKill()
	if err != nil {
		return zero, err
	}
	return c.v, c.err
}

// Blocking runs fn off the run token and waits for it: the calling greenlet
// parks (reason names the wait in dumps), fn runs on another goroutine and
// blocks the ordinary Go way while other greenlets run, and then the
// greenlet queues for a token again. Use it for a wait the hub cannot see
// (a channel, a mutex, a syscall). At most the hub's blocking bound
// (WithOffload) of calls run at once; a greenlet beyond it waits, FIFO.
//
// fn gets ctx detached from the greenlet (Detach): its values and
// cancellation, so fn can watch it, but hub calls made with it block the
// ordinary Go way. Blocking returns fn's error. Unlike Offload, Blocking
// always waits for fn: a kill requested meanwhile cancels fn's ctx and lands
// when Blocking returns. A panic in fn is raised again in the calling
// greenlet. Called outside a greenlet, Blocking just calls fn(ctx).
func Blocking(ctx context.Context, reason string, fn func(ctx context.Context) error) error {
	g := running(ctx)
	if g == nil {
		return fn(ctx)
	}
	g.checkKill()
	h := g.hub
	// Past the bound with ctx done, fn runs anyway, unbounded: Blocking
	// promises to run it, and waiting for a slot would not end.
	b := &blockingCall{fn: fn, h: h, slot: h.blocking.Acquire(ctx) == nil}
	b.w.g = g
	b.ctx = detached{ctx}
	h.goOff(b.run)
	// Not killable: the greenlet stays parked until fn is done.
	g.park(&b.w, reason, false)
	if b.panicked {
		panic(b.p)
	}
	g.checkKill()
	return b.err
}

// blockingCall is one Blocking call: what its goroutine needs and what it
// hands back, in one allocation (captured variables would each take one).
type blockingCall struct {
	w        Waiter
	fn       func(ctx context.Context) error
	ctx      detached
	h        *Hub
	slot     bool // holds a slot of the hub's blocking bound
	panicked bool
	p        any
	err      error
}

func (b *blockingCall) run() {
	defer func() {
		if r := recover(); r != nil {
			b.panicked, b.p = true, r
		}
		if b.slot {
			b.h.blocking.Release()
		}
		b.w.Wake()
	}()
	b.err = b.fn(&b.ctx)
}

// goOff runs fn on a goroutine of the hub's ants pool, or on a new goroutine
// if the pool is gone (a greenlet's deferred cleanup while Stop finishes).
func (h *Hub) goOff(fn func()) {
	if h.submit(fn) != nil {
		go fn()
	}
}
