//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

// queuedOut reports the output c holds in user space (netpoll's buffers and
// gnet's), on the gnet backend.
func queuedOut(c *Conn) (int, bool) {
	g, ok := c.c.(*gconn)
	if !ok {
		return 0, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.queuedLocked(), true
}
