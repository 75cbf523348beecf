//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gevent-go/gevent/hub"
)

// gconn is a connection whose bytes move through a gnet event loop.
//
// Only gnet.Conn's concurrency-safe methods (AsyncWrite, Close, EventLoop)
// are called off the loop. The loop-only ones (Next, Write,
// OutboundBuffered) are called from the loop's callbacks: OnTraffic,
// OnClose, the AsyncWrite callback and the drain probe run by
// EventLoop.Execute. OnClose sets closed under mu on the loop, so a loop
// callback that finds closed unset under mu may still use the gnet.Conn.
//
// Inbound bytes are copied out of gnet's shared read buffer in OnTraffic into
// in, up to the inbound limit, and parked readers are woken. Write sends
// straight to the socket while nothing is queued, and copies what the socket
// refuses into out; one AsyncWrite at a time hands out to the loop, whose
// callback writes whatever accumulated meanwhile and samples gnet's outbound
// buffer (onLoop). queuedLocked() = out + inflight + onLoop is what the
// high-water mark and the graceful close look at; onLoop is exact when
// sampled and can only be stale-high later (the loop drains it), which costs
// a queued write where a direct one would do, never order.
type gconn struct {
	cfg          *config
	laddr, raddr net.Addr
	idle         idleWatch

	mu      sync.Mutex
	gc      gnet.Conn // set once enrolled
	in      []byte    // received, unread: in[ioff:]
	ioff    int
	rerr    error // what Read returns once in is drained
	werr    error // what Write returns
	readers waitList
	writers waitList
	rdl     deadline
	wdl     deadline

	out      []byte // accepted by Write, not yet handed to the loop
	spare    []byte // a recycled buffer for out
	inflight []byte // handed to AsyncWrite, callback pending
	onLoop   int    // gnet's outbound buffer, as last sampled on the loop
	flushing bool   // an AsyncWrite is pending
	probing  bool   // a drain probe is scheduled
	probeGap time.Duration
	probeT   *time.Timer
	lingerT  *time.Timer

	opened  bool // OnOpen ran
	closing bool // Close was called
	shut    bool // gc.Close was requested
	closed  bool // OnClose ran: gnet has let go of the connection
	hooks   closeHooks
}

// recycleCap bounds the buffers a connection keeps between bursts, so an
// idle connection holds little memory.
const recycleCap = 64 << 10

// Drain probes sample gnet's outbound buffer while someone waits for it to
// drain (a parked writer, a lingering close); gnet has no drained event.
const (
	minProbeGap = 500 * time.Microsecond
	maxProbeGap = 20 * time.Millisecond
)

func adoptGnet(nc net.Conn, cfg *config) (*gconn, error) {
	c := &gconn{cfg: cfg, laddr: nc.LocalAddr(), raddr: nc.RemoteAddr(), idle: idleWatch{d: cfg.idle}}
	gc, err := enroll(nc, c)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.gc = gc
	c.mu.Unlock()
	c.idle.start(func() { c.fail(ErrIdleTimeout) })
	return c, nil
}

func (c *gconn) localAddr() net.Addr  { return c.laddr }
func (c *gconn) remoteAddr() net.Addr { return c.raddr }

func (c *gconn) opErr(op string, err error) error { return opError(op, c.laddr, c.raddr, err) }

// queuedLocked is the output not yet in the kernel.
func (c *gconn) queuedLocked() int { return len(c.out) + len(c.inflight) + c.onLoop }

func (c *gconn) read(ctx context.Context, p []byte) (int, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closing:
			c.mu.Unlock()
			return 0, c.opErr("read", net.ErrClosed)
		case c.rdl.expired():
			c.mu.Unlock()
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		case len(c.in) > c.ioff:
			n := copy(p, c.in[c.ioff:])
			c.ioff += n
			if c.ioff == len(c.in) {
				c.ioff = 0
				c.in = c.in[:0]
				if cap(c.in) > recycleCap {
					c.in = nil
				}
			}
			c.mu.Unlock()
			c.idle.touch()
			return n, nil
		case c.rerr != nil:
			err := c.rerr
			c.mu.Unlock()
			return 0, c.opErr("read", err)
		case len(p) == 0:
			c.mu.Unlock()
			return 0, nil
		}
		if err := c.readers.park(ctx, &c.mu, "netpoll.read"); err != nil {
			hub.Checkpoint(ctx)
			return 0, c.opErr("read", err)
		}
	}
}

