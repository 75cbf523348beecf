package netpoll

import (
	"context"
	"net"

	"github.com/gevent-go/gevent/hub"
)

// Dial connects to addr and returns the connection bound to ctx. network
// must be "tcp", "tcp4" or "tcp6". It parks the calling greenlet while
// resolving and connecting (the standard library's net.Dialer does that part,
// off the run token), then moves the socket to gnet's event loops. ctx's
// deadline bounds the whole call and ctx ending cancels it; a kill lands
// here and leaves no connection behind. A refused connection fails at once
// with an error matching syscall.ECONNREFUSED.
//
// Dial must not be called from inside a gnet event-loop callback (it waits
// for a loop); no code of this package's users runs there.
func Dial(ctx context.Context, network, addr string, opts ...Option) (*Conn, error) {
	if ctx == nil {
		panic("netpoll: nil context")
	}
	cfg, err := connConfig(opts, true)
	if err != nil {
		return nil, err
	}
	if err := checkNetwork(network); err != nil {
		return nil, err
	}
	var c connImpl
	landed := false
	defer func() {
		if !landed && c != nil {
			c.abort() // killed while dialing: do not leak the connection
		}
	}()
	err = hub.Blocking(ctx, "netpoll.dial", func(ctx context.Context) error {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return err
		}
		c, err = adopt(nc, cfg, nil)
		return err
	})
	landed = true
	if err != nil {
		return nil, err
	}
	return newConn(c, ctx), nil
}

// DialContext has the signature of net.Dialer.DialContext, to be given where
// a dial function is wanted (monkey.SetDialFunc, http.Transport's
// DialContext): it dials "tcp", "tcp4" and "tcp6" with Dial, so that the
// connection's bytes move through gnet's event loops, and every other
// network (DNS over "udp", "unix" sockets) with the standard library's
// net.Dialer. It blocks and is killed as Dial does; outside a greenlet (as
// when a transport's own goroutine calls it) it blocks the plain Go way.
func DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return Dial(ctx, network, address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}
