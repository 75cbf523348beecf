package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/pool"
	"github.com/gevent-go/gevent/spawn"
)

// Defaults of the server's limits. Unlike net/http's zero defaults, the
// header and idle timeouts are on unless set to 0, so that a client that
// opens connections and sends nothing (or a header a byte at a time) cannot
// hold them for ever.
const (
	// DefaultReadHeaderTimeout is the default WithReadHeaderTimeout.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is the default WithIdleTimeout.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxHeaderBytes is the default WithMaxHeaderBytes, net/http's.
	DefaultMaxHeaderBytes = http.DefaultMaxHeaderBytes
)

// Server is an HTTP/1.x server whose connections are greenlets: gevent's
// pywsgi.WSGIServer for http.Handlers. See the package doc.
type Server struct {
	handler   http.Handler
	cfg       config
	ss        *netpoll.StreamServer
	acceptHub *hub.Hub                   // the accept loop's, the server's own
	hubs      atomic.Pointer[[]*hub.Hub] // the connections' hubs, set by Start
	next      atomic.Uint64              // round robin over hubs

	stopping atomic.Bool // a graceful stop began: responses close their connections
	mu       sync.Mutex
	conns    map[*conn]struct{} // open connections; a graceful stop closes the idle ones
}

// An Option configures New.
type Option interface{ applyHTTP(*config) error }

type optionFunc func(*config) error

func (f optionFunc) applyHTTP(c *config) error { return f(c) }

type config struct {
	maxHandlers       int
	pool              *pool.Pool
	stopTimeout       time.Duration
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	maxHeaderBytes    int
	maxBodyBytes      int64
	tls               *tls.Config
	hubs              []*hub.Hub
	netpoll           []netpoll.ServerOption
}

var errInvalid = errors.New("invalid argument")

func durationOption(name string, d time.Duration, set func(*config)) Option {
	return optionFunc(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("httpserver: %s %v: %w", name, d, hub.ErrNegativeDuration)
		}
		set(c)
		return nil
	})
}

// WithReadHeaderTimeout bounds the time to read a request's header, from
// its first byte (or, for a connection's first request, from the accept):
// what stops a client that sends its header a byte at a time (slowloris).
// A connection past it is closed without a response. 0 disables it; the
// default is DefaultReadHeaderTimeout.
func WithReadHeaderTimeout(d time.Duration) Option {
	return durationOption("read header timeout", d, func(c *config) { c.readHeaderTimeout = d })
}

// WithReadTimeout bounds the time to read a whole request, header and body,
// from its first byte, as http.Server.ReadTimeout: a body Read past it fails
// with a timeout error. 0, the default, means no limit.
func WithReadTimeout(d time.Duration) Option {
	return durationOption("read timeout", d, func(c *config) { c.readTimeout = d })
}

// WithWriteTimeout bounds the time a response may wait for its client to
// take the bytes, from the end of the request's header, as
// http.Server.WriteTimeout: past it, response writes fail and the
// connection is closed. (netpoll's Write waits only while the kernel's send
// buffer is full; the deadline bounds those waits.)
// 0, the default, means no limit.
func WithWriteTimeout(d time.Duration) Option {
	return durationOption("write timeout", d, func(c *config) { c.writeTimeout = d })
}

// WithIdleTimeout bounds how long a keep-alive connection waits for its
// next request; past it the connection is closed. 0 disables it; the
// default is DefaultIdleTimeout.
func WithIdleTimeout(d time.Duration) Option {
	return durationOption("idle timeout", d, func(c *config) { c.idleTimeout = d })
}

// WithMaxHeaderBytes bounds the size of a request's line and header
// (default DefaultMaxHeaderBytes; net/http allows 4 KiB of slack above it,
// and so does this server). A larger one is answered with 431 Request Header
// Fields Too Large and the connection closed. n must be positive.
func WithMaxHeaderBytes(n int) Option {
	return optionFunc(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("httpserver: max header bytes %d: %w", n, errInvalid)
		}
		c.maxHeaderBytes = n
		return nil
	})
}

// WithMaxBodyBytes bounds every request body to n bytes, as if each handler
// wrapped it in http.MaxBytesReader: a Read past the limit fails with a
// *http.MaxBytesError, and the connection is closed after the response
// instead of reading the rest. 0, the default, means no limit; n must not be
// negative.
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("httpserver: max body bytes %d: %w", n, errInvalid)
		}
		c.maxBodyBytes = n
		return nil
	})
}

