package netpoll

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// Listener accepts TCP connections cooperatively. *Listener implements
// net.Listener.
//
// The listening socket stays on the standard library's net package (it is
// not where the bytes flow), so closing it refuses new connections at once
// without touching accepted ones, port 0 reports its real port, and
// accepting happens only on demand: while nobody calls Accept, clients wait
// in the kernel's backlog. One acceptor goroutine per Listener accepts when
// a caller is waiting and moves each connection to the event loops.
type Listener struct {
	ln     net.Listener
	ctx    context.Context
	cfg    *config
	budget *budget // shared by its connections (WithInboundBudget)

	mu      sync.Mutex
	ready   []accepted // accepted, not yet handed out (at most one more than callers waiting)
	waiters waitList
	err     error         // set for good once closed or failed
	closed  bool          // Close has run
	demand  chan struct{} // cap 1: a caller waits for a connection
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the acceptor exits
}

type accepted struct {
	c   connImpl
	err error
}

// open tracks the listeners for Shutdown.
var open struct {
	sync.Mutex
	ls map[*Listener]struct{}
}

// Listen listens on addr. network must be "tcp", "tcp4" or "tcp6"; a port
// of 0 picks a free port, which Addr reports. ctx is what Accept waits with
// and what the connections it returns are bound to (see Conn); it does not
// bound the listener's life, which ends with Close or Shutdown. Listen binds
// through the standard library without parking.
func Listen(ctx context.Context, network, addr string, opts ...Option) (*Listener, error) {
	if ctx == nil {
		panic("netpoll: nil context")
	}
	cfg, err := connConfig(opts, false)
	if err != nil {
		return nil, err
	}
	return listen(ctx, network, addr, cfg)
}

func listen(ctx context.Context, network, addr string, cfg *config) (*Listener, error) {
	if err := checkNetwork(network); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	l := &Listener{
		ln:      ln,
		ctx:     ctx,
		cfg:     cfg,
		budget:  newBudget(cfg.inboundBudget, false),
		demand:  make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	open.Lock()
	if open.ls == nil {
		open.ls = make(map[*Listener]struct{})
	}
	open.ls[l] = struct{}{}
	open.Unlock()
	// (A goroutine started from a greenlet inherits its hub's profiler
	// label; the blocking monitor tells it from a greenlet by its frames.)
	go l.acceptor()
	return l, nil
}

func checkNetwork(network string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return nil
	}
	return fmt.Errorf("netpoll: network %q: %w", network, ErrUnsupportedNetwork)
}

// acceptor accepts one connection per demand signal and hands it to the
// first waiting caller.
func (l *Listener) acceptor() {
	defer close(l.done)
	for {
		select {
		case <-l.demand:
		case <-l.closing:
			return
		}
		nc, err := l.ln.Accept()
		var a accepted
		if err == nil {
			a.c, a.err = adopt(nc, l.cfg, l.budget)
		} else {
			a.err = err
		}
		l.mu.Lock()
		if l.err != nil {
			l.mu.Unlock()
			if a.c != nil {
				a.c.abort()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			// Closed under us (not through Close): fail for good.
			l.err = err
			l.waiters.wakeAll()
			l.mu.Unlock()
			return
		}
		l.ready = append(l.ready, a)
		// Wake one caller; if it is gone, the next. Whoever wakes and finds
		// nothing re-signals demand.
		for len(l.waiters) > 0 {
			w := l.waiters[0]
			l.waiters = l.waiters[1:]
			if w.Wake() {
				break
			}
		}
		if len(l.waiters) > 0 {
			l.signal()
		}
		l.mu.Unlock()
	}
}

func (l *Listener) signal() {
	select {
	case l.demand <- struct{}{}:
	default:
	}
}

// AcceptContext waits for the next connection and returns it bound to ctx.
// It parks the calling greenlet until a client connects, the listener is
// closed (an error matching net.ErrClosed, or ErrShutdown), or ctx ends; a
// kill lands here. Callers are served in the order they parked. A transient
// failure (out of file descriptors, say) is returned as an error and the
// listener stays usable.
func (l *Listener) AcceptContext(ctx context.Context) (*Conn, error) {
	for {
		l.mu.Lock()
		if len(l.ready) > 0 {
			a := l.ready[0]
			l.ready[0] = accepted{}
			l.ready = l.ready[1:]
			l.mu.Unlock()
			if a.err != nil {
				return nil, opError("accept", l.ln.Addr(), nil, a.err)
			}
			return newConn(a.c, ctx), nil
		}
		if l.err != nil {
			err := l.err
			l.mu.Unlock()
			return nil, opError("accept", l.ln.Addr(), nil, err)
		}
		l.signal()
		if err := l.waiters.park(ctx, &l.mu, "netpoll.accept"); err != nil {
			return nil, opError("accept", l.ln.Addr(), nil, err)
		}
	}
}

// Accept is AcceptContext with the ctx given to Listen.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptContext(l.ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Addr returns the listener's address, with the real port if 0 was asked.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops listening: new connections are refused from now on, callers
// blocked in Accept return an error matching net.ErrClosed, and connections
// accepted but not yet handed out are closed. Connections already handed
// out are not affected. It waits (briefly, without parking) for the acceptor
// goroutine to exit. Close is idempotent: later calls return nil.
func (l *Listener) Close() error {
	return l.closeWith(net.ErrClosed)
}

func (l *Listener) closeWith(cause error) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	if l.err == nil {
		l.err = cause
	}
	ready := l.ready
	l.ready = nil
	l.waiters.wakeAll()
	l.mu.Unlock()
	close(l.closing)
	err := l.ln.Close()
	<-l.done
	for _, a := range ready {
		if a.c != nil {
			a.c.abort()
		}
	}
	open.Lock()
	delete(open.ls, l)
	open.Unlock()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return opError("close", l.ln.Addr(), nil, err)
	}
	return nil
}

// Shutdown closes every open Listener (callers in Accept get ErrShutdown) and
// stops the gnet event loops that all connections share, closing every
// connection on them (their Read and Write return ErrShutdown). It waits,
// until ctx ends, for the loops' goroutines to exit, so a program (or a test
// checking for leaked goroutines) can end cleanly. Connections made after
// Shutdown start the loops afresh. Connections on the stdlib backend are
// not tracked and stay open.
func Shutdown(ctx context.Context) error {
	open.Lock()
	ls := make([]*Listener, 0, len(open.ls))
	for l := range open.ls {
		ls = append(ls, l)
	}
	open.Unlock()
	for _, l := range ls {
		_ = l.closeWith(ErrShutdown)
	}
	return stopEngine(ctx)
}
