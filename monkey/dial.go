package monkey

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// DialFunc dials like net.Dialer.DialContext (netpoll.DialContext is one
// that moves TCP connections through gnet's event loops). monkey calls it off any
// greenlet's run token: from the transport's or the resolver's own
// goroutines with the greenlet hidden from ctx, or from Dial inside
// hub.Blocking while the calling greenlet is parked. So it must block the
// plain Go way (as every hub-aware call does for a ctx with no running
// greenlet). It must handle every network the standard library dials:
// "tcp*" for the transport, "udp*" and "tcp*" for DNS (the resolver treats a
// net.PacketConn as a datagram connection and anything else as a stream).
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// stdDialer matches the dialer of the standard library's default transport.
var stdDialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// stdDial is the default DialFunc: the standard library's net, until a
// faster dialer is measured under the crawler workload (see the package doc).
var stdDial DialFunc = stdDialer.DialContext

var dialFn atomic.Pointer[DialFunc]

// currentDial returns the DialFunc in force.
func currentDial() DialFunc {
	if p := dialFn.Load(); p != nil {
		return *p
	}
	return stdDial
}

// SetDialFunc makes fn the dial function that Dial and the Dialing patch use
// and returns the previous one; nil restores the default (the standard
// library's net.Dialer, 30 s timeout and keep-alive, like the default
// transport's). It takes effect for dials that start afterwards; it never
// blocks.
func SetDialFunc(fn DialFunc) (previous DialFunc) {
	var p *DialFunc
	if fn != nil {
		p = &fn
	}
	if old := dialFn.Swap(p); old != nil {
		return *old
	}
	return stdDial
}

// Dial connects to address on network through the dial function in force
// (see SetDialFunc), off the calling greenlet's run token: other greenlets
// run while it resolves the name and connects. It is the cooperative
// net.Dial; net.Dial and net.Dialer cannot be patched. Outside a greenlet it
// dials the plain way. ctx bounds the dial; a kill of the calling greenlet
// cancels it (through ctx) and lands when Dial returns, closing a connection
// that arrived just then.
//
// The connection itself is whatever the dial function returns: with the
// standard library's net its Read and Write block the run token the
// unpatched way (wrap long waits in hub.Blocking, or use a cooperative dial
// function).
func Dial(ctx context.Context, network, address string) (net.Conn, error) {
	return offToken(ctx, "dial "+address, func() (net.Conn, error) {
		return currentDial()(ctx, network, address)
	}, closeConn)
}

func closeConn(c net.Conn) {
	if c != nil {
		c.Close()
	}
}

// LookupHost is net.DefaultResolver.LookupHost off the calling greenlet's
// run token: other greenlets run while the name resolves. The standard
// library's lookups cannot be patched (see the package doc); this is their
// cooperative form. ctx bounds the lookup; a kill of the calling greenlet
// cancels it and lands when LookupHost returns.
func LookupHost(ctx context.Context, host string) ([]string, error) {
	return offToken(ctx, "dns "+host, func() ([]string, error) {
		return net.DefaultResolver.LookupHost(ctx, host)
	}, nil)
}

// LookupNetIP is net.DefaultResolver.LookupNetIP off the calling greenlet's
// run token, with LookupHost's blocking and kill. network is "ip", "ip4" or
// "ip6".
func LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return offToken(ctx, "dns "+host, func() ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, network, host)
	}, nil)
}