// WithTLS serves HTTPS: every connection is wrapped in crypto/tls's server
// side with cfg, and its handshake runs in the connection's greenlet, bounded
// by the read header timeout. Requests carry the connection's TLS state
// (Request.TLS). Only HTTP/1.1 is served: "h2" in cfg.NextProtos is not
// negotiated (the server offers "http/1.1" when cfg.NextProtos is empty).
// cfg must carry a certificate (Certificates or GetCertificate); it is
// cloned.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(c *config) error {
		if cfg == nil || (len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil) {
			return fmt.Errorf("httpserver: TLS config without a certificate: %w", errInvalid)
		}
		c.tls = cfg.Clone()
		var protos []string
		for _, p := range c.tls.NextProtos {
			if p != "h2" {
				protos = append(protos, p)
			}
		}
		if len(protos) == 0 {
			protos = []string{"http/1.1"}
		}
		c.tls.NextProtos = protos
		return nil
	})
}

// WithHubs spreads the connections over hubs, round robin: each
// connection's greenlet lives on one of them. A hub runs one greenlet at a
// time (at P = 1), so one hub serves from one core; several hubs serve from
// several, and handlers on different hubs run in parallel: state they share
// needs locks again (state kept per hub does not). Leave cores for
// netpoll's event loops (see "Several hubs" in the package doc). Without
// it, connections live on the hub of the ctx given to Start (hub.For).
func WithHubs(hubs ...*hub.Hub) Option {
	return optionFunc(func(c *config) error {
		if len(hubs) == 0 {
			return fmt.Errorf("httpserver: WithHubs without a hub: %w", errInvalid)
		}
		for _, h := range hubs {
			if h == nil {
				return fmt.Errorf("httpserver: nil hub: %w", errInvalid)
			}
		}
		c.hubs = append([]*hub.Hub(nil), hubs...)
		return nil
	})
}

// WithMaxHandlers bounds the connections served at once to n: while n
// connection greenlets run, the server stops accepting and new clients wait
// in the listen backlog (gevent's WSGIServer(spawn=Pool(n)); a keep-alive
// connection holds its place until it closes, so pair it with a short idle
// timeout). 0, the default, means no bound; n must not be negative.
func WithMaxHandlers(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("httpserver: max handlers %d: %w", n, errInvalid)
		}
		c.maxHandlers = n
		return nil
	})
}

// WithPool runs every connection's greenlet as a member of p, gevent's
// WSGIServer(spawn=p): while p is full the server stops accepting and new
// clients wait in the listen backlog. p may be shared with other work; its
// size bounds them all together. Members run on the server's hubs.
func WithPool(p *pool.Pool) Option {
	return optionFunc(func(c *config) error {
		if p == nil {
			return fmt.Errorf("httpserver: nil pool: %w", errInvalid)
		}
		c.pool = p
		return nil
	})
}

// WithStopTimeout sets how long Serve, when its ctx ends, lets the requests
// in progress finish before it kills their greenlets (default
// netpoll.DefaultStopTimeout, gevent's stop_timeout). d must not be
// negative.
func WithStopTimeout(d time.Duration) Option {
	return durationOption("stop timeout", d, func(c *config) { c.stopTimeout = d })
}

// WithNetpoll passes options to the netpoll.StreamServer underneath: the
// inbound limit and budget (netpoll.WithInboundLimit,
// netpoll.WithInboundBudget) and netpoll.WithMaxConns (connections past it
// are closed at once). The server decides where greenlets run and how they
// are bounded (WithHubs, WithMaxHandlers, WithPool, WithStopTimeout):
// netpoll.WithPool, netpoll.WithSpawner, netpoll.WithMaxHandlers and
// netpoll.WithStopTimeout given here are overridden, and netpoll.WithHubs
// makes New fail.
func WithNetpoll(opts ...netpoll.ServerOption) Option {
	return optionFunc(func(c *config) error {
		c.netpoll = append(c.netpoll, opts...)
		return nil
	})
}

// New returns a server for addr ("host:port"; port 0 picks a free port, see
// Addr) that serves every request with h. Nothing is bound until Start. A
// nil h panics.
func New(addr string, h http.Handler, opts ...Option) (*Server, error) {
	if h == nil {
		panic("httpserver: nil handler")
	}
	s := &Server{
		handler: h,
		cfg: config{
			readHeaderTimeout: DefaultReadHeaderTimeout,
			idleTimeout:       DefaultIdleTimeout,
			maxHeaderBytes:    DefaultMaxHeaderBytes,
			stopTimeout:       netpoll.DefaultStopTimeout,
		},
		conns: make(map[*conn]struct{}),
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyHTTP(&s.cfg); err != nil {
			return nil, err
		}
	}
	// The accept loop has a hub of its own: on the handlers' hub it would
	// queue for the run token behind every ready connection, and under load
	// a new client waited seconds to be accepted (measured: 1000 clients
	// connecting during a 100-connection load took 2.3 s to get their first
	// response, 0.76 s from net/http).
	s.acceptHub = hub.MustNew(hub.WithErrorHandler(s.reportAccept))
	nopts := append(s.cfg.netpoll[:len(s.cfg.netpoll):len(s.cfg.netpoll)],
		netpoll.WithSpawner(s.spawn),
		netpoll.WithMaxHandlers(s.cfg.maxHandlers), netpoll.WithStopTimeout(s.cfg.stopTimeout))
	ss, err := netpoll.NewStreamServer(addr, s.serveConn, nopts...)
	if err != nil {
		return nil, fmt.Errorf("httpserver: %w", err)
	}
	s.ss = ss
	return s, nil
}

