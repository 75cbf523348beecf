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
// (RacyRead, PresentTimeout, FutureTimeout): past the inbound limit its
// connection is paused, read through the runtime's poller, and the kernel
// throttles the sender, as with the standard library. The "small limit"
// runs pause at once.
func TestNettestConn(t *testing.T) {
	t.Run("gnet", func(t *testing.T) { nettest.TestConn(t, makePipe(true)) })
	t.Run("gnet-both", func(t *testing.T) { nettest.TestConn(t, makePipe(false)) })
	t.Run("gnet-small-limit", func(t *testing.T) { nettest.TestConn(t, makePipe(false, WithInboundLimit(1))) })
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
