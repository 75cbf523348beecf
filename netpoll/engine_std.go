//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package netpoll

import (
	"context"
	"net"
)

// adopt wraps nc: without gnet, every connection uses the standard library.
func adopt(nc net.Conn, cfg *config, _ *budget) (connImpl, error) {
	return adoptStd(nc, cfg), nil
}

// stopEngine has no event loops to stop without gnet.
func stopEngine(context.Context) error { return nil }
