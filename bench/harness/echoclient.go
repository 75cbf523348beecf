package harness

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

// EchoLoad configures the closed-loop echo client: every connection keeps
// one message in flight, checks the echo byte for byte, and sends the next.
type EchoLoad struct {
	Addr   string
	Conns  int
	Size   int
	Window time.Duration // the measured window, after all connections are up
	Drain  time.Duration // extra time in-flight echoes get after the window
}

// EchoResult is what the echo client measured.
type EchoResult struct {
	Msgs       int64 // echoes completed inside the window
	Bytes      int64 // payload bytes echoed inside the window
	Window     time.Duration
	Latencies  []int64 // ns, sorted, every verified echo
	Mismatches int64
	Timeouts   int64
	Errors     int64 // read/write errors other than timeouts, and early closes
	ConnFail   int64
	LastErr    string
}

// Check reports an error unless every message was echoed correctly and
// every connection worked: a run that did wrong work has no numbers.
func (r EchoResult) Check() error {
	if r.Mismatches+r.Timeouts+r.Errors+r.ConnFail > 0 {
		return fmt.Errorf("echo: %d mismatches, %d timeouts, %d errors, %d failed connections (last: %s)",
			r.Mismatches, r.Timeouts, r.Errors, r.ConnFail, r.LastErr)
	}
	if r.Msgs == 0 {
		return errors.New("echo: no message echoed in the window")
	}
	return nil
}

// Metrics returns the result as sample metrics.
func (r EchoResult) Metrics() map[string]float64 {
	sec := r.Window.Seconds()
	return map[string]float64{
		"msgs_per_s": float64(r.Msgs) / sec,
		"mb_per_s":   float64(r.Bytes) / sec / 1e6,
		"p50_us":     float64(Percentile(r.Latencies, 50)) / 1e3,
		"p99_us":     float64(Percentile(r.Latencies, 99)) / 1e3,
	}
}

// RunEchoLoad connects l.Conns connections to l.Addr and drives them for
// l.Window. It stops early when ctx ends.
func RunEchoLoad(ctx context.Context, l EchoLoad) (EchoResult, error) {
	if l.Conns < 1 || l.Size < 16 || l.Window <= 0 {
		return EchoResult{}, fmt.Errorf("harness: bad echo load %+v (conns >= 1, size >= 16, window > 0)", l)
	}
	conns, fails, lastErr := dialAll(ctx, l.Addr, l.Conns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	res := EchoResult{ConnFail: fails, LastErr: lastErr}
	if len(conns) == 0 {
		return res, nil
	}
	start := time.Now()
	deadline := start.Add(l.Window)
	hard := deadline.Add(l.Drain)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := driveConn(ctx, c, uint32(i), l.Size, deadline, hard)
			mu.Lock()
			res.Msgs += st.msgs
			res.Bytes += st.msgs * int64(l.Size)
			res.Latencies = append(res.Latencies, st.lat...)
			res.Mismatches += st.mismatch
			res.Timeouts += st.timeout
			res.Errors += st.errs
			if st.lastErr != "" {
				res.LastErr = st.lastErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Window = l.Window
	slices.Sort(res.Latencies)
	return res, nil
}

// dialAll opens n connections, 50 at a time, retrying each a few times:
// a listen backlog can overflow under a burst of 1000 dials.
func dialAll(ctx context.Context, addr string, n int) ([]net.Conn, int64, string) {
	conns := make([]net.Conn, n)
	var fails int64
	var lastErr string
	var mu sync.Mutex
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var d net.Dialer
			var err error
			for attempt := range 5 {
				var c net.Conn
				dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				c, err = d.DialContext(dctx, "tcp", addr)
				cancel()
				if err == nil {
					conns[i] = c
					return
				}
				time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
			}
			mu.Lock()
			fails++
			lastErr = "dial: " + err.Error()
			mu.Unlock()
		}()
	}
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, fails, lastErr
}

type connStats struct {
	msgs, mismatch, timeout, errs int64
	lat                           []int64
	lastErr                       string
}

// driveConn runs one connection's closed loop. Each message carries a
// sequence number and the connection's id in its first 12 bytes and random
// bytes after, so a stale, crossed or corrupted echo never matches.
func driveConn(ctx context.Context, c net.Conn, id uint32, size int, deadline, hard time.Time) connStats {
	var st connStats
	rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
	msg := make([]byte, size)
	for i := 12; i < size; i++ {
		msg[i] = byte(rng.Uint32())
	}
	got := make([]byte, size)
	c.SetDeadline(hard)
	for seq := uint64(0); ; seq++ {
		t0 := time.Now()
		if !t0.Before(deadline) || ctx.Err() != nil {
			return st
		}
		binary.LittleEndian.PutUint64(msg[0:8], seq)
		binary.LittleEndian.PutUint32(msg[8:12], id)
		if _, err := c.Write(msg); err != nil {
			st.fail(err)
			return st
		}
		if _, err := io.ReadFull(c, got); err != nil {
			st.fail(err)
			return st
		}
		t1 := time.Now()
		if !bytes.Equal(got, msg) {
			st.mismatch++
			st.lastErr = fmt.Sprintf("conn %d seq %d: echo differs from what was sent", id, seq)
			return st
		}
		st.lat = append(st.lat, int64(t1.Sub(t0)))
		if !t1.After(deadline) {
			st.msgs++
		}
	}
}

func (st *connStats) fail(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		st.timeout++
	} else {
		st.errs++
	}
	st.lastErr = err.Error()
}
