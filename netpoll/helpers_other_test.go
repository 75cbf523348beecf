//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package netpoll

// idleClient belongs to a Unix-only benchmark.
func idleClient(string) {}

// queuedOut: only the gnet backend holds output in user space.
func queuedOut(*Conn) (int, bool) { return 0, false }
