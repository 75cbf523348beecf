package netpoll

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
)

// StreamServer is gevent's StreamServer: it accepts TCP connections on its
// own greenlet and runs a handler greenlet per connection, closing the
// connection when the handler returns.
//
// Accepting is paced by the handlers: with WithMaxHandlers(n), or a spawner
// that parks while full, the server stops accepting while n handlers run and
// clients wait in the kernel's backlog. An accept failure (out of file
// descriptors, say) is reported to the hub's error handler and pauses
// accepting for 10 ms, doubling up to 1 s while failures continue, as
// gevent does. A handler that panics or fails is reported to the hub's
// error handler too, and its connection closed; the server keeps serving.
type StreamServer struct {
	addr    string
	handler func(ctx context.Context, c *Conn)
	cfg     *config

	mu       sync.Mutex
	state    serverState
	ln       *Listener
	h        *hub.Hub
	acceptor *hub.G
	nextHub  atomic.Uint64 // WithHubs' round robin
	handlers map[*handlerRec]struct{}
	conns    int
	err      error    // why accepting ended, if not Stop
	slot     waitList // the accept loop, waiting for a handler slot
	quiet    waitList // Stop, waiting for the handlers to finish
	ended    waitList // Serve and concurrent Stops, waiting for the end
}

type serverState int

const (
	serverNew serverState = iota
	serverRunning
	serverStopping
	serverStopped
)

// handlerRec is one connection's handler, from spawn to return.
type handlerRec struct {
	conn     *Conn
	g        *hub.G // its greenlet, once known
	killed   bool   // Stop gave up on it before it started
	finished bool
}

// Accept failures pause accepting for a delay that doubles between these
// bounds (gevent's min_delay and max_delay).
const (
	minAcceptDelay = 10 * time.Millisecond
	maxAcceptDelay = time.Second
)

// nextDelay is the pause after one more failure in a row, d the last one.
func nextDelay(d time.Duration) time.Duration { return min(max(2*d, minAcceptDelay), maxAcceptDelay) }

// killGrace bounds how long Stop waits for killed handlers to end.
const killGrace = time.Second

// NewStreamServer returns a server for addr ("host:port"; port 0 picks a
// free port, see Addr) that runs handler for every connection, in its own
// greenlet, with that greenlet's ctx and the connection bound to it. The
// connection is closed when handler returns. Nothing is bound until Start.
// A nil handler panics.
func NewStreamServer(addr string, handler func(ctx context.Context, c *Conn), opts ...ServerOption) (*StreamServer, error) {
	if handler == nil {
		panic("netpoll: nil handler")
	}
	cfg, err := serverConfig(opts)
	if err != nil {
		return nil, err
	}
	return &StreamServer{addr: addr, handler: handler, cfg: cfg, handlers: make(map[*handlerRec]struct{})}, nil
}

// Start binds the address and starts accepting on a greenlet of the hub ctx
// is bound to (hub.For; choose it with hub.NewContext). Handlers get ctx's
// values, but the server's life is not tied to ctx: it lasts until Stop.
// Start does not park; a server can be started once.
func (s *StreamServer) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := serverHub(ctx, s.state, "server", s.addr)
	if err != nil {
		return err
	}
	base := context.WithoutCancel(ctx)
	ln, err := listen(base, "tcp", s.addr, s.cfg)
	if err != nil {
		return err
	}
	s.ln, s.h, s.state = ln, h, serverRunning
	s.acceptor = hubsched.Spawn(h, base, sched.Task{
		Name: "netpoll.StreamServer " + ln.Addr().String(),
		Run:  s.acceptLoop,
		Done: s.reportOutcome,
	})
	if s.acceptor.State() == hub.StateDead {
		// The hub is stopped: the accept loop ended without running.
		s.state = serverStopped
		_ = ln.Close()
		return fmt.Errorf("netpoll: server on %s: %w", s.addr, hub.ErrHubStopped)
	}
	return nil
}

// Addr returns the address the server listens on, with the real port, or
// nil before Start.
func (s *StreamServer) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

