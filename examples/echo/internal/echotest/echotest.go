// Package echotest holds the echo example's TestMain.
package echotest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gevent-go/gevent/netpoll"
	"go.uber.org/goleak"
)

// Main runs the tests, stops netpoll's shared gnet event loops (they live
// for the process until netpoll.Shutdown), and then fails if any goroutine
// the tests started is still alive.
func Main(m *testing.M) {
	ignore := goleak.IgnoreCurrent()
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := netpoll.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "netpoll shutdown:", err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	cancel()
	os.Exit(code)
}
