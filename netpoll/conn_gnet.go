//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// gconn is a connection whose received bytes move through a gnet event loop
// (until it is paused, below).
//
// Reading: gnet's loop copies what it reads out of its shared read buffer
// (OnTraffic) into in, a pooled buffer, and wakes the parked readers. A
// drained buffer goes back to the pool, but for a 4 KiB one, which the
// connection keeps for its next message (drainedLocked).
//
// Writing never goes through gnet. Write writes to the socket from the
// caller's goroutine, and when the kernel's send buffer is full it waits for
// room on own, netpoll's pollable duplicate of the socket's descriptor,
// through the runtime's poller, off its run token (direction.do). So gnet's
// outbound buffer stays empty, and that matters three times over: gnet drops
// what it holds when it closes a connection, and it closes one when the
// peer shuts down its write side, and when netpoll pauses it:
//
//   - Half-close: at the peer's FIN (OnClose with io.EOF) own keeps the
//     socket open, so Read drains what arrived and then returns io.EOF
//     while Write goes on, with nothing lost.
//   - Pause: gnet cannot stop reading a socket, so a peer that sends faster
//     than the connection is read would grow in without bound. Past the
//     inbound limit, or chosen by a budget, the connection is paused: netpoll
//     asks gnet to let go of it (gnet reads nothing more once it has) and
//     reads it on own through the runtime's poller from then on, after what
//     in holds. The kernel's flow control then throttles the peer, as with
//     the standard library.
//
// gnet.Conn's loop-only methods are called only from its loop's callbacks;
// off the loop only Close and the socket calls (Fd, Dup, setsockopt).
// gnet closes the descriptor only after OnClose, which takes mu, so while
// mu is held and gnetDone is unset, gc.Fd() is this connection's socket.
type gconn struct {
	cfg          *config
	laddr, raddr net.Addr
	idle         idleWatch
	budgets      []*budget    // charged with the inbound buffer; fixed at adoption
	held         atomic.Int64 // the inbound buffers charged to the budgets (written under mu)

	mu       sync.Mutex
	gc       gnet.Conn // set once enrolled
	inp      *[]byte   // the pooled buffer behind in, nil when in is nil
	in       []byte    // received, unread: in[ioff:]
	ioff     int
	taken    int   // the buffer a WriteTo is writing out, still charged
	rerr     error // what Read returns once in is drained
	werr     error // what Write returns
	readers  waitList
	rdl      deadline
	wdl      deadline
	wturn    turn       // Writes take turns
	own      *os.File   // netpoll's pollable duplicate of the socket, once needed
	wd       direction  // Write's waits on own
	rd       direction  // reads on own, once paused
	ownReads bool       // paused and let go of by gnet: reads come from own
	paused   bool       // netpoll asked gnet to let go, to read on own instead
	opened   bool       // OnOpen ran
	closing  bool       // Close was called
	shut     bool       // gc.Close was requested
	wshut    bool       // CloseWrite shut down the write side
	gnetDone bool       // OnClose ran: gnet has let go of the socket
	detached bool       // in the detached set: on own alone, paused or half-open
	done     bool       // fully closed: gnet has let go and own is closed
	hooks    closeHooks // once fully closed
	gone     closeHooks // once closed, or the peer's close is noticed
}

func adoptGnet(nc net.Conn, cfg *config, b *budget) (*gconn, error) {
	c := &gconn{cfg: cfg, laddr: nc.LocalAddr(), raddr: nc.RemoteAddr(), idle: idleWatch{d: cfg.idle}}
	c.budgets = append(c.budgets, engineBudget)
	if b != nil {
		c.budgets = append(c.budgets, b)
	}
	for _, b := range c.budgets {
		b.join(c)
	}
	if err := enroll(nc, c); err != nil {
		for _, b := range c.budgets {
			b.leave(c)
		}
		return nil, err
	}
	c.idle.start(func() { c.fail(ErrIdleTimeout) })
	return c, nil
}

func (c *gconn) localAddr() net.Addr  { return c.laddr }
func (c *gconn) remoteAddr() net.Addr { return c.raddr }

