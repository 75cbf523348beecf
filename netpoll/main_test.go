package netpoll

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/leaktest"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv("NETPOLL_IDLE_CLIENT"); spec != "" {
		idleClient(spec) // the client process of BenchmarkIdleConnMemory
		return
	}
	leaktest.Main(m, leaktest.StopDefaultHub, Shutdown)
}

// backends runs f against both connection backends.
func backends(t *testing.T, f func(t *testing.T, opts ...Option)) {
	t.Run("gnet", func(t *testing.T) { f(t) })
	t.Run("stdlib", func(t *testing.T) { f(t, WithStdlib()) })
}

// newHub returns a hub stopped when the test ends.
func newHub(t testing.TB, opts ...hub.Option) *hub.Hub {
	t.Helper()
	// The blocking monitor's reports go to the test log: under -race on two
	// shared cores, copying a test's large buffers can hold a token past
	// the threshold, which is worth seeing with -v but is not a failure.
	report := func(r hub.BlockedReport) { t.Logf("%s", r) }
	h := hub.MustNew(append([]hub.Option{hub.WithMonitor(100*time.Millisecond, report)}, opts...)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("stopping hub: %v", err)
		}
	})
	return h
}

// failf fails the test from inside a greenlet: t.Fatal would end the
// greenlet's goroutine behind the hub's back, so it panics instead, which the
// hub turns into the greenlet's error and inGreenlet reports.
func failf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}

// inGreenlet runs fn as the main greenlet of h and fails the test on error.
func inGreenlet(t testing.TB, h *hub.Hub, fn func(ctx context.Context) error) {
	t.Helper()
	if err := h.Run(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// testCtx is a context that ends with the test's deadline budget.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pipe returns a connected pair: c1 dialed, c2 accepted, both through
// netpoll with opts, bound to ctx. The connections are made from plain
// goroutines (a greenlet's ctx must not be used off its greenlet), then
// bound to ctx.
func pipe(t testing.TB, ctx context.Context, opts ...Option) (c1, c2 *Conn) {
	t.Helper()
	bg := context.Background()
	ln, err := Listen(bg, "tcp", "127.0.0.1:0", opts...)
	if err != nil {
		failf("listen: %v", err)
	}
	defer ln.Close()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptContext(bg)
		ch <- res{c, err}
	}()
	dc := make(chan res, 1)
	go func() {
		c, err := Dial(bg, "tcp", ln.Addr().String(), opts...)
		dc <- res{c, err}
	}()
	var r1, r2 res
	hub.Blocking(ctx, "test.pipe", func(context.Context) error { r1, r2 = <-dc, <-ch; return nil })
	if r1.err != nil {
		failf("dial: %v", r1.err)
	}
	if r2.err != nil {
		failf("accept: %v", r2.err)
	}
	t.Cleanup(func() { r1.c.Close(); r2.c.Close() })
	return r1.c.WithContext(ctx), r2.c.WithContext(ctx)
}

// dialStd returns a netpoll connection dialed with opts, bound to ctx, and
// its peer, a plain standard-library connection that reads only when told
// to (a peer that exerts back-pressure, unlike a gnet one).
func dialStd(t testing.TB, ctx context.Context, opts ...Option) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		failf("listen: %v", err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	c, err := Dial(ctx, "tcp", ln.Addr().String(), opts...)
	if err != nil {
		failf("dial: %v", err)
	}
	peer := recv(ctx, ch)
	if peer == nil {
		failf("accept failed")
	}
	t.Cleanup(func() { c.Close(); peer.Close() })
	return c, peer
}

// recv receives from ch cooperatively (a greenlet must not block on a
// plain channel: it would keep its hub's run token).
func recv[T any](ctx context.Context, ch <-chan T) T {
	var v T
	hub.Blocking(ctx, "test.recv", func(context.Context) error { v = <-ch; return nil })
	return v
}

// waitDeadG parks until g has ended, failing the test after limit.
func waitDeadG(ctx context.Context, g *hub.G, limit time.Duration) time.Duration {
	start := time.Now()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	dead := false
	hub.Blocking(ctx, "test.dead", func(context.Context) error {
		select {
		case <-g.Dead():
			dead = true
		case <-timer.C:
		}
		return nil
	})
	if !dead {
		failf("greenlet %s still alive after %v (state %v)", g.Name(), limit, g.State())
	}
	return time.Since(start)
}

// killPromptly kills g, which must be parked, and fails unless it dies
// within a second.
func killPromptly(ctx context.Context, g *hub.G) {
	if g.State() != hub.StateParked {
		failf("%s is %v, want parked", g.Name(), g.State())
	}
	g.Kill(nil)
	if d := waitDeadG(ctx, g, 2*time.Second); d > time.Second {
		failf("kill took %v", d)
	}
}

// sendRecv writes msg on from and fails unless to reads exactly msg.
func sendRecv(from, to io.ReadWriter, msg string) {
	if _, err := from.Write([]byte(msg)); err != nil {
		failf("write %q: %v", msg, err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(to, buf); err != nil || string(buf) != msg {
		failf("read %q (%v), want %q", buf, err, msg)
	}
}

// echoLoop writes back what it reads from c, through buf, until an error.
func echoLoop(c io.ReadWriter, buf []byte) {
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// serverOpts is opts, then more, as a server's options.
func serverOpts(opts []Option, more ...ServerOption) []ServerOption {
	s := make([]ServerOption, 0, len(opts)+len(more))
	for _, o := range opts {
		s = append(s, o)
	}
	return append(s, more...)
}
