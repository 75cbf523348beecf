package echo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// LoadConfig is a load run: Conns connections, each sending a Size-byte
// message, waiting for its echo and checking it byte for byte, then sending
// the next, for Duration (or Messages messages per connection, whichever
// ends first).
//
// The zero DialFirst and Drain are the example's quick check: the clock
// starts before the dials and an echo still in flight at the end is cut
// off. A benchmark that measures the server's steady state sets both (the
// bench module's echo client does): every connection is up before the
// clock starts, and the last echoes are waited for and checked.
type LoadConfig struct {
	// Addr is the server's address, host:port.
	Addr string
	// Conns is the number of connections (>= 1).
	Conns int
	// Size is the message size in bytes (>= 8: each message starts with its
	// sequence number).
	Size int
	// Duration bounds the run (> 0).
	Duration time.Duration
	// Messages, if > 0, bounds the messages per connection.
	Messages int
	// DialFirst dials every connection before the clock starts, 50 at a
	// time and retrying a failed dial a few times (a burst of a thousand
	// dials can overflow a listen backlog), so that Duration measures
	// echoes only, not the connection set-up.
	DialFirst bool
	// Drain, if > 0, is how long the echoes in flight when Duration ends
	// get to come back: they are checked (a late one is a timeout, an
	// error), and their round trips count in the latencies but not in Msgs.
	// With no Drain they are cut off, which is no error.
	Drain time.Duration
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Conns      int           `json:"conns"`
	Size       int           `json:"size"`
	Msgs       int64         `json:"msgs"`    // messages echoed and verified within Duration
	Seconds    float64       `json:"seconds"` // from the clock's start to the run's end, at most Duration
	MsgsPerSec float64       `json:"msgs_per_sec"`
	MBPerSec   float64       `json:"mb_per_sec"` // echoed bytes, 10^6 per MB
	P50        time.Duration `json:"p50_ns"`     // round-trip latency percentiles
	P99        time.Duration `json:"p99_ns"`
	P999       time.Duration `json:"p999_ns"`
	Errors     int           `json:"errors"`     // dial, read and write failures, timeouts included
	Mismatches int           `json:"mismatches"` // echoes that differed from what was sent
	// Timeouts are the echoes that did not come back within Drain, and
	// DialErrors the connections that could not be opened; both are among
	// the Errors.
	Timeouts   int `json:"timeouts,omitempty"`
	DialErrors int `json:"dial_errors,omitempty"`
	// FirstError describes the first error or mismatch, if any.
	FirstError string `json:"first_error,omitempty"`
	// Latencies are the round trips of every verified echo, sorted: for a
	// caller that wants other statistics than P50, P99 and P999.
	Latencies []time.Duration `json:"-"`
}

// ErrLoadConfig is matched by every error about a bad LoadConfig.
var ErrLoadConfig = errors.New("echo: bad load config")

// Load runs a closed-loop load against an echo server with plain goroutines
// and the standard library's net (a neutral client, whatever the server is
// made of). It blocks until the run ends: after Duration (and Drain), after
// Messages per connection, or when ctx ends. A connection stops at its
// first error or mismatch (its stream can no longer be trusted); the others
// go on.
func Load(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	switch {
	case cfg.Conns < 1:
		return LoadResult{}, fmt.Errorf("%w: %d connections", ErrLoadConfig, cfg.Conns)
	case cfg.Size < 8:
		return LoadResult{}, fmt.Errorf("%w: message size %d < 8", ErrLoadConfig, cfg.Size)
	case cfg.Duration <= 0:
		return LoadResult{}, fmt.Errorf("%w: duration %v", ErrLoadConfig, cfg.Duration)
	case cfg.Drain < 0:
		return LoadResult{}, fmt.Errorf("%w: drain %v", ErrLoadConfig, cfg.Drain)
	}
	var (
		mu  sync.Mutex
		res = LoadResult{Conns: cfg.Conns, Size: cfg.Size}
		wg  sync.WaitGroup
	)
	fail := func(mismatch bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case mismatch:
			res.Mismatches++
		case errors.Is(err, os.ErrDeadlineExceeded):
			res.Timeouts++
			res.Errors++
		case errors.Is(err, errDial):
			res.DialErrors++
			res.Errors++
		default:
			res.Errors++
		}
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	conns := make([]net.Conn, cfg.Conns)
	if cfg.DialFirst {
		dialAll(ctx, cfg.Addr, conns, func(err error) { fail(false, err) })
	}
	start := time.Now()
	r := run{cfg: cfg, end: start.Add(cfg.Duration)}
	// The dials of a run that has begun end with it.
	dctx, cancel := context.WithDeadline(ctx, r.end.Add(cfg.Drain))
	defer cancel()
	for i, c := range conns {
		if cfg.DialFirst && c == nil {
			continue // its dial failed, and is counted
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c == nil {
				var err error
				if c, err = dial(dctx, cfg.Addr); err != nil {
					if dctx.Err() == nil {
						fail(false, err)
					} // else the run ended before this connection began
					return
				}
			}
			defer c.Close()
			st, mismatch, err := r.conn(ctx, c, i)
			mu.Lock()
			res.Latencies = append(res.Latencies, st.samples...)
			res.Msgs += st.msgs
			mu.Unlock()
			if err != nil {
				fail(mismatch, err)
			}
		}()
	}
	wg.Wait()
	res.Seconds = min(time.Since(start), cfg.Duration).Seconds()
	if res.Seconds > 0 {
		res.MsgsPerSec = float64(res.Msgs) / res.Seconds
		res.MBPerSec = float64(res.Msgs) * float64(cfg.Size) / res.Seconds / 1e6
	}
	lat := res.Latencies
	slices.Sort(lat)
	res.P50, res.P99, res.P999 = percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999)
	return res, nil
}