func (c *gconn) opErr(op string, err error) error { return opError(op, c.laddr, c.raddr, err) }

// errReadOwn tells a reader that in is drained and the connection is read
// on own now (it is paused).
var errReadOwn = errors.New("netpoll: read on own")

// awaitInput parks until c has unread input and returns nil with mu held;
// or it returns, with mu released, what ends the wait: the connection
// closed or failed, the peer's EOF (once everything was read), the read
// deadline, ctx's end, or errReadOwn. With poll set it does not park: it
// returns nil with mu held whether or not there is input.
func (c *gconn) awaitInput(ctx context.Context, poll bool) error {
	for {
		c.mu.Lock()
		switch {
		case c.closing:
			c.mu.Unlock()
			return net.ErrClosed
		case c.rdl.expired():
			c.mu.Unlock()
			return os.ErrDeadlineExceeded
		case len(c.in) > c.ioff:
			return nil
		case c.rerr != nil:
			err := c.rerr
			c.mu.Unlock()
			return err
		case poll:
			return nil
		case c.ownReads:
			c.mu.Unlock()
			return errReadOwn
		}
		if err := c.readers.park(ctx, &c.mu, "netpoll.read"); err != nil {
			return err
		}
	}
}

func (c *gconn) read(ctx context.Context, p []byte) (int, error) {
	if err := c.awaitInput(ctx, len(p) == 0); err == errReadOwn {
		return c.readOwn(ctx, p)
	} else if err != nil {
		return 0, c.opErr("read", err)
	}
	n := copy(p, c.in[c.ioff:])
	c.ioff += n
	if c.ioff == len(c.in) {
		c.drainedLocked()
	}
	delta := c.rechargeLocked()
	c.mu.Unlock()
	c.charge(delta)
	if n > 0 {
		c.idle.touch()
	}
	return n, nil
}

// readOwn reads on own, off the run token, once the connection is paused
// and in is drained.
func (c *gconn) readOwn(ctx context.Context, p []byte) (int, error) {
	n, err := c.rd.do(ctx, &c.mu, "netpoll.read", true, p)
	if n > 0 {
		c.idle.touch()
	}
	if err != nil {
		c.mu.Lock()
		err = c.ownErrLocked(ctx, "read", err)
		c.mu.Unlock()
		if err == io.EOF {
			c.peerGone()
		}
	}
	return n, c.opErr("read", err)
}