func (c *gconn) write(ctx context.Context, p []byte) (int, error) {
	n := 0
	for {
		c.mu.Lock()
		switch {
		case c.closing:
			c.mu.Unlock()
			return n, c.opErr("write", net.ErrClosed)
		case c.werr != nil:
			err := c.werr
			c.mu.Unlock()
			return n, c.opErr("write", err)
		case c.wdl.expired():
			c.mu.Unlock()
			return n, c.opErr("write", os.ErrDeadlineExceeded)
		case n == len(p):
			c.mu.Unlock()
			return n, nil
		}
		if c.queuedLocked() == 0 && !c.flushing {
			// Nothing is queued anywhere: try the socket first, as gnet's
			// own Write does on its loop, and queue only what it refuses.
			m, err := c.writeDirectLocked(p[n:])
			n += m
			if err != nil {
				c.mu.Unlock()
				return n, c.opErr("write", err)
			}
			if n == len(p) {
				c.mu.Unlock()
				c.idle.touch()
				return n, nil
			}
		}
		if room := c.cfg.highWater - c.queuedLocked(); room > 0 {
			k := min(room, len(p)-n)
			if c.out == nil && c.spare != nil {
				c.out, c.spare = c.spare, nil
			}
			c.out = append(c.out, p[n:n+k]...)
			n += k
			c.flushLocked()
			c.mu.Unlock()
			c.idle.touch()
			continue
		}
		c.armProbeLocked() // this writer is about to wait for the drain
		if err := c.writers.park(ctx, &c.mu, "netpoll.write"); err != nil {
			hub.Checkpoint(ctx)
			return n, c.opErr("write", err)
		}
	}
}

// writeDirectLocked writes p to the socket from the caller's goroutine. It
// is called only when no output is queued in netpoll or in gnet (so bytes
// stay in order) and the connection is open: gnet closes the descriptor only
// after OnClose, which waits for mu, so the descriptor is this connection's
// for as long as mu is held. A short write or EAGAIN returns the count
// without error; the caller queues the rest for the loop, which also arms
// the writable event. A socket error fails the connection's writes (reads
// drain what was received, then see it) and is returned.
func (c *gconn) writeDirectLocked(p []byte) (int, error) {
	if c.closed || c.closing {
		return 0, nil
	}
	fd := c.gc.Fd()
	n := 0
	for n < len(p) {
		m, err := unix.Write(fd, p[n:])
		switch {
		case err == nil:
			n += m
			continue
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return n, nil
		}
		err = os.NewSyscallError("write", err)
		c.werr = err
		if c.rerr == nil {
			c.rerr = err
		}
		c.writers.wakeAll()
		c.shutLocked()
		return n, err
	}
	return n, nil
}

// flushLocked hands out to the loop unless a hand-off is already pending
// (its callback then takes out).
func (c *gconn) flushLocked() {
	if c.flushing || len(c.out) == 0 || c.closed {
		return
	}
	c.flushing = true
	c.inflight, c.out = c.out, nil
	if err := c.gc.AsyncWrite(c.inflight, c.flushed); err != nil {
		// The loop's wake-up channel failed: the engine is going away.
		c.flushing = false
		c.failLocked(err)
	}
}

