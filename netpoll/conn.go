package netpoll

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/hub"
)

// Conn is a TCP connection whose blocking calls park only the calling
// greenlet. *Conn implements net.Conn.
//
// net.Conn's methods take no ctx, so a Conn carries one: the ctx its blocking
// calls (Read, Write) wait with. A handler's Conn carries the handler's ctx;
// Dial's carries Dial's ctx; Listener.Accept's carries the Listen ctx and
// AcceptContext's its ctx. WithContext returns the same connection bound to
// another ctx. The ctx names the greenlet that may block in the call
// (hub.Current): a greenlet must only use a Conn bound to its own ctx (or
// one derived from it). A call made with another greenlet's ctx is the
// programming error package hub describes: it cannot park the caller, and
// typically blocks the caller's whole goroutine, stalling its hub. A ctx
// carrying no greenlet makes the calls block the way the standard library's
// do, which is right for plain goroutines.
//
// When the bound ctx is done, or its greenlet is killed, a blocked Read or
// Write returns at once (a kill lands there, see package hub) and the
// connection stays open and consistent: a Read consumed nothing, a Write
// reports the bytes the kernel took, which will be sent.
type Conn struct {
	c   connImpl
	ctx context.Context
}

// connImpl is a connection backend: gnet's event loops, or the standard
// library.
type connImpl interface {
	read(ctx context.Context, p []byte) (int, error)
	write(ctx context.Context, p []byte) (int, error)
	writeTo(ctx context.Context, w io.Writer) (int64, error)
	closeWrite() error
	setSockBuf(opt int, bytes int) error
	close() error
	abort()
	setReadDeadline(t time.Time) error
	setWriteDeadline(t time.Time) error
	localAddr() net.Addr
	remoteAddr() net.Addr
	// onClosed arranges for fn to run once the connection is fully closed
	// (at once if it already is). fn must not block.
	onClosed(fn func())
	// onGone is onClosed, or sooner: once the peer's close is noticed
	// (Conn.OnClosed).
	onGone(fn func())
}

func newConn(c connImpl, ctx context.Context) *Conn {
	if ctx == nil {
		ctx = context.Background()
	}
	return &Conn{c: c, ctx: ctx}
}

// WithContext returns c bound to ctx: the same connection (its buffers,
// deadlines and Close are shared), whose blocking calls wait with ctx. Use it
// to hand a connection to another greenlet, for example a writer greenlet
// beside a reading handler.
func (c *Conn) WithContext(ctx context.Context) *Conn {
	if ctx == nil {
		panic("netpoll: nil context")
	}
	return &Conn{c: c.c, ctx: ctx}
}

// Context returns the ctx c's blocking calls wait with.
func (c *Conn) Context() context.Context { return c.ctx }

// Read reads into p. It parks the calling greenlet until bytes arrive, the
// peer closes (io.EOF, after every received byte was read), an error, the
// read deadline, or the bound ctx ends; a kill of the greenlet lands here.
// Concurrent Reads are served in the order they parked.
func (c *Conn) Read(p []byte) (int, error) { return c.c.read(c.ctx, p) }

// Write writes p to the connection and returns once the kernel has taken
// every byte, so p may be reused at once; as the standard library's, it
// holds no output of its own. While the kernel's send buffer is full it
// parks the calling greenlet until there is room, the write deadline
// passes, the connection fails, or the bound ctx ends; a kill lands here.
// On an error it reports how many bytes of p the kernel took; those are
// sent. Writes are atomic with respect to each other: concurrent Writes
// (from greenlets or goroutines) take turns, in the order they parked, and
// never interleave their bytes.
func (c *Conn) Write(p []byte) (int, error) { return c.c.write(c.ctx, p) }

// WriteTo writes what c receives to w until the peer closes (it returns nil
// then, as io.WriterTo requires) or an error; it implements io.WriterTo, so
// io.Copy(w, c) uses it. It parks as Read does. On the gnet backend the
// received bytes go to w straight from the connection's receive buffer, and
// nothing is held while it waits: io.Copy(c, c) is an echo server that
// keeps no buffer per idle connection.
func (c *Conn) WriteTo(w io.Writer) (int64, error) { return c.c.writeTo(c.ctx, w) }

// CloseWrite shuts down the writing side of the connection (the peer reads
// EOF once it has read everything written before); reading goes on. Later
// Writes fail. It does not wait for blocked Writes.
func (c *Conn) CloseWrite() error { return c.c.closeWrite() }

// Close closes the connection; it never blocks. Blocked and later Read and
// Write calls return an error matching net.ErrClosed, and unread input is
// dropped. Output Write has handed to the kernel is still delivered, in the
// background, as by the standard library. Close is idempotent: later calls
// return nil.
func (c *Conn) Close() error { return c.c.close() }