// writeTo hands w the received bytes in the buffer they arrived in: no copy,
// and no buffer held while it waits (the buffer stays charged to the
// budgets until w has taken it). Once the connection is paused it copies
// through a pooled buffer, as io.Copy would.
func (c *gconn) writeTo(ctx context.Context, w io.Writer) (int64, error) {
	var total int64
	for {
		var chunk []byte
		var inp *[]byte
		switch err := c.awaitInput(ctx, false); err {
		case nil:
			inp, chunk = c.inp, c.in[c.ioff:]
			c.inp, c.in, c.ioff = nil, nil, 0
			c.taken = cap(*inp)
			c.mu.Unlock()
		case errReadOwn:
			inp = getBuf(copyBuf)
			n, err := c.readOwn(ctx, (*inp)[:cap(*inp)])
			chunk = (*inp)[:n]
			if err != nil {
				putBuf(inp)
				if err == io.EOF {
					return total, nil
				}
				return total, err
			}
		case io.EOF:
			return total, nil
		default:
			return total, c.opErr("read", err)
		}
		c.idle.touch()
		m, err := w.Write(chunk)
		total += int64(m)
		c.mu.Lock()
		c.taken = 0
		if c.inp == nil && !c.closing && !c.ownReads {
			// The connection's buffer again, for the next message (if it is
			// the smallest size; see drainedLocked).
			c.inp, c.in = inp, (*inp)[:0]
			c.drainedLocked()
			inp = nil
		}
		delta := c.rechargeLocked()
		c.mu.Unlock()
		c.charge(delta)
		putBuf(inp)
		if err == nil && m < len(chunk) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
}

// drainedLocked empties the inbound buffer once everything was read. It
// keeps a buffer of the smallest size for the next message (reusing it is
// what keeps a connection's small messages in the cache; from the pool
// each would come cold) and gives a larger one back to the pool, so a
// connection holds at most that much between messages, about a goroutine's
// stack. Buffers of that size are not charged to the budgets (chargeable).
func (c *gconn) drainedLocked() {
	if c.inp != nil && cap(*c.inp) == 1<<minBufShift {
		c.in, c.ioff = c.in[:0], 0
		return
	}
	c.releaseInLocked()
}

// releaseInLocked gives the inbound buffer back to the pool.
func (c *gconn) releaseInLocked() {
	putBuf(c.inp)
	c.inp, c.in, c.ioff = nil, nil, 0
}

// chargeable is what a buffer of size n costs the budgets: nothing for the
// smallest size, a fixed cost per connection (see drainedLocked) that no
// peer can grow, which leaves the budgets' counters alone for small
// messages; its size beyond that.
func chargeable(n int) int64 {
	if n <= 1<<minBufShift {
		return 0
	}
	return int64(n)
}

// rechargeLocked records the inbound buffer now held and returns the change
// for charge, which the caller makes once mu is released.
func (c *gconn) rechargeLocked() int64 {
	now := chargeable(c.taken)
	if c.inp != nil {
		now += chargeable(cap(*c.inp))
	}
	delta := now - c.held.Load()
	c.held.Store(now)
	return delta
}

// charge applies a change of the inbound buffers to the budgets, which
// pause or cut the connections they choose (maybe c itself). No lock may be
// held.
func (c *gconn) charge(delta int64) {
	if delta != 0 {
		for _, b := range c.budgets {
			b.charge(c, delta)
		}
	}
}

func (c *gconn) heldBytes() int64 { return c.held.Load() }
func (c *gconn) cut()             { c.fail(ErrInboundOverflow) }

// pause asks gnet to let go of the connection, which is then read on own
// (see gconn). Bytes gnet reads before it lets go still arrive in order.
func (c *gconn) pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused || c.shut || c.closing || c.gnetDone || c.gc == nil {
		return
	}
	c.paused, c.shut = true, true
	_ = c.gc.Close()
}

// writeErrLocked is why a Write cannot go on, if it cannot.
func (c *gconn) writeErrLocked() error {
	switch {
	case c.closing:
		return net.ErrClosed
	case c.werr != nil:
		return c.werr
	case c.wdl.expired():
		return os.ErrDeadlineExceeded
	}
	return nil
}

func (c *gconn) write(ctx context.Context, p []byte) (int, error) {
	if err := c.wturn.acquire(ctx, &c.mu, "netpoll.write", c.writeErrLocked); err != nil {
		return 0, c.opErr("write", err)
	}
	// The turn and mu are held.
	n, err := c.writeNowLocked(p)
	if err != nil || n == len(p) {
		c.wturn.releaseLocked()
		c.mu.Unlock()
		return c.wrote(n, err)
	}
	// The kernel's buffer is full: wait for room, off the run token, still
	// holding the turn.
	if err = c.ownLocked(); err != nil {
		c.wturn.releaseLocked()
		c.mu.Unlock()
		return c.wrote(n, err)
	}
	c.mu.Unlock()
	m, err := c.waitWrite(ctx, p[n:])
	return c.wrote(n+m, err)
}

// waitWrite writes p on own, off the run token, for a Write that holds the
// turn (mu is not held); it gives the turn back when it returns, and also
// when a kill unwinds it.
func (c *gconn) waitWrite(ctx context.Context, p []byte) (n int, err error) {
	defer func() {
		var spare *os.File
		c.mu.Lock()
		if err != nil {
			err = c.ownErrLocked(ctx, "write", err)
		}
		if !c.gnetDone {
			// gnet still holds the socket: own served only this wait, and a
			// connection keeps one descriptor while it can.
			spare, c.own = c.own, nil
		}
		c.wturn.releaseLocked()
		c.mu.Unlock()
		if spare != nil {
			_ = spare.Close()
		}
	}()
	return c.wd.do(ctx, &c.mu, "netpoll.write", false, p)
}

