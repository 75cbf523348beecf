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
//   - gnet-both: both ends netpoll. A gnet peer drains the socket whether or
//     not anyone reads, so a writer the suite leaves unread is never
//     throttled by the kernel; the peer's inbound limit is raised so the
//     suite's 100 ms floods stay under it (with the default 4 MiB the peer
//     would cut the connection, the documented policy);
//   - stdlib: both ends on the stdlib backend.
func TestNettestConn(t *testing.T) {
	t.Run("gnet", func(t *testing.T) { nettest.TestConn(t, makePipe(true)) })
	t.Run("gnet-both", func(t *testing.T) { nettest.TestConn(t, makePipe(false, WithInboundLimit(512<<20))) })
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
