package netpoll

import (
	"errors"
	"io"
	"net"
	"time"
)

// Sentinel errors of the package. Match them with errors.Is; the errors
// returned by Conn methods wrap them in a *net.OpError, as the standard
// library does.
var (
	// ErrInboundOverflow: the connection was cut because the process's gnet
	// connections together held more received, unread input than the
	// engine's budget (SetEngineInboundBudget), and it held the most. The
	// inbound limits and the Listeners' and servers' budgets pause
	// connections instead (see WithInboundLimit); this budget is the last
	// resort. Read and Write return it.
	ErrInboundOverflow = errors.New("netpoll: inbound budget exceeded")
	// ErrIdleTimeout: nothing was received or written for the connection's
	// idle timeout (WithIdleTimeout), so it was closed.
	ErrIdleTimeout = errors.New("netpoll: idle timeout")
	// ErrShutdown: Shutdown stopped the package's shared event loops, closing
	// the connection or listener.
	ErrShutdown = errors.New("netpoll: shut down")
	// ErrServerStopped: the cause with which StreamServer.Stop kills the
	// handlers still running at its deadline.
	ErrServerStopped = errors.New("netpoll: server stopped")
	// ErrUnsupportedNetwork: a network other than "tcp", "tcp4" or "tcp6".
	ErrUnsupportedNetwork = errors.New("netpoll: unsupported network")
)

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

// opError wraps err the way the standard library reports failed socket
// calls, so net.Error assertions and errors.Is both work. io.EOF is
// returned bare, as io.Reader requires.
func opError(op string, laddr, raddr net.Addr, err error) error {
	if _, ok := err.(*net.OpError); ok || err == nil || err == io.EOF {
		return err // already the standard library's report
	}
	e := &net.OpError{Op: op, Err: err}
	if raddr != nil {
		e.Net = raddr.Network()
	}
	if op == "accept" {
		e.Addr = laddr
	} else {
		e.Source, e.Addr = laddr, raddr
	}
	return e
}