// SetReadBuffer sets the size of the kernel's receive buffer for the
// connection's socket, as *net.TCPConn's does; it also stops the kernel
// from growing it on its own. With many connections whose peers send more
// than is read, the kernel's buffers, not netpoll's, are what the memory
// goes to; a server can bound them with it.
func (c *Conn) SetReadBuffer(bytes int) error { return c.c.setSockBuf(soRcvBuf, bytes) }

// SetWriteBuffer sets the size of the kernel's send buffer for the
// connection's socket, as *net.TCPConn's does (see SetReadBuffer).
func (c *Conn) SetWriteBuffer(bytes int) error { return c.c.setSockBuf(soSndBuf, bytes) }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.c.localAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.c.remoteAddr() }

// SetDeadline sets the read and write deadlines (see SetReadDeadline and
// SetWriteDeadline).
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.c.setReadDeadline(t); err != nil {
		return err
	}
	return c.c.setWriteDeadline(t)
}

// SetReadDeadline sets when Read stops waiting: a Read blocked then, or
// called after, returns an error whose Timeout method reports true and which
// matches os.ErrDeadlineExceeded. Moving the deadline affects a Read already
// blocked. The zero time means no deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.c.setReadDeadline(t) }

// SetWriteDeadline sets when Write stops waiting for the kernel to take its
// bytes (and for its turn among concurrent Writes), as SetReadDeadline does
// for Read. Bytes the kernel already took are sent regardless.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.c.setWriteDeadline(t) }

// The socket buffers SetReadBuffer and SetWriteBuffer set.
const (
	soRcvBuf = iota
	soSndBuf
)

// waitList is a FIFO of parked callers, guarded by its owner's lock.
type waitList []*hub.Waiter

// wakeAll wakes every waiter, in the order they parked. Waiters re-check
// their condition, so waking one that lost the race is harmless.
func (l *waitList) wakeAll() {
	for _, w := range *l {
		w.Wake()
	}
	clear(*l)
	*l = (*l)[:0]
}

// wakeOne wakes the first waiter still waiting, and reports whether there
// was one.
func (l *waitList) wakeOne() bool {
	for len(*l) > 0 {
		w := (*l)[0]
		(*l)[0] = nil
		*l = (*l)[1:]
		if w.Wake() {
			return true
		}
	}
	return false
}

// remove drops w, whose wait ended without a wake-up.
func (l *waitList) remove(w *hub.Waiter) {
	if i := slices.Index(*l, w); i >= 0 {
		*l = slices.Delete(*l, i, i+1)
	}
}

// park is the wait of every blocking call here: called with mu held, it
// queues a Waiter for ctx's caller on l, releases mu and parks until woken
// (nil) or until ctx ends (its cause). If the greenlet is killed, the kill
// lands here once the waiter is off l again (see hub.Waiter.Park). mu is
// not held on return. Callers re-check their condition after a wake-up.
func (l *waitList) park(ctx context.Context, mu *sync.Mutex, reason string) error {
	w := hub.NewWaiter(ctx)
	*l = append(*l, w)
	mu.Unlock()
	return w.Park(ctx, reason, func() {
		mu.Lock()
		l.remove(w)
		mu.Unlock()
	})
}

// closeHooks runs functions once a connection is fully closed; its owner's
// lock guards it.
type closeHooks struct {
	fns  []func()
	done bool
}

// addLocked registers fn and reports true, or reports false if the hooks
// already ran (the caller then runs fn itself, unlocked).
func (h *closeHooks) addLocked(fn func()) bool {
	if h.done {
		return false
	}
	h.fns = append(h.fns, fn)
	return true
}

// takeLocked marks the hooks as run and returns them for the caller to run
// unlocked.
func (h *closeHooks) takeLocked() []func() {
	h.done = true
	fns := h.fns
	h.fns = nil
	return fns
}

// addHook is onClosed for a connection guarded by mu.
func addHook(mu *sync.Mutex, h *closeHooks, fn func()) {
	mu.Lock()
	added := h.addLocked(fn)
	mu.Unlock()
	if !added {
		fn()
	}
}

// deadline is one direction's deadline with the timer that wakes the
// callers blocked on it.
type deadline struct {
	at    time.Time
	timer *time.Timer
}

// set records t and arms the timer to call wake when t passes. The caller
// wakes the blocked callers itself so they re-evaluate t at once.
func (d *deadline) set(t time.Time, wake func()) {
	d.at = t
	if t.IsZero() {
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(dur, wake)
	} else {
		d.timer.Reset(dur)
	}
}

// expired reports whether the deadline has passed.
func (d *deadline) expired() bool {
	return !d.at.IsZero() && !time.Now().Before(d.at)
}

func (d *deadline) stop() {
	if d.timer != nil {
		d.timer.Stop()
	}
}