// wrote is a Write's result: traffic for the idle timeout, the error in the
// standard library's form.
func (c *gconn) wrote(n int, err error) (int, error) {
	if n > 0 {
		c.idle.touch()
	}
	return n, c.opErr("write", err)
}

// writeNowLocked writes what the kernel takes of p at once. A socket error
// fails the connection's writes (reads drain what was received, then see
// their own end) and is returned.
func (c *gconn) writeNowLocked(p []byte) (n int, err error) {
	ok := c.fdLocked(func(fd int) {
		for n < len(p) {
			m, werr := unix.Write(fd, p[n:])
			switch {
			case werr == nil:
				n += m
				continue
			case werr == unix.EINTR:
				continue
			case werr == unix.EAGAIN:
				return
			}
			err = os.NewSyscallError("write", werr)
			return
		}
	})
	if !ok {
		err = c.werr
		if err == nil {
			err = net.ErrClosed
		}
	}
	if err != nil && c.werr == nil {
		c.werr = err
	}
	return n, err
}

// ownErrLocked maps the error of a read or write on own: io.EOF and
// ctx's end pass; own closed under the caller reports why it was; a socket
// error fails that direction for good.
func (c *gconn) ownErrLocked(ctx context.Context, op string, err error) error {
	switch {
	case err == io.EOF:
		return err
	case ctx.Err() != nil && errors.Is(err, context.Cause(ctx)):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return os.ErrDeadlineExceeded
	case errors.Is(err, os.ErrClosed):
		why := c.werr
		if op == "read" {
			why = c.rerr
		}
		if c.closing || why == nil {
			return net.ErrClosed
		}
		return why
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = os.NewSyscallError(op, errno)
	}
	sticky := &c.werr
	if op == "read" {
		sticky = &c.rerr
	}
	if *sticky == nil {
		*sticky = err
	}
	return err
}

// fdLocked runs fn with the socket's descriptor: gnet's while gnet holds
// it, own's afterwards. It reports false if neither is open.
func (c *gconn) fdLocked(fn func(fd int)) bool {
	if !c.gnetDone && c.gc != nil {
		fn(c.gc.Fd())
		return true
	}
	if c.own == nil {
		return false
	}
	rc, err := c.own.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) }) == nil
}

// ownLocked makes own, a duplicate of gnet's descriptor for the socket that
// the runtime's poller watches, if there is none yet.
func (c *gconn) ownLocked() error {
	if c.own != nil {
		return nil
	}
	if c.gnetDone {
		return net.ErrClosed
	}
	fd, err := c.gc.Dup()
	if err != nil {
		return err
	}
	// The descriptor is non-blocking (gnet's), so the file is pollable.
	// Never call its Fd method: it would make the socket blocking for gnet.
	f := os.NewFile(uintptr(fd), "netpoll")
	c.own = f
	c.wd = direction{op: f.Write, setDeadline: f.SetWriteDeadline}
	return c.wd.setUserLocked(c.wdl.at)
}

func (c *gconn) closeWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return c.opErr("close", net.ErrClosed)
	}
	if c.wshut {
		return nil
	}
	var err error
	if !c.fdLocked(func(fd int) { err = unix.Shutdown(fd, unix.SHUT_WR) }) {
		return c.opErr("close", net.ErrClosed)
	}
	if err != nil {
		return c.opErr("close", os.NewSyscallError("shutdown", err))
	}
	c.wshut = true
	return nil
}

func (c *gconn) setSockBuf(opt int, bytes int) error {
	name := unix.SO_RCVBUF
	if opt == soSndBuf {
		name = unix.SO_SNDBUF
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return c.opErr("set", net.ErrClosed)
	}
	var err error
	if !c.fdLocked(func(fd int) { err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, name, bytes) }) {
		return c.opErr("set", net.ErrClosed)
	}
	if err != nil {
		return c.opErr("set", os.NewSyscallError("setsockopt", err))
	}
	return nil
}

func (c *gconn) close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	c.shutLocked(nil)
	return nil
}

