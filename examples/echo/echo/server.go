package echo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/pool"
)

// ServerConfig is an echo server.
type ServerConfig struct {
	// Addr is the listen address, host:port (port 0: any free port).
	Addr string
	// PoolSize bounds the handlers running at once: a pool.Pool of that
	// size spawns them, and while it is full the server stops accepting and
	// clients wait in the listen backlog (gevent's StreamServer(spawn=Pool(n))).
	// 0 means unbounded: a greenlet per connection.
	PoolSize int
	// MaxConns bounds the open connections; one accepted past it is closed
	// at once (0: unbounded).
	MaxConns int
	// InboundCap bounds the bytes a connection may have received and not yet
	// echoed; a peer that sends past it is disconnected (0:
	// DefaultInboundCap). An echo handler reads as fast as its peer takes
	// the echo, so only a peer that sends and does not read comes near it.
	InboundCap int
	// InboundBudget bounds the bytes all connections together may have
	// received and not yet echoed; past it the connections holding the
	// most are disconnected (0: netpoll's default, 64 MiB).
	InboundBudget int
	// IdleTimeout closes a connection on which nothing was received or
	// sent for that long, so idle and slowloris clients are not held
	// forever (0: no idle timeout).
	IdleTimeout time.Duration
	// Stdlib moves the bytes through the standard library's net package
	// instead of gnet's event loops (netpoll.WithStdlib).
	Stdlib bool
	// SocketBuffer, if > 0, sizes the kernel's receive and send buffers of
	// every connection's socket (Conn.SetReadBuffer, SetWriteBuffer). Peers
	// that send and do not read fill the kernel's buffers first, and the
	// kernel grows them to megabytes each: with many such peers it is what
	// bounds the kernel's memory (0: the kernel's default).
	SocketBuffer int
}

// DefaultInboundCap is the inbound cap when ServerConfig.InboundCap is 0:
// 1 MiB, well above what an echo connection holds while its peer reads.
const DefaultInboundCap = 1 << 20

// Server is a running echo server with its own hub.
type Server struct {
	h   *hub.Hub
	srv *netpoll.StreamServer
}

// handler returns the echo handler: it echoes everything it reads until the
// peer closes (then it returns and the server closes the connection, after
// the echo) or an error. io.Copy uses the connection's WriteTo: the received
// bytes are written back from the buffer they arrived in, so the handler
// keeps no buffer of its own (an idle connection holds at most netpoll's 4
// KiB). Its reads and writes park only this greenlet.
func handler(sockBuf int) func(ctx context.Context, c *netpoll.Conn) {
	return func(ctx context.Context, c *netpoll.Conn) {
		if sockBuf > 0 {
			if c.SetReadBuffer(sockBuf) != nil || c.SetWriteBuffer(sockBuf) != nil {
				return
			}
		}
		_, _ = io.Copy(c, c)
	}
}

// ErrServerConfig is matched by every error about a bad ServerConfig.
var ErrServerConfig = errors.New("echo: bad server config")

// Start starts an echo server on a hub of its own and returns once it
// listens. It does not block.
func Start(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.PoolSize < 0 || cfg.MaxConns < 0 || cfg.InboundCap < 0 || cfg.InboundBudget < 0 || cfg.IdleTimeout < 0 || cfg.SocketBuffer < 0 {
		return nil, fmt.Errorf("%w: negative pool size, max connections, inbound cap or budget, idle timeout or socket buffer", ErrServerConfig)
	}
	h, err := hub.New()
	if err != nil {
		return nil, err
	}
	inboundCap := cfg.InboundCap
	if inboundCap == 0 {
		inboundCap = DefaultInboundCap
	}
	opts := []netpoll.ServerOption{netpoll.WithInboundLimit(inboundCap)}
	if cfg.PoolSize > 0 {
		opts = append(opts, netpoll.WithPool(pool.New(cfg.PoolSize)))
	}
	if cfg.MaxConns > 0 {
		opts = append(opts, netpoll.WithMaxConns(cfg.MaxConns))
	}
	if cfg.InboundBudget > 0 {
		opts = append(opts, netpoll.WithInboundBudget(cfg.InboundBudget))
	}
	if cfg.IdleTimeout > 0 {
		opts = append(opts, netpoll.WithIdleTimeout(cfg.IdleTimeout))
	}
	if cfg.Stdlib {
		opts = append(opts, netpoll.WithStdlib())
	}
	srv, err := netpoll.NewStreamServer(cfg.Addr, handler(cfg.SocketBuffer), opts...)
	if err == nil {
		err = srv.Start(hub.NewContext(ctx, h)) // the server runs on h
	}
	if err != nil {
		h.Stop(context.Background())
		return nil, fmt.Errorf("echo: %w", err)
	}
	return &Server{h: h, srv: srv}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.srv.Addr() }

// Stop stops the server gracefully: it stops accepting, lets the handlers
// finish until ctx ends, kills the rest, and stops the hub. It blocks until
// then and returns the server's error, if any.
func (s *Server) Stop(ctx context.Context) error {
	err := s.srv.Stop(ctx)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(err, s.h.Stop(hctx))
}
