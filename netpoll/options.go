package netpoll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/pool"

	"github.com/gevent-go/gevent/hub"
)

// Defaults of the limits.
const (
	// DefaultInboundLimit is the default WithInboundLimit: 4 MiB.
	DefaultInboundLimit = 4 << 20
	// DefaultInboundBudget is the default WithInboundBudget: 64 MiB per
	// Listener or StreamServer.
	DefaultInboundBudget = 64 << 20
	// DefaultEngineInboundBudget is the default SetEngineInboundBudget:
	// 256 MiB for all of the process's gnet connections together.
	DefaultEngineInboundBudget = 256 << 20
	// DefaultStopTimeout is the default WithStopTimeout, gevent's
	// stop_timeout.
	DefaultStopTimeout = time.Second
)

// An Option configures a connection: it is taken by Dial, DialTLS, Listen,
// ListenPacket and, as every Option is also a ServerOption, by
// NewStreamServer. WithInboundLimit, WithIdleTimeout and WithStdlib apply
// everywhere; WithInboundBudget bounds a Listener's or StreamServer's
// connections together, and Dial returns an error if given it.
type Option interface {
	ServerOption
	connOnly() // marks the options Dial and Listen take; applied as a ServerOption
}

// A ServerOption configures NewStreamServer: the server options
// (WithMaxHandlers, WithMaxConns, WithSpawner, WithPool, WithHubs,
// WithStopTimeout) and every Option. A server option given to Dial or
// Listen does not compile. NewDatagramServer takes only the DatagramOptions
// among them.
type ServerOption interface {
	applyServer(*config) error
}

// connOption is an Option.
type connOption func(*config) error

func (connOption) connOnly()                     {}
func (f connOption) applyServer(c *config) error { return f(c) }

// A DatagramOption configures NewDatagramServer: WithMaxHandlers and
// WithStopTimeout, the only options a DatagramServer takes. Each is a
// ServerOption too; any other option given to NewDatagramServer does not
// compile.
type DatagramOption interface {
	ServerOption
	datagram() // marks the options a DatagramServer takes
}

// serverOption is a ServerOption that is no Option.
type serverOption func(*config) error

func (f serverOption) applyServer(c *config) error { return f(c) }

// anyServerOption is a DatagramOption, and so a ServerOption.
type anyServerOption func(*config) error

func (anyServerOption) datagram()                     {}
func (f anyServerOption) applyServer(c *config) error { return f(c) }

// config is the resolved options of a listener, a dialed connection or a
// server. Connections keep a pointer to the one they were made with; it is
// never modified after construction.
type config struct {
	inboundLimit  int
	inboundBudget int
	idle          time.Duration
	stdlib        bool

	listenOnly  string // name of a listener option that was given, if any
	hubs        []*hub.Hub
	maxHandlers int
	maxConns    int
	spawner     func(ctx context.Context, fn func(ctx context.Context)) error
	stopTimeout time.Duration
}

var errInvalid = errors.New("invalid argument")

func defaultConfig() *config {
	return &config{
		inboundLimit:  DefaultInboundLimit,
		inboundBudget: DefaultInboundBudget,
		stopTimeout:   DefaultStopTimeout,
	}
}

// resolve applies opts to the defaults; nil options are skipped. Every
// Option is a ServerOption and applies the same way in both roles.
func resolve[O ServerOption](opts []O) (*config, error) {
	c := defaultConfig()
	for _, o := range opts {
		if any(o) == nil {
			continue
		}
		if err := o.applyServer(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// connConfig resolves the options of Dial (dial set) or Listen.
func connConfig(opts []Option, dial bool) (*config, error) {
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if dial && c.listenOnly != "" {
		return nil, fmt.Errorf("netpoll: %s applies only to a Listener or StreamServer: %w", c.listenOnly, errInvalid)
	}
	return c, nil
}

// serverConfig resolves the options of a server.
func serverConfig(opts []ServerOption) (*config, error) {
	c, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if len(c.hubs) > 0 && c.spawner != nil {
		return nil, fmt.Errorf("netpoll: WithHubs and WithSpawner (or WithPool) together: the spawner picks the hub: %w", errInvalid)
	}
	return c, nil
}

// WithInboundLimit sets how many bytes a connection may have received and
// not yet read before it is paused (default DefaultInboundLimit). gnet reads
// every socket whatever the application does, so a peer that sends faster
// than the connection is read would otherwise grow memory without bound. A
// paused connection is read through the Go runtime's poller from then on,
// as on the stdlib backend: the kernel's flow control throttles its peer,
// and nothing is lost or reordered. A reader that keeps up is never
// paused, however much it receives. Many connections together are bounded
// by the budgets (see WithInboundBudget). n must be positive. The stdlib
// backend ignores it: the kernel's flow control is all it has.
func WithInboundLimit(n int) Option {
	return connOption(func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("netpoll: inbound limit %d: %w", n, errInvalid)
		}
		c.inboundLimit = n
		return nil
	})
}

// WithInboundBudget bounds the bytes received and not yet read that all the
// connections of a Listener or StreamServer may hold together (default
// DefaultInboundBudget). The inbound limit bounds one connection; a
// thousand connections each under it could still hold gigabytes. Once the
// budget is spent, a connection that receives more is paused (see
// WithInboundLimit), so the total passes the budget by at most one read
// (16 KiB) per connection still read by gnet. A connection whose reader
// keeps up holds nothing and is never paused. All gnet connections of the
// process also share the engine's budget, the last resort, which cuts
// (SetEngineInboundBudget). n must be positive. Listen and NewStreamServer
// only; the stdlib backend ignores it.
func WithInboundBudget(n int) Option {
	return connOption(func(c *config) error {
		c.listenOnly = "WithInboundBudget"
		if n <= 0 {
			return fmt.Errorf("netpoll: inbound budget %d: %w", n, errInvalid)
		}
		c.inboundBudget = n
		return nil
	})
}

// WithIdleTimeout closes a connection on which nothing was received and
// nothing written for d; its blocked and later Read and Write calls return
// an error matching ErrIdleTimeout. 0, the default, disables it. d must not
// be negative.
func WithIdleTimeout(d time.Duration) Option {
	return connOption(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("netpoll: idle timeout %v: %w", d, hub.ErrNegativeDuration)
		}
		c.idle = d
		return nil
	})
}