// reportAccept hands what fails on the accept hub (accept errors) to the
// first handler hub's error handler, where the user looks.
func (s *Server) reportAccept(g *hub.G, err error) {
	if hs := s.hubs.Load(); hs != nil {
		hubsched.ReportError((*hs)[0], g, err)
		return
	}
	hubsched.ReportError(hub.Default(), g, err)
}

// spawn starts a connection's greenlet on the next hub, through the pool
// if there is one.
func (s *Server) spawn(ctx context.Context, fn func(ctx context.Context)) error {
	hs := *s.hubs.Load()
	h := hs[(s.next.Add(1)-1)%uint64(len(hs))]
	if s.cfg.pool != nil {
		return pool.Submit(hub.NewContext(ctx, h), s.cfg.pool, func(ctx context.Context) error { fn(ctx); return nil }, spawn.WithName("httpserver.conn"))
	}
	g := hubsched.Spawn(h, ctx, sched.Task{
		Name: "httpserver.conn",
		Run:  func(ctx context.Context) error { fn(ctx); return nil },
	})
	if g.State() == hub.StateDead && !g.Started() {
		return fmt.Errorf("httpserver: spawn: %w", hub.ErrHubStopped)
	}
	return nil
}

// Start binds the address and starts accepting (on a goroutine of the
// server's own). Connections are served on the hubs given with WithHubs,
// else on the hub of ctx (hub.For); they get ctx's values, but the server's
// life is not tied to ctx: it lasts until Stop. Start does not park; a
// server can be started once.
func (s *Server) Start(ctx context.Context) error {
	if ctx == nil {
		panic("httpserver: nil context")
	}
	hs := s.cfg.hubs
	if len(hs) == 0 {
		hs = []*hub.Hub{hub.For(ctx)}
	}
	s.hubs.CompareAndSwap(nil, &hs)
	return s.ss.Start(hub.NewContext(ctx, s.acceptHub)) // the accept loop runs there
}

// Addr returns the address the server listens on, with the real port, or
// nil before Start.
func (s *Server) Addr() net.Addr { return s.ss.Addr() }

// Serve starts the server if it is not started and parks the calling
// greenlet until the server stops, as StreamServer.Serve (gevent's
// serve_forever). When ctx ends, Serve stops the server gracefully, as Stop
// does, giving requests in progress WithStopTimeout to finish, and
// returns ctx's cause. It returns nil after Stop.
func (s *Server) Serve(ctx context.Context) error {
	if s.hubs.Load() == nil {
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, s.closeIdle)
	defer stop()
	err := s.ss.Serve(ctx)
	return errors.Join(err, s.stopAcceptHub(ctx))
}

// Stop stops the server gracefully: it stops accepting (new connections are
// refused at once), closes the connections waiting for a request, lets the
// requests in progress finish (their responses say "Connection: close" and
// their connections close after them), and parks the calling greenlet
// until they have or ctx ends; then it kills the connections' greenlets that
// are still running (a kill lands at their next cooperative point, their
// deferred calls run) and waits up to a second more. It returns nil if
// every request finished in time, or an error wrapping ctx's cause. Stop is
// idempotent; a handler may call it (it then does not wait for itself).
func (s *Server) Stop(ctx context.Context) error {
	s.closeIdle()
	err := s.ss.Stop(ctx)
	return errors.Join(err, s.stopAcceptHub(ctx))
}

// stopAcceptHub releases the accept hub once the accept loop is gone.
func (s *Server) stopAcceptHub(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.acceptHub.Stop(sctx); err != nil {
		return fmt.Errorf("httpserver: stopping the accept hub: %w", err)
	}
	return nil
}

// closeIdle starts a graceful stop: from now on responses close their
// connections, and the connections waiting for a request are closed.
func (s *Server) closeIdle() {
	s.stopping.Store(true)
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		if c.state.CompareAndSwap(connIdle, connShut) {
			_ = c.nc.Close()
		}
	}
}

// track registers a new connection, or reports false if the server is
// stopping.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// hubsched is the hub's scheduler as this package drives it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
