package netpoll

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/hubtest"
	"github.com/gevent-go/gevent/internal/sched"
)

// A greenlet that listened (which starts netpoll's goroutines and gnet's
// loops from the greenlet) still gets its stall reported with its own
// stack: netpoll used to reset the greenlet's profiler labels, and reports
// came with an empty stack.
func TestMonitorStackAfterListen(t *testing.T) {
	reports := make(chan hub.BlockedReport, 1)
	h := hubtest.NewHub(t, hub.WithMonitor(50*time.Millisecond, func(r hub.BlockedReport) {
		select {
		case reports <- r:
		default:
		}
	}))
	release := make(chan struct{})
	done := make(chan struct{})
	hubsched.Spawn(h, context.Background(), sched.Task{Run: func(ctx context.Context) error {
		defer close(done)
		l, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		<-release // the stall
		return nil
	}})
	r := <-reports
	close(release)
	<-done
	if !strings.Contains(r.Stack, "runtime.chanrecv") || !strings.Contains(r.Stack, "TestMonitorStackAfterListen") {
		t.Fatalf("report without the greenlet's stack:\n%s", r)
	}
}