func (s *StreamServer) acceptLoop(ctx context.Context) error {
	delay := time.Duration(0)
	spawnCtx := context.WithoutCancel(ctx) // handlers outlive the accept loop
	for {
		if err := s.waitSlot(ctx); err != nil {
			return nil
		}
		c, err := s.ln.AcceptContext(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) || errors.Is(err, ErrShutdown) {
				s.acceptEnded(err)
				return nil
			}
			hubsched.ReportError(s.h, hub.Current(ctx), fmt.Errorf("netpoll: server on %s: accept: %w", s.addr, err))
			delay = nextDelay(delay)
			if hub.Sleep(ctx, delay) != nil {
				return nil
			}
			continue
		}
		delay = 0
		s.dispatch(ctx, spawnCtx, c)
	}
}

// waitSlot parks the accept loop while the handler bound is reached.
func (s *StreamServer) waitSlot(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.state != serverRunning {
			s.mu.Unlock()
			return ErrServerStopped
		}
		if s.cfg.maxHandlers == 0 || len(s.handlers) < s.cfg.maxHandlers {
			s.mu.Unlock()
			return nil
		}
		if err := s.slot.park(ctx, &s.mu, "netpoll.server.slot"); err != nil {
			return err
		}
	}
}

// acceptEnded records why accepting stopped, if Stop did not stop it, and
// wakes Serve.
func (s *StreamServer) acceptEnded(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == serverRunning && s.err == nil {
		s.err = err
		s.ended.wakeAll()
	}
}

// dispatch starts the handler for c.
func (s *StreamServer) dispatch(ctx, spawnCtx context.Context, c *Conn) {
	s.mu.Lock()
	if s.state != serverRunning || (s.cfg.maxConns > 0 && s.conns >= s.cfg.maxConns) {
		s.mu.Unlock()
		c.c.abort()
		return
	}
	s.conns++
	rec := &handlerRec{conn: c}
	s.handlers[rec] = struct{}{}
	s.mu.Unlock()
	c.c.onClosed(func() {
		s.mu.Lock()
		s.conns--
		s.mu.Unlock()
	})

	fn := func(hctx context.Context) {
		s.mu.Lock()
		if rec.killed {
			s.mu.Unlock()
			s.handlerDone(rec)
			return
		}
		if rec.g == nil {
			rec.g = hub.Current(hctx)
		}
		s.mu.Unlock()
		defer s.handlerDone(rec)
		s.handler(hctx, c.WithContext(hctx))
	}
	if s.cfg.spawner == nil {
		g := hubsched.Spawn(s.handlerHub(c), spawnCtx, sched.Task{
			Name: "netpoll.handler " + c.RemoteAddr().String(),
			Run:  func(hctx context.Context) error { fn(hctx); return nil },
			Done: func(dctx context.Context, o sched.Outcome) {
				if !o.Started {
					s.handlerDone(rec) // killed (by Stop, a hub stop) before it ran
				}
				s.reportOutcome(dctx, o)
			},
		})
		s.mu.Lock()
		rec.g = g
		s.mu.Unlock()
		return
	}
	spawned := false
	defer func() {
		if !spawned {
			s.handlerDone(rec) // the spawner panicked (a kill of the accept loop)
		}
	}()
	err := s.cfg.spawner(spawnCtx, fn)
	spawned = true
	if err != nil {
		hubsched.ReportError(s.h, hub.Current(ctx), fmt.Errorf("netpoll: server on %s: spawn: %w", s.addr, err))
		s.handlerDone(rec)
	}
}

// serverHub is the start of a server's Start, under its lock: the server
// must be new, and it runs on the hub of ctx.
func serverHub(ctx context.Context, state serverState, what, addr string) (*hub.Hub, error) {
	if ctx == nil {
		panic("netpoll: nil context")
	}
	if state != serverNew {
		return nil, fmt.Errorf("netpoll: %s on %s: already started: %w", what, addr, errInvalid)
	}
	return hub.For(ctx), nil
}

