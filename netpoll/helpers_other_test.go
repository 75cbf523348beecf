//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package netpoll

// idleClient belongs to a Unix-only benchmark.
func idleClient(string) {}
