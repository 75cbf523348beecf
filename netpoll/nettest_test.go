package netpoll

import (
	"context"
	"net"
	"testing"

	"golang.org/x/net/nettest"
)

// TestNettestConn runs the standard net.Conn conformance suite, from plain
// goroutines, with c1 (the connection the suite times out, closes and
// races) a netpoll connection:
//   - gnet: c1 dialed through netpoll, c2 a standard-library peer;
//   - gnet-both: both ends netpoll;
//   - stdlib: both ends on the stdlib backend.
//
// Several cases flood a connection that reads slowly or not at all
// (RacyRead, PresentTimeout, FutureTimeout). gnet drains the socket whatever
// the reader does, so there the kernel never throttles the sender and the
// inbound limit is what bounds memory: with the default 4 MiB the reader's
// connection is cut with ErrInboundOverflow (the documented policy, tested
// in TestFloodingClientIsCut). The suite runs with a 512 MiB limit so that
// its floods, a few hundred milliseconds long, stay under it.
func TestNettestConn(t *testing.T) {
	const limit = 512 << 20
	t.Run("gnet", func(t *testing.T) { nettest.TestConn(t, makePipe(true, WithInboundLimit(limit))) })
	t.Run("gnet-both", func(t *testing.T) { nettest.TestConn(t, makePipe(false, WithInboundLimit(limit))) })
	t.Run("stdlib", func(t *testing.T) { nettest.TestConn(t, makePipe(false, WithStdlib())) })
}

func makePipe(stdPeer bool, opts ...Option) nettest.MakePipe {
	return func() (c1, c2 net.Conn, stop func(), err error) {
		ctx := context.Background()
		var ln net.Listener
		if stdPeer {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		} else {
			ln, err = Listen(ctx, "tcp", "127.0.0.1:0", opts...)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		defer ln.Close()
		type res struct {
			c   net.Conn
			err error
		}
		ch := make(chan res, 1)
		go func() {
			c, err := ln.Accept()
			ch <- res{c, err}
		}()
		d, err := Dial(ctx, "tcp", ln.Addr().String(), opts...)
		if err != nil {
			return nil, nil, nil, err
		}
		r := <-ch
		if r.err != nil {
			d.Close()
			return nil, nil, nil, r.err
		}
		return d, r.c, func() { d.Close(); r.c.Close() }, nil
	}
}
