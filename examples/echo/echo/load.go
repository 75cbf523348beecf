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
	"slices"
	"sync"
	"time"
)

// LoadConfig is a load run: Conns connections, each sending a Size-byte
// message, waiting for its echo and checking it byte for byte, then sending
// the next, for Duration (or Messages messages per connection, whichever
// ends first).
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
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Conns      int           `json:"conns"`
	Size       int           `json:"size"`
	Msgs       int64         `json:"msgs"`    // messages echoed and verified
	Seconds    float64       `json:"seconds"` // from the first dial to the last echo
	MsgsPerSec float64       `json:"msgs_per_sec"`
	MBPerSec   float64       `json:"mb_per_sec"` // echoed bytes, 10^6 per MB
	P50        time.Duration `json:"p50_ns"`     // round-trip latency percentiles
	P99        time.Duration `json:"p99_ns"`
	P999       time.Duration `json:"p999_ns"`
	Errors     int           `json:"errors"`     // dial, read and write failures
	Mismatches int           `json:"mismatches"` // echoes that differed from what was sent
	// FirstError describes the first error or mismatch, if any.
	FirstError string `json:"first_error,omitempty"`
}

// ErrLoadConfig is matched by every error about a bad LoadConfig.
var ErrLoadConfig = errors.New("echo: bad load config")

// Load runs a closed-loop load against an echo server with plain goroutines
// and the standard library's net (a neutral client, whatever the server is
// made of). It blocks until the run ends: after Duration, after Messages
// per connection, or when ctx ends. A connection stops at its first error
// or mismatch (its stream can no longer be trusted); the others go on.
func Load(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	switch {
	case cfg.Conns < 1:
		return LoadResult{}, fmt.Errorf("%w: %d connections", ErrLoadConfig, cfg.Conns)
	case cfg.Size < 8:
		return LoadResult{}, fmt.Errorf("%w: message size %d < 8", ErrLoadConfig, cfg.Size)
	case cfg.Duration <= 0:
		return LoadResult{}, fmt.Errorf("%w: duration %v", ErrLoadConfig, cfg.Duration)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var (
		mu  sync.Mutex
		res = LoadResult{Conns: cfg.Conns, Size: cfg.Size}
		lat []time.Duration
		wg  sync.WaitGroup
	)
	fail := func(mismatch bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if mismatch {
			res.Mismatches++
		} else {
			res.Errors++
		}
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	start := time.Now()
	for i := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples, mismatch, err := runConn(ctx, cfg, i)
			mu.Lock()
			lat = append(lat, samples...)
			mu.Unlock()
			if err != nil {
				fail(mismatch, err)
			}
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Msgs = int64(len(lat))
	if res.Seconds > 0 {
		res.MsgsPerSec = float64(res.Msgs) / res.Seconds
		res.MBPerSec = float64(res.Msgs) * float64(cfg.Size) / res.Seconds / 1e6
	}
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

// errMismatch marks an echo that differs from what was sent.
var errMismatch = errors.New("echo: echoed bytes differ from those sent")

// runConn drives one connection until ctx ends or its message budget is
// spent, and returns the round-trip time of every verified message. The
// error says why it stopped early; mismatch reports a wrong echo.
func runConn(ctx context.Context, cfg LoadConfig, id int) (samples []time.Duration, mismatch bool, err error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, nil // the run ended before this connection began
		}
		return nil, false, fmt.Errorf("echo: dial: %w", err)
	}
	defer c.Close()
	// Unblock a read or write in flight when the run ends.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	rng := rand.New(rand.NewPCG(uint64(id), 0x9e3779b97f4a7c15))
	out := make([]byte, cfg.Size)
	in := make([]byte, cfg.Size)
	for seq := uint64(0); cfg.Messages <= 0 || seq < uint64(cfg.Messages); seq++ {
		if ctx.Err() != nil {
			return samples, false, nil
		}
		binary.BigEndian.PutUint64(out, seq)
		for i := 8; i < len(out); i += 8 {
			var word [8]byte
			binary.LittleEndian.PutUint64(word[:], rng.Uint64())
			copy(out[i:], word[:])
		}
		t0 := time.Now()
		if _, err := c.Write(out); err != nil {
			return samples, false, ioErr(ctx, "write", err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return samples, false, ioErr(ctx, "read", err)
		}
		rtt := time.Since(t0)
		if !bytes.Equal(in, out) {
			return samples, true, fmt.Errorf("%w (connection %d, message %d)", errMismatch, id, seq)
		}
		samples = append(samples, rtt)
	}
	return samples, false, nil
}

// ioErr is nil for an error caused by the end of the run, else err wrapped.
func ioErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("echo: %s: %w", op, err)
}
