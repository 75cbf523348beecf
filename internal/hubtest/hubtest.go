// Package hubtest holds the test helpers shared by the packages built on the
// hub: a hub stopped at the end of the test, and a collector for the
// failures a hub's error handler receives.
package hubtest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
)

// NewHub returns a hub that is stopped (with a 10 s deadline) when the test
// ends; a failed Stop fails the test.
func NewHub(t testing.TB, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h := hub.MustNew(opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("hub stop: %v", err)
		}
	})
	return h
}

// FailOnError is a hub option whose error handler fails the test: for tests
// in which no greenlet may fail unobserved.
func FailOnError(t testing.TB) hub.Option {
	return hub.WithErrorHandler(func(g *hub.G, err error) {
		t.Errorf("greenlet %s failed and nobody observed it: %v", g.Name(), err)
	})
}

// ErrLog collects what a hub's error handler receives.
type ErrLog struct {
	mu   sync.Mutex
	errs []error
}

// Handle is the error handler: pass it to hub.WithErrorHandler.
func (l *ErrLog) Handle(_ *hub.G, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// All returns the errors received so far, in order.
func (l *ErrLog) All() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}
