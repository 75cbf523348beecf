package netpoll

// OnClosed arranges for fn to run once the connection is closed: by Close,
// an error, an idle timeout or a Shutdown, and, on the gnet backend, as soon
// as the peer closes its side (its FIN arrives; the connection can still be
// written, see Half-close in the package doc). If that has happened
// already, fn runs at once on the caller's goroutine. Otherwise fn runs on
// whatever goroutine notices, possibly a gnet event loop, so it must not
// block; cancelling a context is the typical use (the HTTP server cancels a
// request's context this way when its client goes away). The stdlib
// backend, and a gnet connection paused past its inbound limit, notice a
// peer's close only in a Read, so there fn runs then or when the connection
// is closed locally.
func (c *Conn) OnClosed(fn func()) {
	if fn == nil {
		panic("netpoll: OnClosed with a nil function")
	}
	c.c.onGone(fn)
}
