package netpoll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/pool"

	"github.com/gevent-go/gevent/hub"
)

// Defaults of the per-connection limits.
const (
	// DefaultInboundLimit is the default WithInboundLimit: 4 MiB.
	DefaultInboundLimit = 4 << 20
	// DefaultWriteHighWater is the default WithWriteHighWater: 1 MiB.
	DefaultWriteHighWater = 1 << 20
	// DefaultLinger is the default WithLinger.
	DefaultLinger = 10 * time.Second
	// DefaultStopTimeout is the default WithStopTimeout, gevent's
	// stop_timeout.
	DefaultStopTimeout = time.Second
)

// Option configures Listen, Dial or NewStreamServer. Connection options
// (WithInboundLimit, WithWriteHighWater, WithLinger, WithIdleTimeout,
// WithStdlib) apply everywhere; server options (WithMaxHandlers,
// WithMaxConns, WithSpawner, WithHub, WithStopTimeout) only to
// NewStreamServer, and Listen or Dial given one returns an error.
type Option func(*config) error

// config is the resolved options of a listener, a dialed connection or a
// server. Connections keep a pointer to the one they were made with; it is
// never modified after construction.
type config struct {
	inboundLimit int
	highWater    int
	linger       time.Duration
	idle         time.Duration
	stdlib       bool

	serverOnly  string // name of a server option that was given, if any
	maxHandlers int
	maxConns    int
	spawner     func(ctx context.Context, fn func(ctx context.Context)) error
	hub         *hub.Hub
	stopTimeout time.Duration
}

var errInvalid = errors.New("invalid argument")

func newConfig(server bool, opts []Option) (*config, error) {
	c := &config{
		inboundLimit: DefaultInboundLimit,
		highWater:    DefaultWriteHighWater,
		linger:       DefaultLinger,
		stopTimeout:  DefaultStopTimeout,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if !server && c.serverOnly != "" {
		return nil, fmt.Errorf("netpoll: %s applies only to a StreamServer: %w", c.serverOnly, errInvalid)
	}
	return c, nil
}

// WithInboundLimit caps the bytes received on a connection and not yet
// read (default DefaultInboundLimit). gnet keeps reading a socket whatever
// the application does, so a peer that sends and never reads would grow
// memory without bound; past the limit the connection is closed, its
// buffered input dropped, and Read returns an error matching
// ErrInboundOverflow. A reader that keeps up is never affected, however much
// it receives. n must be positive. The stdlib backend ignores the limit: the
// kernel's flow control bounds it.
func WithInboundLimit(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("netpoll: inbound limit %d: %w", n, errInvalid)
		}
		c.inboundLimit = n
		return nil
	}
}

// WithWriteHighWater sets how many written bytes a connection may hold
// before they reach the kernel (default DefaultWriteHighWater). A Write past
// it parks the writer until the backlog falls to half the mark, so a fast
// writer to a slow peer cannot grow memory without bound. n must be
// positive. The stdlib backend ignores it: its Write blocks in the kernel.
func WithWriteHighWater(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("netpoll: write high-water mark %d: %w", n, errInvalid)
		}
		c.highWater = n
		return nil
	}
}

// WithLinger bounds how long a closed connection keeps delivering the
// output it still holds (default DefaultLinger); what is left then is
// dropped. 0 makes Close abortive: unsent output is dropped at once (and,
// on the stdlib backend, the peer gets a reset). d must not be negative.
func WithLinger(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("netpoll: linger %v: %w", d, hub.ErrNegativeDuration)
		}
		c.linger = d
		return nil
	}
}

// WithIdleTimeout closes a connection on which nothing was received and
// nothing written for d; its blocked and later Read and Write calls return
// an error matching ErrIdleTimeout. 0, the default, disables it. d must not
// be negative.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("netpoll: idle timeout %v: %w", d, hub.ErrNegativeDuration)
		}
		c.idle = d
		return nil
	}
}

