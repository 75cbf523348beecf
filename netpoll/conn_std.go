package netpoll

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gevent-go/gevent/hub"
)

// sconn is a connection on the standard library's net package: each blocking
// call runs off the greenlet's run token (hub.Blocking) on the caller's
// goroutine, and the bound ctx ending interrupts it through a deadline in
// the past. The kernel's flow control bounds memory, so the inbound limit
// and the high-water mark do not apply.
type sconn struct {
	nc   net.Conn
	idle idleWatch

	mu     sync.Mutex
	r, w   direction
	closed bool
	reason error // why the connection was closed from inside (idle timeout)
	hooks  closeHooks
}

func adoptStd(nc net.Conn, cfg *config) *sconn {
	c := &sconn{nc: nc, idle: idleWatch{d: cfg.idle}}
	c.r = direction{op: nc.Read, setDeadline: nc.SetReadDeadline}
	c.w = direction{op: nc.Write, setDeadline: nc.SetWriteDeadline}
	if tc, ok := nc.(*net.TCPConn); ok && cfg.linger == 0 {
		_ = tc.SetLinger(0)
	}
	c.idle.start(func() { c.shut(ErrIdleTimeout) })
	return c
}

func (c *sconn) localAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *sconn) remoteAddr() net.Addr { return c.nc.RemoteAddr() }

// direction is one direction's interruptible state.
type direction struct {
	op          func([]byte) (int, error)
	setDeadline func(time.Time) error
	user        time.Time // the deadline the user set
	interrupts  int       // calls whose ctx ended and whose op has not yet returned
}

func (c *sconn) read(ctx context.Context, p []byte) (int, error) {
	return c.do(ctx, "read", &c.r, p)
}

func (c *sconn) write(ctx context.Context, p []byte) (int, error) {
	return c.do(ctx, "write", &c.w, p)
}

// do runs d.op off the run token until it completes. While a caller's ctx has
// ended and its op has not returned, d's socket deadline is held in the past
// (the only way to interrupt a blocked net.Conn call), and the user's
// deadline is restored when the last such op returns. Other callers caught
// by that shared deadline retry.
func (c *sconn) do(ctx context.Context, op string, d *direction, p []byte) (n int, err error) {
	return c.doOp(ctx, op, d, p, d.op)
}

// doOp is do with the call to make instead of d.op (the UDP socket's
// ReadFrom and WriteTo, which d's deadline also governs).
func (c *sconn) doOp(ctx context.Context, op string, d *direction, p []byte, fn func([]byte) (int, error)) (n int, err error) {
	if err := hub.Checkpoint(ctx); err != nil {
		return 0, c.wrap(op, err)
	}
	hub.Blocking(ctx, "netpoll."+op, func() {
		for {
			var stop func() bool
			var fired chan struct{}
			if ctx.Done() != nil {
				fired = make(chan struct{})
				stop = context.AfterFunc(ctx, func() {
					c.mu.Lock()
					d.interrupts++
					_ = d.setDeadline(aLongTimeAgo)
					c.mu.Unlock()
					close(fired)
				})
			}
			var m int
			m, err = fn(p[n:])
			n += m
			if stop != nil && !stop() {
				<-fired
				c.mu.Lock()
				if d.interrupts--; d.interrupts == 0 {
					_ = d.setDeadline(d.user)
				}
				c.mu.Unlock()
			}
			if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			if ctx.Err() != nil {
				err = context.Cause(ctx)
				return
			}
			c.mu.Lock()
			expired := !d.user.IsZero() && !time.Now().Before(d.user)
			c.mu.Unlock()
			if expired || (op == "read" && n > 0) {
				return
			}
			runtime.Gosched() // let the interrupted call return and restore the deadline
		}
	})
	if n > 0 {
		c.idle.touch()
	}
	return n, c.wrap(op, err)
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
	d.user = t
	if d.interrupts > 0 {
		return nil // applied when the interrupted calls return
	}
	return d.setDeadline(t)
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
	hooks := c.hooks.takeLocked()
	c.mu.Unlock()
	c.idle.stop()
	_ = c.nc.Close()
	for _, fn := range hooks {
		fn()
	}
}

func (c *sconn) onClosed(fn func()) { addHook(&c.mu, &c.hooks, fn) }