// flushed is the AsyncWrite callback, on the loop: gnet has written or
// buffered the batch (it copies what the socket did not take), so the
// buffer is free again.
func (c *gconn) flushed(gc gnet.Conn, err error) error {
	c.mu.Lock()
	c.recycleLocked(c.inflight)
	c.inflight = nil
	c.flushing = false
	if err != nil || c.closed {
		c.mu.Unlock()
		return nil // OnClose has run or will run and settles everyone
	}
	// What the socket did not take of the batch is in gnet's buffer now:
	// count it there before anything else can look at the backlog.
	c.onLoop = gc.OutboundBuffered()
	if len(c.out) > 0 {
		// Write the batch that accumulated during the hand-off directly:
		// loop-only calls are legal here. Unlock first, since a write error
		// makes gnet call OnClose.
		batch := c.out
		c.out = nil
		c.inflight = batch
		c.flushing = true
		c.mu.Unlock()
		_, _ = gc.Write(batch)
		c.mu.Lock()
		c.recycleLocked(batch)
		c.inflight = nil
		c.flushing = false
		if c.closed {
			c.mu.Unlock()
			return nil
		}
	}
	c.onLoop = gc.OutboundBuffered()
	c.flushLocked() // what Write queued during the direct write
	c.settleLocked()
	c.mu.Unlock()
	return nil
}

func (c *gconn) recycleLocked(b []byte) {
	if b != nil && cap(b) <= recycleCap && c.spare == nil {
		c.spare = b[:0]
	}
}

// settleLocked acts on a fresh sample of the output backlog: wakes parked
// writers below the low-water mark, finishes a graceful close once all is
// sent, and keeps probing while someone still waits for gnet's buffer to
// drain.
func (c *gconn) settleLocked() {
	q := c.queuedLocked()
	if len(c.writers) > 0 && q <= c.cfg.highWater/2 {
		c.writers.wakeAll()
	}
	if c.closing && q == 0 {
		c.shutLocked()
		return
	}
	c.probeLocked()
}

// probeLocked schedules a drain probe if someone waits for gnet's outbound
// buffer to drain: a parked writer or a lingering close.
func (c *gconn) probeLocked() {
	if len(c.writers) > 0 || c.closing {
		c.armProbeLocked()
	}
}

// armProbeLocked schedules a drain probe unless one is pending, an
// AsyncWrite callback will sample the buffer anyway, or it is empty.
func (c *gconn) armProbeLocked() {
	if c.onLoop == 0 {
		c.probeGap = 0
		return
	}
	if c.probing || c.flushing || c.closed {
		return
	}
	c.probing = true
	c.probeGap = min(max(2*c.probeGap, minProbeGap), maxProbeGap)
	if c.probeT == nil {
		c.probeT = time.AfterFunc(c.probeGap, c.schedProbe)
	} else {
		c.probeT.Reset(c.probeGap)
	}
}

// schedProbe runs on a timer goroutine and queues the probe on the loop.
func (c *gconn) schedProbe() {
	c.mu.Lock()
	gc, closed := c.gc, c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	err := gc.EventLoop().Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.probing = false
		if c.closed {
			return nil
		}
		before := c.onLoop
		c.onLoop = gc.OutboundBuffered()
		if c.onLoop < before {
			c.probeGap = 0 // progress: sample eagerly again
		}
		c.settleLocked()
		return nil
	}))
	if err != nil {
		// The engine is shutting down; OnClose settles everyone.
		c.mu.Lock()
		c.probing = false
		c.mu.Unlock()
	}
}

func (c *gconn) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil
	}
	c.closing = true
	c.in, c.ioff = nil, 0
	c.readers.wakeAll()
	c.writers.wakeAll()
	c.idle.stop()
	if c.closed {
		c.stopTimersLocked()
		return nil
	}
	if c.cfg.linger == 0 || c.queuedLocked() == 0 {
		c.shutLocked()
		return nil
	}
	// Deliver what is queued first: settleLocked closes once the backlog
	// is empty; the linger timer closes regardless, dropping the rest.
	c.lingerT = time.AfterFunc(c.cfg.linger, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.shutLocked()
	})
	c.probeLocked()
	return nil
}

// abort closes the connection at once, dropping unsent output.
func (c *gconn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	c.in, c.ioff = nil, 0
	c.readers.wakeAll()
	c.writers.wakeAll()
	c.idle.stop()
	c.shutLocked()
}

// fail closes the connection because of err (idle timeout, a broken
// wake-up channel), dropping buffered input and unsent output; Read and
// Write return err.
func (c *gconn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failLocked(err)
}

