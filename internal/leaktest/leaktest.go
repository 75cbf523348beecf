// Package leaktest is the TestMain of the packages whose tests leave
// process-wide state behind on purpose (the default hub, netpoll's shared gnet
// engine, idle HTTP connections): it runs the tests, runs the cleanups that
// release that state, and then fails if any goroutine the tests started is
// still alive.
package leaktest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gevent-go/gevent/hub"
)

// Main runs m, then each cleanup (with a 10 s deadline; an error fails the
// run), then goleak over every goroutine that did not exist before the tests
// (ants starts its package-level pool at init, so IgnoreCurrent is the
// baseline). It exits the process with the result.
func Main(m *testing.M, cleanups ...func(ctx context.Context) error) {
	ignore := goleak.IgnoreCurrent()
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	for _, c := range cleanups {
		if err := c(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup after the tests:", err)
			code = 1
		}
	}
	cancel()
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// StopDefaultHub is a cleanup that stops the default hub in force after the
// tests (they may have stopped and replaced the one that existed before).
func StopDefaultHub(ctx context.Context) error { return hub.Default().Stop(ctx) }
