// Package panicerr turns a recovered panic into the library's error for it,
// a *hub.PanicError, for the code outside package hub that recovers panics
// of user functions: spawn's links, pool's inline items and map items, the
// HTTP server's handlers. (The hub builds its own for a greenlet's function;
// it cannot import this package.)
package panicerr

import (
	"runtime/debug"

	"github.com/gevent-go/gevent/hub"
)

// From returns the *hub.PanicError for r, a non-nil value recover returned,
// carrying the stack at the call: call it in the deferred function, where
// the stack still shows the panic. The hub's kill signal is not a failure:
// From panics with it again, so the kill still ends the greenlet.
func From(r any) *hub.PanicError {
	if hub.IsKill(r) {
		panic(r)
	}
	return &hub.PanicError{Value: r, Stack: debug.Stack()}
}
