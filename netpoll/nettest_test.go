package netpoll

import (
	"context"
	"net"
	"testing"

	"golang.org/x/net/nettest"
)

// TestNettestConn runs the standard net.Conn conformance suite over a
// netpoll pair (dialed and accepted), used from plain goroutines, on both
// backends.
func TestNettestConn(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
			ctx := context.Background()
			ln, err := Listen(ctx, "tcp", "127.0.0.1:0", opts...)
			if err != nil {
				return nil, nil, nil, err
			}
			defer ln.Close()
			ch := make(chan net.Conn, 1)
			errc := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				errc <- err
				ch <- c
			}()
			d, err := Dial(ctx, "tcp", ln.Addr().String(), opts...)
			if err != nil {
				return nil, nil, nil, err
			}
			if err := <-errc; err != nil {
				d.Close()
				return nil, nil, nil, err
			}
			a := <-ch
			return d, a, func() { d.Close(); a.Close() }, nil
		})
	})
}
