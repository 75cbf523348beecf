package monkey

import (
	"context"

	"github.com/gevent-go/gevent/hub"
)

// offToken runs fn through hub.Blocking: if ctx carries the running greenlet,
// fn runs on the calling goroutine off its run token while other greenlets
// run; otherwise fn is simply called.
//
// A kill that lands as Blocking returns (or a panic in fn, which Blocking
// re-raises once the greenlet holds its token again) unwinds before the
// caller sees fn's result; release (if not nil) then frees that result (a
// response, a connection), which would otherwise leak. release must accept
// the zero value (the kill may land before fn ran).
func offToken[T any](ctx context.Context, reason string, fn func() (T, error), release func(T)) (T, error) {
	var (
		v        T
		err      error
		returned bool
	)
	if release != nil {
		defer func() {
			if !returned {
				release(v)
			}
		}()
	}
	err = hub.Blocking(ctx, reason, func(context.Context) error {
		var err error
		v, err = fn()
		return err
	})
	returned = true
	return v, err
}
