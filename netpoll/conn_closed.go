package netpoll

// OnClosed arranges for fn to run once the connection is fully closed: after
// Close has delivered (or given up on) the output it held, after an error,
// an idle timeout or a Shutdown, and, on the gnet backend, as soon as the
// peer closes its side (gnet has no half-close, see the package doc). If the
// connection is closed already, fn runs at once on the caller's goroutine.
// Otherwise fn runs on whatever goroutine closes the connection, possibly a
// gnet event loop, so it must not block; cancelling a context is the typical
// use (the HTTP server cancels a request's context this way when its client
// goes away). The stdlib backend notices a peer's close only in a Read or
// Write, so there fn runs when the connection is closed locally.
func (c *Conn) OnClosed(fn func()) {
	if fn == nil {
		panic("netpoll: OnClosed with a nil function")
	}
	c.c.onClosed(fn)
}