func (c *gconn) failLocked(err error) {
	if c.closed {
		return
	}
	if c.rerr == nil {
		c.rerr = err
	}
	if c.werr == nil {
		c.werr = err
	}
	c.in, c.ioff = nil, 0
	c.readers.wakeAll()
	c.writers.wakeAll()
	c.shutLocked()
}

// shutLocked asks gnet to close the socket (it drops what its buffer
// still holds), once.
func (c *gconn) shutLocked() {
	c.stopTimersLocked()
	if c.shut || c.closed {
		return
	}
	c.shut = true
	_ = c.gc.Close()
}

func (c *gconn) stopTimersLocked() {
	c.rdl.stop()
	c.wdl.stop()
	if c.probeT != nil {
		c.probeT.Stop()
	}
	if c.lingerT != nil {
		c.lingerT.Stop()
	}
}

func (c *gconn) setReadDeadline(t time.Time) error  { return c.setDeadline(&c.rdl, &c.readers, t) }
func (c *gconn) setWriteDeadline(t time.Time) error { return c.setDeadline(&c.wdl, &c.writers, t) }

// setDeadline moves one direction's deadline and wakes its blocked callers
// so they re-evaluate it; its timer wakes them when it passes.
func (c *gconn) setDeadline(d *deadline, waiters *waitList, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return c.opErr("set", net.ErrClosed)
	}
	d.set(t, func() {
		c.mu.Lock()
		waiters.wakeAll()
		c.mu.Unlock()
	})
	waiters.wakeAll()
	return nil
}

func (c *gconn) onClosed(fn func()) { addHook(&c.mu, &c.hooks, fn) }

// onTraffic runs on the loop: it copies the received bytes out of gnet's
// shared read buffer and wakes the readers.
func (c *gconn) onTraffic(gc gnet.Conn) gnet.Action {
	b, _ := gc.Next(-1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.rerr != nil {
		return gnet.None // nobody will read it: drop it
	}
	if len(b) == 0 {
		return gnet.None
	}
	if len(c.in)-c.ioff+len(b) > c.cfg.inboundLimit {
		c.rerr, c.werr = ErrInboundOverflow, ErrInboundOverflow
		c.in, c.ioff = nil, 0
		c.readers.wakeAll()
		c.writers.wakeAll()
		return gnet.Close
	}
	if c.ioff > 0 && len(c.in)+len(b) > cap(c.in) {
		// Compact before growing, so the buffer never exceeds what is
		// unread by more than a factor of two.
		c.in = c.in[:copy(c.in, c.in[c.ioff:])]
		c.ioff = 0
	}
	c.in = append(c.in, b...)
	c.readers.wakeAll()
	c.idle.touch()
	if c.onLoop > 0 && !c.flushing {
		// A free chance to refresh a stale backlog sample.
		c.onLoop = gc.OutboundBuffered()
		c.settleLocked()
	}
	return gnet.None
}

// onClose runs on the loop once gnet has closed the connection (or is about
// to: it still flushes what it can). err is nil for a local close, wraps
// io.EOF for the peer's FIN, or is the socket error.
func (c *gconn) onClose(err error) {
	c.mu.Lock()
	c.closed = true
	var rerr, werr error
	switch {
	case err == nil && c.closing:
		rerr, werr = net.ErrClosed, net.ErrClosed
	case err == nil:
		// Nobody asked for it: the engine is shutting down.
		rerr, werr = ErrShutdown, ErrShutdown
	case errors.Is(err, io.EOF):
		// No half-close in gnet: the peer's FIN ends both directions.
		rerr, werr = io.EOF, syscall.EPIPE
	default:
		rerr, werr = err, err
	}
	if c.rerr == nil {
		c.rerr = rerr
	}
	if c.werr == nil {
		c.werr = werr
	}
	c.onLoop = 0
	c.readers.wakeAll()
	c.writers.wakeAll()
	c.stopTimersLocked()
	hooks := c.hooks.takeLocked()
	c.mu.Unlock()
	c.idle.stop()
	for _, fn := range hooks {
		fn()
	}
}