// abort closes the connection at once (a connection refused past the
// server's bound, a handler given up on): Close, whether or not it was
// already called. It sends a FIN, not a reset: a reset can reach a client
// that is still in connect and fail its dial, where a refused client
// should see its connection closed.
func (c *gconn) abort() {
	c.mu.Lock()
	c.closing = true
	c.shutLocked(nil)
}

// fail closes the connection because of err (idle timeout, inbound
// overflow, shutdown), dropping buffered input; Read and Write return err.
func (c *gconn) fail(err error) {
	c.mu.Lock()
	if c.done || c.closing {
		c.mu.Unlock()
		return
	}
	c.shutLocked(err)
}

// shutLocked closes the connection: drops the input, wakes every waiter,
// asks gnet to close its descriptor and closes own. It releases mu.
func (c *gconn) shutLocked(reason error) {
	if reason != nil {
		if c.rerr == nil {
			c.rerr = reason
		}
		if c.werr == nil {
			c.werr = reason
		}
	}
	c.releaseInLocked()
	delta := c.rechargeLocked()
	c.readers.wakeAll()
	c.wturn.waiters.wakeAll()
	if !c.gnetDone && !c.shut && c.gc != nil {
		c.shut = true
		_ = c.gc.Close()
	}
	c.endLocked(delta)
}

// endLocked closes own (if it is no longer wanted) and, once gnet has let go
// too, finishes the connection: it stops its timers, leaves its budgets and
// runs its close hooks. It releases mu; then it closes own and charges
// delta, the inbound buffer just released.
func (c *gconn) endLocked(delta int64) {
	f := c.own
	c.own = nil
	var hooks []func()
	finished, wasDetached := false, c.detached
	if c.gnetDone && !c.done {
		c.done, finished = true, true
		c.detached = false
		c.ownReads = false
		c.rdl.stop()
		c.wdl.stop()
		hooks = append(c.gone.takeLocked(), c.hooks.takeLocked()...)
	}
	c.mu.Unlock()
	if f != nil {
		// After mu is released: Close waits for a Write blocked on f, which
		// needs mu to return.
		_ = f.Close()
	}
	c.charge(delta)
	if !finished {
		return
	}
	c.idle.stop()
	if wasDetached {
		detached.remove(c)
	}
	for _, b := range c.budgets {
		b.leave(c)
	}
	for _, fn := range hooks {
		fn()
	}
}

func (c *gconn) setReadDeadline(t time.Time) error {
	return c.setDeadline(t, &c.rdl, &c.readers, func() *direction {
		if c.ownReads {
			return &c.rd
		}
		return nil
	})
}

// setWriteDeadline: the timer wakes the Writes waiting for their turn; the
// one holding it waits on own, whose own deadline ends that wait.
func (c *gconn) setWriteDeadline(t time.Time) error {
	return c.setDeadline(t, &c.wdl, &c.wturn.waiters, func() *direction {
		if c.own != nil {
			return &c.wd
		}
		return nil
	})
}

// setDeadline moves one direction's deadline: d's timer wakes the callers
// parked on waiters when it passes, and they are woken now to re-evaluate
// it; onOwn, called with mu held, returns the direction whose blocked call
// on own the deadline also governs, if any.
func (c *gconn) setDeadline(t time.Time, d *deadline, waiters *waitList, onOwn func() *direction) error {
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
	if dir := onOwn(); dir != nil {
		return dir.setUserLocked(t)
	}
	return nil
}

func (c *gconn) onClosed(fn func()) { addHook(&c.mu, &c.hooks, fn) }
func (c *gconn) onGone(fn func())   { addHook(&c.mu, &c.gone, fn) }

