package monkey

import (
	"context"

	"github.com/gevent-go/gevent/hub"
)

// offToken runs fn through hub.Blocking: if ctx carries the running greenlet,
// fn runs on the calling goroutine off its run token while other greenlets
// run; otherwise fn is simply called.
//
// Two things hub.Blocking leaves to its caller are handled here:
//   - A panic in fn is caught inside Blocking and raised again once the
//     greenlet holds its token again; a panic escaping Blocking itself would
//     leave the greenlet parked without a token while it unwinds.
//   - A kill that lands as Blocking returns panics before the caller sees
//     fn's result; release (if not nil) then frees that result (a response,
//     a connection), which would otherwise leak. release must accept the
//     zero value (the kill may land before fn ran).
func offToken[T any](ctx context.Context, reason string, fn func() (T, error), release func(T)) (T, error) {
	var (
		v        T
		err      error
		panicked any
		returned bool
	)
	if release != nil {
		defer func() {
			if !returned {
				release(v)
			}
		}()
	}
	hub.Blocking(ctx, reason, func() {
		defer func() { panicked = recover() }()
		v, err = fn()
	})
	returned = true
	if panicked != nil {
		if release != nil {
			release(v)
		}
		panic(panicked)
	}
	return v, err
}

// detached hides the greenlet a context carries while keeping its other
// values, deadline and cancellation. Contexts handed to the standard
// library's own goroutines (the transport's dialer, the resolver's queries)
// must not carry the greenlet: those goroutines run beside it, and a
// hub-aware dial function seeing the greenlet would act on its run token from
// the wrong goroutine.
type detached struct{ context.Context }

// Value hides every *hub.G, whatever its key: the hub's key is unexported,
// and the greenlet is the only value of that type a context carries.
func (d detached) Value(key any) any {
	v := d.Context.Value(key)
	if _, ok := v.(*hub.G); ok {
		return nil
	}
	return v
}

// detach returns ctx without its greenlet (ctx itself if it carries none).
func detach(ctx context.Context) context.Context {
	if hub.Current(ctx) == nil {
		return ctx
	}
	return detached{ctx}
}