// idleWatch closes a connection after a period without traffic. Traffic only
// stores a timestamp; the timer re-arms itself for the remaining time when it
// finds there was some.
type idleWatch struct {
	// d is set in the connection's literal, before its loop can record
	// traffic, and never changes (0: no idle timeout).
	d     time.Duration
	last  atomic.Int64 // nanoseconds since idleEpoch of the latest traffic
	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

var idleEpoch = time.Now()

// start arms the watch: fire runs once after d without traffic.
func (w *idleWatch) start(fire func()) {
	if w.d <= 0 {
		return
	}
	w.touch()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.d, func() {
		quiet := time.Duration(int64(time.Since(idleEpoch)) - w.last.Load())
		w.mu.Lock()
		if w.done {
			w.mu.Unlock()
			return
		}
		if quiet < w.d {
			w.timer.Reset(w.d - quiet)
			w.mu.Unlock()
			return
		}
		w.done = true
		w.mu.Unlock()
		fire()
	})
}

// touch records traffic. It is cheap enough for every Read and Write.
func (w *idleWatch) touch() {
	if w.d > 0 {
		w.last.Store(int64(time.Since(idleEpoch)))
	}
}

func (w *idleWatch) stop() {
	if w.d <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

// direction is one direction of a socket served by the standard library's
// poller (the stdlib backend, and the write side of a gnet connection once
// it waits for the kernel): blocking calls run on the caller's goroutine
// off its run token (hub.Blocking), and a past deadline interrupts them when
// their ctx ends. The owner's lock guards user and interrupts.
type direction struct {
	op          func([]byte) (int, error)
	setDeadline func(time.Time) error
	user        time.Time // the deadline the user set
	interrupts  int       // calls whose ctx ended and whose op has not yet returned
}

// do runs d.op off the run token until it completes: for a read, until it
// returns anything; for a write, until every byte of p is written. While a
// caller's ctx has ended and its op has not returned, the socket's deadline
// for d is held in the past (the only way to interrupt a blocked call), and
// the user's deadline is restored when the last such op returns. Other
// callers caught by that shared deadline retry. It returns the op's error,
// or ctx's cause if ctx ended. mu is the owner's lock, not held on entry.
func (d *direction) do(ctx context.Context, mu *sync.Mutex, reason string, read bool, p []byte) (n int, err error) {
	return d.doOp(ctx, mu, reason, read, p, d.op)
}

// doOp is do with fn called instead of d.op.
func (d *direction) doOp(ctx context.Context, mu *sync.Mutex, reason string, read bool, p []byte, fn func([]byte) (int, error)) (n int, err error) {
	if err := hub.Checkpoint(ctx); err != nil {
		return 0, err
	}
	_ = hub.Blocking(ctx, reason, func(context.Context) error {
		for {
			var stop func() bool
			var fired chan struct{}
			if ctx.Done() != nil {
				fired = make(chan struct{})
				stop = context.AfterFunc(ctx, func() {
					mu.Lock()
					d.interrupts++
					_ = d.setDeadline(aLongTimeAgo)
					mu.Unlock()
					close(fired)
				})
			}
			var m int
			m, err = fn(p[n:])
			n += m
			if stop != nil && !stop() {
				<-fired
				mu.Lock()
				if d.interrupts--; d.interrupts == 0 {
					_ = d.setDeadline(d.user)
				}
				mu.Unlock()
			}
			if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			if ctx.Err() != nil {
				err = context.Cause(ctx)
				return nil
			}
			mu.Lock()
			expired := !d.user.IsZero() && !time.Now().Before(d.user)
			mu.Unlock()
			if expired || (read && n > 0) {
				return nil
			}
			runtime.Gosched() // let the interrupted call return and restore the deadline
		}
	})
	return n, err
}

// setUserLocked records the user's deadline and applies it to the socket
// unless an interrupted call holds it in the past (it is applied when that
// call returns). The owner's lock is held.
func (d *direction) setUserLocked(t time.Time) error {
	d.user = t
	if d.interrupts > 0 {
		return nil
	}
	return d.setDeadline(t)
}

// turn lets one caller at a time through, in the order they parked: the
// write lock that makes Writes atomic, which greenlets wait for
// cooperatively. Its owner's lock guards it.
type turn struct {
	held    bool
	waiters waitList
}

// acquire takes the turn, parking while another caller holds it, and
// returns nil with mu held. check, called with mu held before each try,
// returns the error that ends the wait (the connection closed, the deadline
// passed); the owner wakes the waiters when its answer may have changed.
// On an error mu is not held.
func (t *turn) acquire(ctx context.Context, mu *sync.Mutex, reason string, check func() error) error {
	for {
		mu.Lock()
		if err := check(); err != nil {
			mu.Unlock()
			return err
		}
		if !t.held {
			t.held = true
			return nil
		}
		if err := t.waiters.park(ctx, mu, reason); err != nil {
			return err
		}
	}
}

// releaseLocked hands the turn to the first waiter still waiting. The
// owner's lock is held.
func (t *turn) releaseLocked() {
	t.held = false
	t.waiters.wakeOne()
}