// peerGone runs the gone hooks: the peer's close has been noticed.
func (c *gconn) peerGone() {
	c.mu.Lock()
	fns := c.gone.takeLocked()
	c.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// onTraffic runs on the loop: it copies the received bytes out of gnet's
// shared read buffer and wakes the readers. Past the inbound limit it
// pauses the connection: the loop closes gnet's side on return, and the
// rest is read on own.
func (c *gconn) onTraffic(gc gnet.Conn) gnet.Action {
	b, _ := gc.Next(-1)
	c.mu.Lock()
	if c.closing || c.rerr != nil || len(b) == 0 {
		c.mu.Unlock()
		return gnet.None // nobody will read it: drop it
	}
	c.appendLocked(b)
	over := !c.paused && len(c.in)-c.ioff >= c.cfg.inboundLimit
	if over {
		c.paused, c.shut = true, true
	}
	delta := c.rechargeLocked()
	c.readers.wakeAll()
	c.mu.Unlock()
	c.idle.touch()
	c.charge(delta)
	if over {
		return gnet.Close
	}
	return gnet.None
}

// appendLocked appends b to the unread input, growing the buffer from the
// pool (moving the unread part to the front first when that makes room).
func (c *gconn) appendLocked(b []byte) {
	if c.inp == nil {
		c.inp = getBuf(len(b))
		c.in, c.ioff = *c.inp, 0
	}
	if len(c.in)+len(b) > cap(c.in) {
		unread := len(c.in) - c.ioff
		if unread+len(b) <= cap(c.in) {
			c.in = c.in[:copy(c.in, c.in[c.ioff:])]
		} else {
			np := getBuf(unread + len(b))
			*np = append(*np, c.in[c.ioff:]...)
			putBuf(c.inp)
			c.inp, c.in = np, *np
		}
		c.ioff = 0
	}
	c.in = append(c.in, b...)
}

// onClose runs on the loop when gnet closes the connection. err is nil for
// a close netpoll asked for (a Close, a pause) or the engine stopping, wraps
// io.EOF when the peer shut down its write side (or closed), or is the
// socket's error. After a pause the connection lives on, read and written
// on own; after EOF its write side does.
func (c *gconn) onClose(err error) {
	c.mu.Lock()
	open := !c.closing && c.rerr == nil
	var moved, halfOpen bool
	switch {
	case open && c.paused && err == nil:
		if err = c.ownLocked(); err != nil {
			err = fmt.Errorf("netpoll: pausing the connection: %w", err)
		}
		moved = err == nil
	case open && errors.Is(err, io.EOF) && c.werr == nil && !c.wshut:
		halfOpen = c.ownLocked() == nil
	}
	c.gnetDone = true
	if moved {
		c.ownReads = true
		c.rd = direction{op: c.own.Read, setDeadline: c.own.SetReadDeadline}
		_ = c.rd.setUserLocked(c.rdl.at)
	}
	var rerr, werr error
	switch {
	case moved:
	case err == nil && c.closing:
		rerr, werr = net.ErrClosed, net.ErrClosed
	case err == nil:
		// Nobody asked for it: the engine is shutting down.
		rerr, werr = ErrShutdown, ErrShutdown
	case errors.Is(err, io.EOF):
		rerr, werr = io.EOF, syscall.EPIPE
	default:
		rerr, werr = err, err
	}
	if c.rerr == nil {
		c.rerr = rerr
	}
	c.readers.wakeAll()
	if moved || halfOpen {
		c.detached = true
		detached.add(c)
		c.mu.Unlock()
		if halfOpen {
			c.peerGone()
		}
		return
	}
	c.rdl.stop()
	if c.werr == nil {
		c.werr = werr
	}
	c.wturn.waiters.wakeAll()
	c.endLocked(0)
}

// detached holds the connections gnet has let go of that live on on own
// (paused, or half-open), for Shutdown.
var detached = connSet{m: make(map[*gconn]struct{})}

type connSet struct {
	mu sync.Mutex
	m  map[*gconn]struct{}
}

func (s *connSet) add(c *gconn) {
	s.mu.Lock()
	s.m[c] = struct{}{}
	s.mu.Unlock()
}

func (s *connSet) remove(c *gconn) {
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

// failAll fails every member with err.
func (s *connSet) failAll(err error) {
	s.mu.Lock()
	cs := slices.Collect(maps.Keys(s.m))
	s.mu.Unlock()
	for _, c := range cs {
		c.fail(err)
	}
}
