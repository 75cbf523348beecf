package netpoll

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// sconn is a connection on the standard library's net package: each blocking
// call runs off the greenlet's run token (hub.Blocking) on the caller's
// goroutine, and the bound ctx ending interrupts it through a deadline in
// the past. The kernel's flow control bounds memory, so the inbound limit
// and budgets do not apply.
type sconn struct {
	nc   net.Conn
	idle idleWatch

	mu     sync.Mutex
	r, w   direction
	wturn  turn // Writes take turns
	closed bool
	reason error // why the connection was closed from inside (idle timeout)
	hooks  closeHooks
}

func adoptStd(nc net.Conn, cfg *config) *sconn {
	c := &sconn{nc: nc, idle: idleWatch{d: cfg.idle}}
	c.r = direction{op: nc.Read, setDeadline: nc.SetReadDeadline}
	c.w = direction{op: nc.Write, setDeadline: nc.SetWriteDeadline}
	c.idle.start(func() { c.shut(ErrIdleTimeout) })
	return c
}

func (c *sconn) localAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *sconn) remoteAddr() net.Addr { return c.nc.RemoteAddr() }

func (c *sconn) read(ctx context.Context, p []byte) (int, error) {
	return c.doOp(ctx, "read", &c.r, p, c.r.op)
}

func (c *sconn) write(ctx context.Context, p []byte) (int, error) {
	err := c.wturn.acquire(ctx, &c.mu, "netpoll.write", func() error {
		if c.closed {
			return net.ErrClosed
		}
		return nil
	})
	if err != nil {
		return 0, c.wrap("write", err)
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.wturn.releaseLocked()
		c.mu.Unlock()
	}()
	return c.doOp(ctx, "write", &c.w, p, c.w.op)
}

// doOp runs fn, d's call (or the UDP socket's ReadFrom or WriteTo, which d's
// deadline also governs), off the run token until it completes (see
// direction.do).
func (c *sconn) doOp(ctx context.Context, op string, d *direction, p []byte, fn func([]byte) (int, error)) (int, error) {
	n, err := d.doOp(ctx, &c.mu, "netpoll."+op, op == "read", p, fn)
	if n > 0 {
		c.idle.touch()
	}
	return n, c.wrap(op, err)
}

// writeTo copies through a pooled buffer, as io.Copy would.
func (c *sconn) writeTo(ctx context.Context, w io.Writer) (int64, error) {
	bp := getBuf(copyBuf)
	defer putBuf(bp)
	buf := (*bp)[:cap(*bp)]
	var total int64
	for {
		n, err := c.read(ctx, buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (c *sconn) closeWrite() error {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok {
		return c.wrap("close", errors.ErrUnsupported)
	}
	return cw.CloseWrite()
}

func (c *sconn) setSockBuf(opt int, bytes int) error {
	tc, ok := c.nc.(interface {
		SetReadBuffer(int) error
		SetWriteBuffer(int) error
	})
	if !ok {
		return c.wrap("set", errors.ErrUnsupported)
	}
	if opt == soRcvBuf {
		return tc.SetReadBuffer(bytes)
	}
	return tc.SetWriteBuffer(bytes)
}

func (c *sconn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	c.mu.Lock()
	why := c.reason
	c.mu.Unlock()
	var oe *net.OpError
	if errors.As(err, &oe) {
		if why != nil {
			oe.Err = why
		}
		return oe
	}
	if why != nil {
		err = why
	}
	return opError(op, c.nc.LocalAddr(), c.nc.RemoteAddr(), err)
}

func (c *sconn) setReadDeadline(t time.Time) error  { return c.setDeadline(&c.r, t) }
func (c *sconn) setWriteDeadline(t time.Time) error { return c.setDeadline(&c.w, t) }

func (c *sconn) setDeadline(d *direction, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return d.setUserLocked(t)
}

func (c *sconn) close() error {
	c.shut(nil)
	return nil
}

func (c *sconn) abort() {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.shut(nil)
}

func (c *sconn) shut(reason error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	c.wturn.waiters.wakeAll()
	hooks := c.hooks.takeLocked()
	c.mu.Unlock()
	c.idle.stop()
	_ = c.nc.Close()
	for _, fn := range hooks {
		fn()
	}
}

func (c *sconn) onClosed(fn func()) { addHook(&c.mu, &c.hooks, fn) }

// onGone is onClosed: the stdlib backend notices a peer's close only in a
// Read, which reports it to its caller.
func (c *sconn) onGone(fn func()) { c.onClosed(fn) }
