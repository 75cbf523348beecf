package netpoll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
	"github.com/gevent-go/gevent/spawn"
)

// DatagramServer is gevent's DatagramServer: it reads UDP datagrams and
// runs a handler greenlet per datagram, with the datagram, its sender and
// the server's socket bound to the handler (so that a reply with WriteTo
// parks only that handler).
//
// Reading is paced by the handlers: with WithMaxHandlers(n), the server
// stops reading while n handlers run, and datagrams wait in the socket's
// receive buffer, where the kernel drops what does not fit, as UDP does.
// A handler that panics is reported to the hub's error handler; the server
// keeps serving. A read failure other than the socket closing is reported
// there too and pauses reading for 10 ms, doubling up to 1 s while failures
// continue.
type DatagramServer struct {
	addr    string
	handler func(ctx context.Context, c *PacketConn, data []byte, from net.Addr)
	cfg     *config

	mu      sync.Mutex
	state   serverState
	pc      *PacketConn
	h       *hub.Hub
	set     handlerSet
	base    context.Context // what handlers are spawned with
	cancel  context.CancelFunc
	readEnd chan struct{} // closed when the reader exits
	ended   hub.Event     // set once the server is stopped
	stopErr error
}

// handlerSet is the pool (WithMaxHandlers) or group the handlers run in.
type handlerSet interface {
	pool.Spawner
	Join(ctx context.Context, opts ...spawn.JoinOption) error
	KillAsync(cause error)
}

// maxDatagram is the largest UDP payload.
const maxDatagram = 64 << 10

// NewDatagramServer returns a server for addr ("host:port"; port 0 picks a
// free port, see Addr) that runs handler for every datagram received, in a
// greenlet of its own, with that greenlet's ctx, the server's socket bound
// to it, a copy of the datagram (the handler may keep it) and its sender.
// It takes the DatagramOptions, WithMaxHandlers and WithStopTimeout; the
// stream server's and the connections' options do not compile here.
// Nothing is bound until Start. A nil handler panics.
func NewDatagramServer(addr string, handler func(ctx context.Context, c *PacketConn, data []byte, from net.Addr), opts ...DatagramOption) (*DatagramServer, error) {
	if handler == nil {
		panic("netpoll: nil handler")
	}
	cfg, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	return &DatagramServer{addr: addr, handler: handler, cfg: cfg}, nil
}

// Start binds the address and starts reading, on a goroutine of the
// server's, with handlers on the hub ctx is bound to (hub.For; choose it
// with hub.NewContext).
// Handlers get ctx's values, but the server's life is not tied to ctx: it
// lasts until Stop. Start does not park; a server can be started once.
func (s *DatagramServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := serverHub(ctx, s.state, "datagram server", s.addr)
	if err != nil {
		return err
	}
	// base binds the handlers (pool.Spawn) to the server's hub.
	base := hub.NewContext(hub.Detach(context.WithoutCancel(ctx)), h)
	pc, err := listenPacket(base, "udp", s.addr, s.cfg)
	if err != nil {
		return err
	}
	s.pc, s.h, s.base, s.state = pc, h, base, serverRunning
	if s.cfg.maxHandlers > 0 {
		s.set = pool.New(s.cfg.maxHandlers)
	} else {
		s.set = pool.NewGroup()
	}
	var rctx context.Context
	rctx, s.cancel = context.WithCancel(base)
	s.readEnd = make(chan struct{})
	// (A goroutine started from a greenlet inherits its hub's profiler
	// label; the blocking monitor tells it from a greenlet by its frames.)
	go s.read(rctx)
	return nil
}

// Addr returns the address the server listens on, with the real port, or
// nil before Start.
func (s *DatagramServer) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pc == nil {
		return nil
	}
	return s.pc.LocalAddr()
}

// read receives datagrams and spawns their handlers until the socket is
// closed or ctx ends.
func (s *DatagramServer) read(ctx context.Context) {
	defer close(s.readEnd)
	pc := s.pc.WithContext(ctx)
	buf := make([]byte, maxDatagram)
	var delay time.Duration
	for {
		if p, ok := s.set.(*pool.Pool); ok {
			// Wait for a slot before reading, so that a full server leaves
			// datagrams in the kernel (and Stop can interrupt the wait).
			if _, err := p.WaitAvailable(ctx); err != nil {
				return
			}
		}
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			hubsched.ReportError(s.h, nil, fmt.Errorf("netpoll: datagram server on %s: read: %w", s.addr, err))
			delay = nextDelay(delay)
			if hub.Sleep(ctx, delay) != nil { // a plain goroutine: blocks the plain way
				return
			}
			continue
		}
		delay = 0
		data := bytes.Clone(buf[:n])
		if err := pool.Submit(s.base, s.set, func(hctx context.Context) error {
			s.handler(hctx, s.pc.WithContext(hctx), data, from)
			return nil
		}); err != nil {
			hubsched.ReportError(s.h, nil, fmt.Errorf("netpoll: datagram server on %s: spawn: %w", s.addr, err))
		}
	}
}

// Serve starts the server if it is not started and parks the calling
// greenlet until the server stops. It returns nil after Stop. If ctx ends
// first, Serve stops the server, giving handlers WithStopTimeout to finish,
// and returns ctx's cause. This is gevent's serve_forever.
func (s *DatagramServer) Serve(ctx context.Context) error {
	s.mu.Lock()
	fresh := s.state == serverNew
	s.mu.Unlock()
	if fresh {
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	if s.ended.Wait(ctx) == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.stopTimeout)
	defer cancel()
	_ = s.Stop(sctx)
	return context.Cause(ctx)
}

// Stop stops the server: it closes the socket, so datagrams are no longer
// received, and parks the calling greenlet until the running handlers
// return or ctx ends; then it kills the handlers still running (a default
// kill, gevent's GreenletExit, which is not reported as a failure) and waits
// up to a second more for them to end. It
// returns nil if every handler finished in time, or an error wrapping ctx's
// cause. Stop is idempotent; a Stop during another waits for that one.
// (A handler that stops its own server makes Stop wait for itself: stop it
// from another greenlet.)
func (s *DatagramServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case serverNew:
		s.state = serverStopped
		s.mu.Unlock()
		s.ended.Set()
		return nil
	case serverStopping, serverStopped:
		s.mu.Unlock()
		if s.ended.Wait(ctx) != nil {
			return context.Cause(ctx)
		}
		return s.stopErr
	}
	s.state = serverStopping
	s.mu.Unlock()

	s.cancel()
	_ = s.pc.Close()
	_ = hub.Blocking(ctx, "netpoll.datagram.stop", func(context.Context) error { <-s.readEnd; return nil }) // prompt: its socket is closed
	var err error
	if s.set.Join(ctx) != nil {
		s.set.KillAsync(nil) // a default kill: a success, not a failure to report
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killGrace)
		left := s.set.Join(kctx)
		cancel()
		err = fmt.Errorf("netpoll: datagram server stop: handlers killed: %w", context.Cause(ctx))
		if left != nil {
			err = fmt.Errorf("netpoll: datagram server stop: handlers killed, some did not end within %v: %w", killGrace, context.Cause(ctx))
		}
	}
	s.mu.Lock()
	s.state, s.stopErr = serverStopped, err
	s.mu.Unlock()
	s.ended.Set()
	return err
}
