package netpoll

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gevent-go/gevent/hub"
)

func TestMain(m *testing.M) {
	// gnet's package init starts an ants pool that lives for the process;
	// ignore the goroutines that exist before any test runs.
	ignore := goleak.IgnoreCurrent()
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hub.Default().Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the default hub:", err)
		code = 1
	}
	if err := Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "netpoll shutdown:", err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// backends runs f against both connection backends.
func backends(t *testing.T, f func(t *testing.T, opts ...Option)) {
	t.Run("gnet", func(t *testing.T) { f(t) })
	t.Run("stdlib", func(t *testing.T) { f(t, WithStdlib()) })
}

// newHub returns a hub stopped when the test ends.
func newHub(t testing.TB, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h := hub.MustNew(opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("stopping hub: %v", err)
		}
	})
	return h
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
// netpoll with opts, bound to ctx.
func pipe(t testing.TB, ctx context.Context, opts ...Option) (c1, c2 *Conn) {
	t.Helper()
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptContext(ctx)
		ch <- res{c, err}
	}()
	c1, err = Dial(ctx, "tcp", ln.Addr().String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { c1.Close(); r.c.Close() })
	return c1, r.c
}
