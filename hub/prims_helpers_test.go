package hub

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
	"go.uber.org/goleak"
)

// newTestHub returns a hub that fails the test on any greenlet failure nobody
// observed, and that is stopped, followed by a goroutine-leak check, when the
// test ends. (Per-test goleak rather than TestMain, so that this file does not
// collide with a TestMain the scheduler's own tests may get. Goroutines that
// existed before, such as the ants package's default pool, are ignored.)
func newTestHub(t testing.TB, opts ...Option) *Hub {
	t.Helper()
	if _, checked := leakChecked.LoadOrStore(t, true); !checked {
		// Once per test, before its first hub: cleanups run LIFO, so the
		// check comes after every hub of the test was stopped.
		ignore := goleak.IgnoreCurrent()
		t.Cleanup(func() {
			leakChecked.Delete(t)
			goleak.VerifyNone(t, ignore)
		})
	}
	return newStoppedAtCleanup(t, opts...)
}

var leakChecked sync.Map // testing.TB -> true: the test has its leak check

// newBubbleHub is newTestHub for a testing/synctest bubble: synctest.Test
// itself fails if a goroutine of the bubble outlives it, so there is no
// goleak check (which could not tell the bubble's goroutines apart).
func newBubbleHub(t testing.TB, opts ...Option) *Hub {
	t.Helper()
	return newStoppedAtCleanup(t, opts...)
}

func newStoppedAtCleanup(t testing.TB, opts ...Option) *Hub {
	opts = append([]Option{WithErrorHandler(func(g *G, err error) {
		t.Errorf("greenlet %s failed and nobody observed it: %v", g.Name(), err)
	})}, opts...)
	h := MustNew(opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return h
}

// run runs body as the main greenlet of h and fails the test on its error.
func run(t testing.TB, h *Hub, body func(ctx context.Context) error) {
	t.Helper()
	if err := h.Run(context.Background(), body); err != nil {
		t.Fatalf("main greenlet: %v", err)
	}
}

// spawn starts fn as a greenlet named name.
func spawn(ctx context.Context, h *Hub, name string, fn func(ctx context.Context) error) *G {
	return h.spawn(ctx, sched.Task{Name: name, Run: fn})
}

// join waits, cooperatively from a greenlet, until g is dead.
func join(ctx context.Context, g *G) {
	Blocking(ctx, "test.join", func(context.Context) error { <-g.Dead(); return nil })
}

// timeout returns a ctx derived from ctx that ends after d; it is released
// when the test ends.
func timeout(t testing.TB, ctx context.Context, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return c
}

// mustPanic runs fn and returns the message of its panic, failing if it did
// not panic.
func mustPanic(t testing.TB, fn func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	fn()
	return ""
}

// waitParked waits until g is parked at a cooperative point. It is meant
// for the test's own goroutine, outside the hub.
func waitParked(t testing.TB, g *G) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); g.State() != StateParked; runtime.Gosched() {
		if time.Now().After(end) {
			t.Fatalf("%s did not park; state %v", g.Name(), g.State())
		}
	}
}

var errTest = errors.New("test error")