// percentile returns the q-quantile of sorted samples (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// errDial marks a connection that could not be opened.
var errDial = errors.New("echo: dial")

func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDial, err)
	}
	return c, nil
}

// dialAll fills conns, 50 dials at a time, trying each connection up to
// five times; it hands the error of each connection it gave up on to fail.
func dialAll(ctx context.Context, addr string, conns []net.Conn, fail func(error)) {
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var err error
			for attempt := range 5 {
				dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				conns[i], err = dial(dctx, addr)
				cancel()
				if err == nil {
					return
				}
				time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
			}
			fail(err)
		})
	}
	wg.Wait()
}

// errMismatch marks an echo that differs from what was sent.
var errMismatch = errors.New("echo: echoed bytes differ from those sent")

// run is one load run's timing, shared by its connections.
type run struct {
	cfg LoadConfig
	end time.Time // no message is sent from then on
}

// connStats is what one connection measured.
type connStats struct {
	samples []time.Duration // the round trip of every verified echo
	msgs    int64           // the echoes verified by the run's end
}

// conn drives connection c, the id-th, until the run ends, ctx ends or its
// message budget is spent. The error says why it stopped early; mismatch
// reports a wrong echo.
func (r run) conn(ctx context.Context, c net.Conn, id int) (st connStats, mismatch bool, err error) {
	// The echoes in flight at the end get Drain to come back; and ctx's end
	// cuts off a read or write in flight at once.
	if err := c.SetDeadline(r.end.Add(r.cfg.Drain)); err != nil {
		return st, false, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// A message is its sequence number, so that a stale echo never
	// matches, then random bytes drawn from the connection's own seed, so
	// that crossed streams never match. They are drawn once: the client's
	// time goes to the echoes, which is what a benchmark measures.
	rng := rand.New(rand.NewPCG(uint64(id), 0x9e3779b97f4a7c15))
	out := make([]byte, r.cfg.Size)
	for i := 8; i < len(out); i += 8 {
		var word [8]byte
		binary.LittleEndian.PutUint64(word[:], rng.Uint64())
		copy(out[i:], word[:])
	}
	in := make([]byte, r.cfg.Size)
	for seq := uint64(0); r.cfg.Messages <= 0 || seq < uint64(r.cfg.Messages); seq++ {
		t0 := time.Now()
		if ctx.Err() != nil || !t0.Before(r.end) {
			return st, false, nil
		}
		binary.BigEndian.PutUint64(out, seq)
		if _, err := c.Write(out); err != nil {
			return st, false, r.ioErr(ctx, "write", err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return st, false, r.ioErr(ctx, "read", err)
		}
		t1 := time.Now()
		if !bytes.Equal(in, out) {
			return st, true, fmt.Errorf("%w (connection %d, message %d)", errMismatch, id, seq)
		}
		st.samples = append(st.samples, t1.Sub(t0))
		if !t1.After(r.end) {
			st.msgs++
		}
	}
	return st, false, nil
}

// ioErr is nil for an error caused by the end of the run (ctx's, or
// Duration's when there is no Drain to wait for), else err wrapped.
func (r run) ioErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil || (r.cfg.Drain == 0 && !time.Now().Before(r.end)) {
		return nil
	}
	return fmt.Errorf("echo: %s: %w", op, err)
}
