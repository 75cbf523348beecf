package netpoll

import (
	"context"
	"fmt"
	"net"
	"time"
)

// PacketConn is a UDP socket whose blocking calls park only the calling
// greenlet. *PacketConn implements net.PacketConn.
//
// UDP goes through the standard library's net package (gnet's client side
// cannot take an unconnected UDP socket): ReadFrom and WriteTo run off the
// calling greenlet's run token (hub.Blocking) while other greenlets run,
// and the end of the bound ctx interrupts them, as on the stdlib backend of
// Conn. Like Conn, a PacketConn carries the ctx its calls wait with: the
// one given to ListenPacket, or another through WithContext; a greenlet
// uses a PacketConn bound to its own ctx. A DatagramServer hands its
// handlers the server's socket bound to theirs.
//
// A kill or the end of the bound ctx makes a blocked ReadFrom return at
// once having consumed nothing; a blocked WriteTo returns having sent
// nothing. The kernel's buffers bound memory: datagrams that arrive while
// the socket's receive buffer is full are dropped, as UDP does.
type PacketConn struct {
	s   *sconn
	udp *net.UDPConn
	ctx context.Context
}

// ListenPacket opens a UDP socket on addr and returns it bound to ctx.
// network must be "udp", "udp4" or "udp6"; a port of 0 picks a free port,
// which LocalAddr reports. ctx does not bound the socket's life, which ends
// with Close. Of the options, WithIdleTimeout applies (the socket is closed
// after that long without a datagram in or out); the others concern TCP and
// have no effect (server options do not compile). ListenPacket binds
// through the standard library without parking.
func ListenPacket(ctx context.Context, network, addr string, opts ...Option) (*PacketConn, error) {
	if ctx == nil {
		panic("netpoll: nil context")
	}
	cfg, err := connConfig(opts, false)
	if err != nil {
		return nil, err
	}
	return listenPacket(ctx, network, addr, cfg)
}

func listenPacket(ctx context.Context, network, addr string, cfg *config) (*PacketConn, error) {
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return nil, fmt.Errorf("netpoll: network %q: %w", network, ErrUnsupportedNetwork)
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(context.WithoutCancel(ctx), network, addr)
	if err != nil {
		return nil, err
	}
	udp := pc.(*net.UDPConn)
	return &PacketConn{s: adoptStd(udp, cfg), udp: udp, ctx: ctx}, nil
}

// WithContext returns c bound to ctx: the same socket (its deadlines and
// Close are shared), whose blocking calls wait with ctx.
func (c *PacketConn) WithContext(ctx context.Context) *PacketConn {
	if ctx == nil {
		panic("netpoll: nil context")
	}
	return &PacketConn{s: c.s, udp: c.udp, ctx: ctx}
}

// Context returns the ctx c's blocking calls wait with.
func (c *PacketConn) Context() context.Context { return c.ctx }

// ReadFrom reads one datagram into p (the part that does not fit is
// dropped, as with net.UDPConn) and returns its size and sender. It parks
// the calling greenlet until a datagram arrives, the read deadline passes,
// the socket is closed, or the bound ctx ends; a kill lands here.
func (c *PacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	var from net.Addr
	n, err := c.s.doOp(c.ctx, "read", &c.s.r, p, func(b []byte) (int, error) {
		n, addr, err := c.udp.ReadFrom(b)
		if addr != nil {
			from = addr
		}
		return n, err
	})
	return n, from, err
}

// WriteTo sends p as one datagram to addr. It returns at once unless the
// socket's send buffer is full; then it parks the calling greenlet until
// there is room, the write deadline passes, or the bound ctx ends (a kill
// lands here and nothing is sent).
func (c *PacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	return c.s.doOp(c.ctx, "write", &c.s.w, p, func(b []byte) (int, error) { return c.udp.WriteTo(b, addr) })
}

// Close closes the socket; blocked and later calls fail with an error
// matching net.ErrClosed. It never blocks.
func (c *PacketConn) Close() error { return c.s.close() }

// LocalAddr returns the socket's address, with the real port if 0 was
// asked.
func (c *PacketConn) LocalAddr() net.Addr { return c.udp.LocalAddr() }

// SetDeadline sets the read and write deadlines.
func (c *PacketConn) SetDeadline(t time.Time) error {
	if err := c.s.setReadDeadline(t); err != nil {
		return err
	}
	return c.s.setWriteDeadline(t)
}

// SetReadDeadline sets when ReadFrom stops waiting, with net.PacketConn's
// contract (an error matching os.ErrDeadlineExceeded; a ReadFrom already
// blocked sees a moved deadline).
func (c *PacketConn) SetReadDeadline(t time.Time) error { return c.s.setReadDeadline(t) }

// SetWriteDeadline sets when WriteTo stops waiting for room.
func (c *PacketConn) SetWriteDeadline(t time.Time) error { return c.s.setWriteDeadline(t) }