// WithStdlib moves the connection's bytes through the standard library's
// net package instead of gnet's event loops, behind the same API (see the
// package doc). It is the only backend on platforms gnet does not support,
// such as Windows.
func WithStdlib() Option {
	return connOption(func(c *config) error {
		c.stdlib = true
		return nil
	})
}

// WithMaxHandlers bounds the server's concurrently running handlers to n.
// While n handlers run, the server stops accepting, and new clients wait in
// the kernel's listen backlog until a handler returns (gevent's
// StreamServer with a Pool of n); a DatagramServer leaves datagrams in the
// kernel's socket buffer meanwhile. 0, the default, means unbounded; n must
// not be negative. Both servers.
func WithMaxHandlers(n int) DatagramOption {
	return anyServerOption(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("netpoll: max handlers %d: %w", n, errInvalid)
		}
		c.maxHandlers = n
		return nil
	})
}

// WithMaxConns bounds the server's open connections to n, counting each
// from its accept until it is fully closed (a connection whose peer has
// closed its side, but that is still open for writing, counts). A
// connection accepted
// beyond it is closed at once, so the client fails fast instead of waiting
// in the backlog as under WithMaxHandlers. 0, the default, means unbounded;
// n must not be negative. Stream server only.
func WithMaxConns(n int) ServerOption {
	return serverOption(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("netpoll: max connections %d: %w", n, errInvalid)
		}
		c.maxConns = n
		return nil
	})
}

// WithSpawner replaces how the server starts a handler: spawn must run fn
// exactly once, in a greenlet, with that greenlet's ctx, or return an error
// (then the server reports it to the hub's error handler and closes the
// connection). spawn may park the accepting greenlet while it is full (a
// pool.Pool's Spawn does): the server then holds that one accepted
// connection and the rest wait in the backlog. The default spawns an
// unbounded greenlet per connection on the server's hub. Stream server
// only.
func WithSpawner(spawn func(ctx context.Context, fn func(ctx context.Context)) error) ServerOption {
	return serverOption(func(c *config) error {
		if spawn == nil {
			return fmt.Errorf("netpoll: nil spawner: %w", errInvalid)
		}
		c.spawner = spawn
		return nil
	})
}

// WithPool runs every handler as a member of p, gevent's
// StreamServer(spawn=Pool(n)): while p is full the accepting greenlet waits
// in pool.Spawn, so the server stops accepting and new clients wait in the
// kernel's listen backlog until a handler returns. p may be shared with
// other work; its size bounds them all together. Stream server only.
func WithPool(p *pool.Pool) ServerOption {
	if p == nil {
		return serverOption(func(*config) error { return fmt.Errorf("netpoll: nil pool: %w", errInvalid) })
	}
	return WithSpawner(func(ctx context.Context, fn func(ctx context.Context)) error {
		return pool.Submit(ctx, p, func(ctx context.Context) error { fn(ctx); return nil })
	})
}

// WithHubs spreads the server's handlers over hubs, one connection to each
// in turn: give it the hubs of a hub.Shards to serve on every core. The
// handlers on one hub run one at a time and share that hub's state without
// locks; handlers on different hubs run in parallel. The accept loop stays
// on the server's hub (the hub of the ctx given to Start, hub.For).
// Without WithSpawner only; stream server only.
func WithHubs(hubs ...*hub.Hub) ServerOption {
	return serverOption(func(c *config) error {
		if len(hubs) == 0 {
			return fmt.Errorf("netpoll: WithHubs without a hub: %w", errInvalid)
		}
		for _, h := range hubs {
			if h == nil {
				return fmt.Errorf("netpoll: nil hub: %w", errInvalid)
			}
		}
		c.hubs = append([]*hub.Hub(nil), hubs...)
		return nil
	})
}

// WithStopTimeout sets how long Serve, when its ctx ends, lets handlers
// finish before it kills them (default DefaultStopTimeout, gevent's
// stop_timeout). d must not be negative. Both servers.
func WithStopTimeout(d time.Duration) DatagramOption {
	return anyServerOption(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("netpoll: stop timeout %v: %w", d, hub.ErrNegativeDuration)
		}
		c.stopTimeout = d
		return nil
	})
}