// handlerHub is the hub c's handler runs on (without WithSpawner): the
// server's, or the next of WithHubs in turn. Nothing else in the server
// assumes a single hub: Stop kills and waits for handler greenlets of any
// hub.
func (s *StreamServer) handlerHub(*Conn) *hub.Hub {
	if hs := s.cfg.hubs; len(hs) > 0 {
		return hs[(s.nextHub.Add(1)-1)%uint64(len(hs))]
	}
	return s.h
}

// reportOutcome reports the failure of one of the server's greenlets (a
// handler's panic, a kill other than a default one, Stop's or the hub's
// stopping) to the hub's error handler.
func (s *StreamServer) reportOutcome(ctx context.Context, o sched.Outcome) {
	if o.Err == nil {
		return
	}
	if o.Killed && (errors.Is(o.Err, hub.ErrKilled) || errors.Is(o.Err, ErrServerStopped) || errors.Is(o.Err, hub.ErrHubStopped)) {
		return
	}
	h := s.h
	if g := hub.Current(ctx); g != nil {
		h = g.Hub() // a handler's own hub (WithHubs)
	}
	hubsched.ReportError(h, hub.Current(ctx), o.Err)
}

// handlerDone closes the handler's connection and frees its slot.
func (s *StreamServer) handlerDone(rec *handlerRec) {
	_ = rec.conn.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.finished {
		return
	}
	rec.finished = true
	delete(s.handlers, rec)
	s.slot.wakeAll()
	s.quiet.wakeAll()
}

// Serve starts the server if it is not started and parks the calling
// greenlet until the server stops. It returns nil after Stop, or the error
// that ended accepting (a Shutdown, the listener failing); then it stops
// the server itself, giving handlers WithStopTimeout to finish. If ctx ends
// first, Serve stops the server the same way and returns ctx's cause; if
// the calling greenlet is killed, it kills the handlers without waiting and
// the kill lands here. This is gevent's serve_forever.
func (s *StreamServer) Serve(ctx context.Context) error {
	s.mu.Lock()
	fresh := s.state == serverNew
	s.mu.Unlock()
	if fresh {
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	// A kill of the caller lands in the park below; as it unwinds, the
	// server stops without waiting for its handlers.
	parked := false
	defer func() {
		if parked {
			s.stopNow()
		}
	}()
	for {
		s.mu.Lock()
		if s.state == serverStopped {
			s.mu.Unlock()
			return nil
		}
		if s.err != nil && s.state == serverRunning {
			err := s.err
			s.mu.Unlock()
			s.stopWithin(ctx, s.cfg.stopTimeout)
			return err
		}
		parked = true
		err := s.ended.park(ctx, &s.mu, "netpoll.server.serve")
		parked = false
		if err != nil {
			s.stopWithin(ctx, s.cfg.stopTimeout)
			return err
		}
	}
}

func (s *StreamServer) stopWithin(ctx context.Context, d time.Duration) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	_ = s.Stop(sctx)
}

