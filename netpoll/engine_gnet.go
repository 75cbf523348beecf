//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"

	"github.com/panjf2000/gnet/v2"
)

// The package's connections share one gnet Client engine: its event loops
// (eventLoops of them) serve accepted and dialed connections alike.
// It starts on first use and stops in Shutdown.
var engine struct {
	// mu is held for reading while a connection is being enrolled, and for
	// writing to start or stop the client, so Shutdown waits for enrolments
	// in progress (an enrolment blocks until a loop has opened the
	// connection, which a stopped loop never does).
	mu  sync.RWMutex
	cli *gnet.Client
}

// adopt moves nc, a connected TCP socket, to the chosen backend, charging
// its inbound buffer to b (a listener's budget; nil for none) and to the
// engine's. nc is closed (or owned by the result) whatever happens.
func adopt(nc net.Conn, cfg *config, b *budget) (connImpl, error) {
	if cfg.stdlib {
		return adoptStd(nc, cfg), nil
	}
	return adoptGnet(nc, cfg, b)
}

// enroll registers nc's socket with a loop of the shared engine, with c as
// its context, and waits until the loop has opened it (OnOpen sets c.gc).
// gnet duplicates the descriptor and closes nc.
func enroll(nc net.Conn, c *gconn) error {
	engine.mu.RLock()
	for engine.cli == nil {
		engine.mu.RUnlock()
		if err := startEngine(); err != nil {
			_ = nc.Close()
			return err
		}
		engine.mu.RLock()
	}
	defer engine.mu.RUnlock()
	if _, err := engine.cli.EnrollContext(nc, c); err != nil {
		return fmt.Errorf("netpoll: enrolling connection with gnet: %w", err)
	}
	c.mu.Lock()
	opened := c.opened
	c.mu.Unlock()
	if !opened {
		// gnet could not add the socket to its poller; it closed it and
		// will never report on it.
		return errors.New("netpoll: enrolling connection with gnet: not opened")
	}
	return nil
}

func startEngine() error {
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.cli != nil {
		return nil
	}
	cli, err := gnet.NewClient(&bridge{},
		gnet.WithNumEventLoop(eventLoops()),
		gnet.WithReadBufferCap(readChunk),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{}))
	if err == nil {
		// (The loops inherit a greenlet caller's hub profiler label; the
		// blocking monitor tells them from greenlets by their frames.)
		err = cli.Start()
	}
	if err != nil {
		return fmt.Errorf("netpoll: starting gnet: %w", err)
	}
	engine.cli = cli
	return nil
}

// stopEngine stops the shared engine, closing every connection on it (their
// Read and Write then return ErrShutdown), once the enrolments in progress
// are done, and closes the half-open connections gnet has let go of. The
// next connection starts a fresh engine.
func stopEngine(ctx context.Context) error {
	engine.mu.Lock()
	cli := engine.cli
	engine.cli = nil
	engine.mu.Unlock()
	defer detached.failAll(ErrShutdown)
	if cli == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- cli.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("netpoll: stopping gnet: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("netpoll: stopping gnet: %w", context.Cause(ctx))
	}
}

// bridge is the gnet event handler: every gnet.Conn carries its *gconn as
// context, set before registration.
type bridge struct{ gnet.BuiltinEventEngine }

func (*bridge) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	if c, ok := gc.Context().(*gconn); ok {
		c.mu.Lock()
		c.opened = true
		c.gc = gc
		c.mu.Unlock()
	}
	return nil, gnet.None
}

func (*bridge) OnTraffic(gc gnet.Conn) gnet.Action {
	c, ok := gc.Context().(*gconn)
	if !ok {
		return gnet.Close
	}
	return c.onTraffic(gc)
}

func (*bridge) OnClose(gc gnet.Conn, err error) gnet.Action {
	if c, ok := gc.Context().(*gconn); ok {
		c.onClose(err)
	}
	return gnet.None
}

// gnetLogger sends gnet's warnings and errors to slog's default logger and
// drops its chatter. (gnet installs the Client's logger process-wide.)
type gnetLogger struct{}

func (gnetLogger) Debugf(string, ...any) {}
func (gnetLogger) Infof(string, ...any)  {}
func (gnetLogger) Warnf(format string, args ...any) {
	slog.Warn(fmt.Sprintf(format, args...), "component", "gnet")
}
func (gnetLogger) Errorf(format string, args ...any) {
	slog.Error(fmt.Sprintf(format, args...), "component", "gnet")
}
func (gnetLogger) Fatalf(format string, args ...any) {
	slog.Error(fmt.Sprintf(format, args...), "component", "gnet")
}

// readChunk is the most a loop reads from a socket at a time. It is also
// the most a connection can receive past its inbound limit or its budget
// before it is paused, so with many connections it is what bounds memory
// beyond the budget; 16 KiB keeps that overshoot at 16 MiB per thousand
// connections.
const readChunk = 16 << 10

// eventLoops is the shared engine's loop count: half the Ps, at least one.
// The loops only move bytes; the other half of the CPU runs the goroutines
// that consume them (greenlet hubs, whose handlers at P = 1 use one core, and
// everything else). Measured on two cores, one loop gave 7-25% more echo
// throughput than two, for netpoll and for gnet's own echo server alike.
func eventLoops() int { return max(1, runtime.GOMAXPROCS(0)/2) }
