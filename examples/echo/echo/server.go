package echo

import (
	"context"
	"errors"
	"fmt"
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
	// read; a peer that sends past it is disconnected (0: netpoll's default).
	InboundCap int
}

// Server is a running echo server with its own hub.
type Server struct {
	h   *hub.Hub
	srv *netpoll.StreamServer
}

// bufSize is the handler's read buffer.
const bufSize = 64 << 10

// handle echoes everything it reads until the peer closes or an error. Read
// and Write park only this greenlet.
func handle(ctx context.Context, c *netpoll.Conn) {
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// ErrServerConfig is matched by every error about a bad ServerConfig.
var ErrServerConfig = errors.New("echo: bad server config")

// Start starts an echo server on a hub of its own and returns once it
// listens. It does not block.
func Start(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.PoolSize < 0 || cfg.MaxConns < 0 || cfg.InboundCap < 0 {
		return nil, fmt.Errorf("%w: negative pool size, max connections or inbound cap", ErrServerConfig)
	}
	h, err := hub.New()
	if err != nil {
		return nil, err
	}
	opts := []netpoll.Option{netpoll.WithHub(h)}
	if cfg.PoolSize > 0 {
		p := pool.New(cfg.PoolSize, pool.WithHub(h))
		opts = append(opts, netpoll.WithSpawner(func(ctx context.Context, fn func(ctx context.Context)) error {
			_, err := pool.Spawn(ctx, p, func(ctx context.Context) (struct{}, error) {
				fn(ctx)
				return struct{}{}, nil
			})
			return err
		}))
	}
	if cfg.MaxConns > 0 {
		opts = append(opts, netpoll.WithMaxConns(cfg.MaxConns))
	}
	if cfg.InboundCap > 0 {
		opts = append(opts, netpoll.WithInboundLimit(cfg.InboundCap))
	}
	srv, err := netpoll.NewStreamServer(cfg.Addr, handle, opts...)
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		h.Stop(context.Background())
		return nil, fmt.Errorf("echo: %w", err)
	}
	return &Server{h: h, srv: srv}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.srv.Addr().String() }

// Stop stops the server gracefully: it stops accepting, lets the handlers
// finish until ctx ends, kills the rest, and stops the hub. It blocks until
// then and returns the server's error, if any.
func (s *Server) Stop(ctx context.Context) error {
	err := s.srv.Stop(ctx)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(err, s.h.Stop(hctx))
}

// Serve runs an echo server with default settings on addr until ctx ends
// (the shape of the bench harness's echo servers), then stops it with a
// one-second grace.
func Serve(ctx context.Context, addr string) error {
	s, err := Start(ctx, ServerConfig{Addr: addr})
	if err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.Stop(sctx)
}