// Stop stops the server: it closes the listener, so new connections are
// refused at once, and parks the calling greenlet until the running handlers
// return or ctx ends, or, if ctx has no deadline, until the server's stop
// timeout (WithStopTimeout, default DefaultStopTimeout: gevent's
// stop_timeout) passes. Then it kills the handlers still running, with
// cause ErrServerStopped, and waits up to a second (killGrace) more for them
// to end; the connections of those that still run then (stuck where a kill
// cannot land, such as a wait that ignores their ctx) are closed, and Stop
// returns regardless. Each handler's connection is closed as it ends. Stop
// returns nil if every handler finished in time, or an error wrapping the
// cause of the wait's end (context.DeadlineExceeded for the stop timeout)
// that says how many were killed. Stop is idempotent; a Stop during another
// waits for that one. A handler may stop its own server: Stop then does not
// wait for (or kill) the calling handler. If the calling greenlet is killed
// while Stop waits, the handlers are killed and their connections closed
// without waiting, the server ends stopped, and the kill lands in Stop.
func (s *StreamServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case serverNew:
		s.state = serverStopped
		s.mu.Unlock()
		return nil
	case serverStopped:
		s.mu.Unlock()
		return nil
	case serverStopping:
		return s.ended.park(ctx, &s.mu, "netpoll.server.stop")
	}
	s.state = serverStopping
	s.slot.wakeAll()
	s.mu.Unlock()

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.stopTimeout)
		defer cancel()
	}
	_ = s.ln.Close()
	s.acceptor.Kill(ErrServerStopped)
	self := hub.Current(ctx)
	// The server ends stopped however this call ends. If a kill of the
	// caller lands in one of the waits below, the handlers are killed and
	// their connections closed without waiting for them (a handler stuck
	// where a kill cannot land must not keep its client).
	finished := false
	defer func() {
		if !finished {
			s.killHandlers(self)
			s.abortConns(self)
		}
		s.mu.Lock()
		s.state = serverStopped
		s.ended.wakeAll()
		s.mu.Unlock()
	}()
	// Once the accept loop is dead no handler can be added.
	waitDead(ctx, s.acceptor)
	err := s.waitHandlers(ctx, self)
	if err != nil {
		n := s.killHandlers(self)
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killGrace)
		left := s.waitHandlers(kctx, self)
		cancel()
		err = fmt.Errorf("netpoll: stop: killed %d handlers: %w", n, context.Cause(ctx))
		if left != nil {
			stuck := s.abortConns(self)
			err = fmt.Errorf("netpoll: stop: killed %d handlers, %d did not end within %v (their connections are closed): %w",
				n, stuck, killGrace, context.Cause(ctx))
		}
	}
	finished = true
	return err
}

// abortConns closes the connections of the handlers still running but
// self's, and says how many there were.
func (s *StreamServer) abortConns(self *hub.G) int {
	s.mu.Lock()
	var conns []*Conn
	for rec := range s.handlers {
		if self == nil || rec.g != self {
			conns = append(conns, rec.conn)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.c.abort()
	}
	return len(conns)
}

// stopNow stops the server without waiting: it closes the listener and
// kills every handler.
func (s *StreamServer) stopNow() {
	s.mu.Lock()
	if s.state != serverRunning {
		s.mu.Unlock()
		return
	}
	s.state = serverStopped
	s.slot.wakeAll()
	s.ended.wakeAll()
	s.mu.Unlock()
	_ = s.ln.Close()
	s.acceptor.Kill(ErrServerStopped)
	s.killHandlers(nil)
}

// waitHandlers parks until no handler other than self runs, or ctx ends.
func (s *StreamServer) waitHandlers(ctx context.Context, self *hub.G) error {
	for {
		s.mu.Lock()
		n := 0
		for rec := range s.handlers {
			if self == nil || rec.g != self {
				n++
			}
		}
		if n == 0 {
			s.mu.Unlock()
			return nil
		}
		if err := s.quiet.park(ctx, &s.mu, "netpoll.server.stop"); err != nil {
			return err
		}
	}
}

// killHandlers kills every handler but self and reports how many. One not
// started yet (under a custom spawner) is marked so it returns at once;
// one not on a greenlet has its connection closed, which ends its
// blocking calls.
func (s *StreamServer) killHandlers(self *hub.G) int {
	s.mu.Lock()
	var gs []*hub.G
	var conns []*Conn
	for rec := range s.handlers {
		switch {
		case rec.g == self && self != nil:
		case rec.g != nil:
			gs = append(gs, rec.g)
		default:
			rec.killed = true
			conns = append(conns, rec.conn)
		}
	}
	s.mu.Unlock()
	for _, g := range gs {
		g.Kill(ErrServerStopped)
	}
	for _, c := range conns {
		c.c.abort()
	}
	return len(gs) + len(conns)
}

// waitDead parks until g has ended or ctx ends.
func waitDead(ctx context.Context, g *hub.G) {
	_ = hub.Blocking(ctx, "netpoll.server.stop", func(context.Context) error {
		select {
		case <-g.Dead():
		case <-ctx.Done():
		}
		return nil
	})
}

// hubsched is the hub's scheduler as this package drives it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
