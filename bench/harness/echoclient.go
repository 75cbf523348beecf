package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/examples/echo/echo"
)

// EchoLoad configures the closed-loop echo client: every connection keeps
// one message in flight, checks the echo byte for byte, and sends the next.
type EchoLoad struct {
	Addr   string
	Conns  int
	Size   int
	Window time.Duration // the measured window, after all connections are up
	Drain  time.Duration // extra time in-flight echoes get after the window
}

// EchoResult is what the echo client measured: the echo example's load
// result (its Errors count the Timeouts and DialErrors too), over Window.
type EchoResult struct {
	echo.LoadResult
	Window time.Duration
}

// Check reports an error unless every message was echoed correctly and
// every connection worked: a run that did wrong work has no numbers.
func (r EchoResult) Check() error {
	if r.Mismatches+r.Errors > 0 {
		return fmt.Errorf("echo: %d mismatches, %d timeouts, %d other errors, %d failed connections (first: %s)",
			r.Mismatches, r.Timeouts, r.Errors-r.Timeouts-r.DialErrors, r.DialErrors, r.FirstError)
	}
	if r.Msgs == 0 {
		return errors.New("echo: no message echoed in the window")
	}
	return nil
}

// Metrics returns the result as sample metrics.
func (r EchoResult) Metrics() map[string]float64 {
	sec := r.Window.Seconds()
	lat := make([]int64, len(r.Latencies))
	for i, d := range r.Latencies {
		lat[i] = int64(d)
	}
	return map[string]float64{
		"msgs_per_s": float64(r.Msgs) / sec,
		"mb_per_s":   float64(r.Msgs) * float64(r.Size) / sec / 1e6,
		"p50_us":     float64(Percentile(lat, 50)) / 1e3,
		"p99_us":     float64(Percentile(lat, 99)) / 1e3,
	}
}

// RunEchoLoad connects l.Conns connections to l.Addr and drives them for
// l.Window. It stops early when ctx ends. It is the echo example's load
// client in its benchmark mode: the connections are all up before the
// window opens, and the echoes in flight at its end get l.Drain to come back
// and be checked.
func RunEchoLoad(ctx context.Context, l EchoLoad) (EchoResult, error) {
	r, err := echo.Load(ctx, echo.LoadConfig{
		Addr: l.Addr, Conns: l.Conns, Size: l.Size, Duration: l.Window,
		DialFirst: true, Drain: l.Drain,
	})
	if err != nil {
		return EchoResult{}, fmt.Errorf("harness: bad echo load %+v: %w", l, err)
	}
	return EchoResult{LoadResult: r, Window: l.Window}, nil
}
