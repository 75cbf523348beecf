// Package echotest holds the echo example's TestMain.
package echotest

import (
	"testing"

	"github.com/gevent-go/gevent/internal/leaktest"
	"github.com/gevent-go/gevent/netpoll"
)

// Main runs the tests, stops netpoll's shared gnet event loops (they live
// for the process until netpoll.Shutdown), and then fails if any goroutine
// the tests started is still alive.
func Main(m *testing.M) { leaktest.Main(m, netpoll.Shutdown) }