// WithStdlib moves the connection's bytes through the standard library's
// net package instead of gnet's event loops, behind the same API (see the
// package doc). It is the only backend on platforms gnet does not support,
// such as Windows; elsewhere it serves protocols that need half-close.
func WithStdlib() Option {
	return func(c *config) error {
		c.stdlib = true
		return nil
	}
}

// WithMaxHandlers bounds the server's concurrently running handlers to n.
// While n handlers run, the server stops accepting, and new clients wait in
// the kernel's listen backlog until a handler returns (gevent's
// StreamServer with a Pool of n). 0, the default, means unbounded; n must
// not be negative. Server only.
func WithMaxHandlers(n int) Option {
	return func(c *config) error {
		c.serverOnly = "WithMaxHandlers"
		if n < 0 {
			return fmt.Errorf("netpoll: max handlers %d: %w", n, errInvalid)
		}
		c.maxHandlers = n
		return nil
	}
}

// WithMaxConns bounds the server's open connections to n, counting each
// from its accept until it is fully closed (a closed connection still
// delivering its output, see WithLinger, counts). A connection accepted
// beyond it is closed at once, so the client fails fast instead of waiting
// in the backlog as under WithMaxHandlers. 0, the default, means unbounded;
// n must not be negative. Server only.
func WithMaxConns(n int) Option {
	return func(c *config) error {
		c.serverOnly = "WithMaxConns"
		if n < 0 {
			return fmt.Errorf("netpoll: max connections %d: %w", n, errInvalid)
		}
		c.maxConns = n
		return nil
	}
}

// WithSpawner replaces how the server starts a handler: spawn must run fn
// exactly once, in a greenlet, with that greenlet's ctx, or return an error
// (then the server reports it to the hub's error handler and closes the
// connection). spawn may park the accepting greenlet while it is full (a
// pool.Pool's Spawn does): the server then holds that one accepted
// connection and the rest wait in the backlog. The default spawns an
// unbounded greenlet per connection on the server's hub. Server only.
func WithSpawner(spawn func(ctx context.Context, fn func(ctx context.Context)) error) Option {
	return func(c *config) error {
		c.serverOnly = "WithSpawner"
		if spawn == nil {
			return fmt.Errorf("netpoll: nil spawner: %w", errInvalid)
		}
		c.spawner = spawn
		return nil
	}
}

// WithPool runs every handler as a member of p, gevent's
// StreamServer(spawn=Pool(n)): while p is full the accepting greenlet waits
// in pool.Spawn, so the server stops accepting and new clients wait in the
// kernel's listen backlog until a handler returns. p may be shared with
// other work; its size bounds them all together. Server only.
func WithPool(p *pool.Pool) Option {
	if p == nil {
		return func(*config) error { return fmt.Errorf("netpoll: nil pool: %w", errInvalid) }
	}
	return WithSpawner(func(ctx context.Context, fn func(ctx context.Context)) error {
		_, err := pool.Spawn(ctx, p, func(ctx context.Context) (struct{}, error) {
			fn(ctx)
			return struct{}{}, nil
		})
		return err
	})
}

// WithHub runs the server's accept loop and handlers on h instead of the
// hub of the ctx given to Start (hub.For). Server only.
func WithHub(h *hub.Hub) Option {
	return func(c *config) error {
		c.serverOnly = "WithHub"
		if h == nil {
			return fmt.Errorf("netpoll: nil hub: %w", errInvalid)
		}
		c.hub = h
		return nil
	}
}

// WithStopTimeout sets how long Serve, when its ctx ends, lets handlers
// finish before it kills them (default DefaultStopTimeout, gevent's
// stop_timeout). d must not be negative. Server only.
func WithStopTimeout(d time.Duration) Option {
	return func(c *config) error {
		c.serverOnly = "WithStopTimeout"
		if d < 0 {
			return fmt.Errorf("netpoll: stop timeout %v: %w", d, hub.ErrNegativeDuration)
		}
		c.stopTimeout = d
		return nil
	}
}
