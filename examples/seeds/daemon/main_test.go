package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `main: joining the worker only
worker: working for 50 ms
daemon: heartbeat 1
daemon: heartbeat 2
worker: done
main: worker joined; returning without waiting for the daemon
daemon: killed at exit; its deferred cleanup ran
`)
}
