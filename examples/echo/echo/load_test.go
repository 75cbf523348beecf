package echo

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/internal/echocheck"
)

// plainServer is a goroutine-per-connection echo server from the standard
// library; corrupt, if set, damages the bytes it echoes.
func plainServer(t *testing.T, corrupt func(b []byte)) string {
	t.Helper()
	addr, stop, err := echocheck.StdServer(func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if corrupt != nil {
					corrupt(buf[:n])
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	require.NoError(t, err)
	t.Cleanup(stop)
	return addr
}

func TestLoadCountsAndVerifies(t *testing.T) {
	addr := plainServer(t, nil)
	res, err := Load(t.Context(), LoadConfig{Addr: addr, Conns: 4, Size: 100, Duration: 10 * time.Second, Messages: 50})
	require.NoError(t, err)
	assert.Equal(t, int64(200), res.Msgs)
	assert.Zero(t, res.Errors, res.FirstError)
	assert.Zero(t, res.Mismatches, res.FirstError)
	assert.Positive(t, res.P50)
	assert.LessOrEqual(t, res.P50, res.P99)
	assert.LessOrEqual(t, res.P99, res.P999)
	assert.InDelta(t, float64(res.Msgs)/res.Seconds, res.MsgsPerSec, 1e-6)
	assert.InDelta(t, res.MsgsPerSec*100/1e6, res.MBPerSec, 1e-9)
}

// A server that damages one byte in a thousand-byte stretch is caught.
func TestLoadCatchesMismatch(t *testing.T) {
	var mu sync.Mutex
	seen := 0
	addr := plainServer(t, func(b []byte) {
		mu.Lock()
		defer mu.Unlock()
		for i := range b {
			seen++
			if seen == 5000 {
				b[i] ^= 0x01
			}
		}
	})
	res, err := Load(t.Context(), LoadConfig{Addr: addr, Conns: 1, Size: 64, Duration: 10 * time.Second, Messages: 200})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Mismatches)
	assert.Equal(t, int64(5000/64), res.Msgs, "the messages before the damaged one")
	assert.Contains(t, res.FirstError, "differ")
}

// A connection that cannot be opened is a dial error, with or without
// DialFirst (which tries it a few times first).
func TestLoadDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, dialFirst := range []bool{false, true} {
		res, err := Load(t.Context(), LoadConfig{Addr: addr, Conns: 3, Size: 64, Duration: time.Second, DialFirst: dialFirst})
		require.NoError(t, err)
		assert.Equal(t, 3, res.Errors, "DialFirst %v", dialFirst)
		assert.Equal(t, 3, res.DialErrors, "DialFirst %v", dialFirst)
		assert.Zero(t, res.Msgs)
		assert.Contains(t, res.FirstError, "dial")
	}
}

// With DialFirst and a Drain, the clock starts once the connections are
// up, and the echoes in flight at the end are waited for.
func TestLoadDialFirst(t *testing.T) {
	addr := plainServer(t, nil)
	res, err := Load(t.Context(), LoadConfig{Addr: addr, Conns: 3, Size: 64, Duration: 100 * time.Millisecond, DialFirst: true, Drain: time.Second})
	require.NoError(t, err)
	assert.Zero(t, res.Errors, res.FirstError)
	assert.Positive(t, res.Msgs)
	assert.GreaterOrEqual(t, int64(len(res.Latencies)), res.Msgs, "the drained echoes count in the latencies only")
	assert.LessOrEqual(t, res.Seconds, 0.1)
}

// With a Drain, an echo that does not come back in time is a timeout; with
// none, it is cut off, which is no error.
func TestLoadDrain(t *testing.T) {
	addr, stop, err := echocheck.StdServer(func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // never echoes
	})
	require.NoError(t, err)
	t.Cleanup(stop)
	res, err := Load(t.Context(), LoadConfig{Addr: addr, Conns: 2, Size: 64, Duration: 50 * time.Millisecond, Drain: 50 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Timeouts)
	assert.Equal(t, 2, res.Errors)
	res, err = Load(t.Context(), LoadConfig{Addr: addr, Conns: 2, Size: 64, Duration: 50 * time.Millisecond})
	require.NoError(t, err)
	assert.Zero(t, res.Errors, res.FirstError)
	assert.Zero(t, res.Msgs)
}

func TestLoadDuration(t *testing.T) {
	addr := plainServer(t, nil)
	start := time.Now()
	res, err := Load(t.Context(), LoadConfig{Addr: addr, Conns: 2, Size: 8, Duration: 200 * time.Millisecond})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Positive(t, res.Msgs)
	assert.Zero(t, res.Errors, res.FirstError)
}

func TestLoadBadConfig(t *testing.T) {
	for _, cfg := range []LoadConfig{
		{Addr: "x", Conns: 0, Size: 64, Duration: time.Second},
		{Addr: "x", Conns: 1, Size: 7, Duration: time.Second},
		{Addr: "x", Conns: 1, Size: 64},
		{Addr: "x", Conns: 1, Size: 64, Duration: time.Second, Drain: -time.Second},
	} {
		_, err := Load(t.Context(), cfg)
		assert.True(t, errors.Is(err, ErrLoadConfig), "%+v: %v", cfg, err)
	}
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 1000; i++ {
		s = append(s, time.Duration(i))
	}
	assert.Equal(t, time.Duration(500), percentile(s, 0.5))
	assert.Equal(t, time.Duration(990), percentile(s, 0.99))
	assert.Equal(t, time.Duration(999), percentile(s, 0.999))
	assert.Zero(t, percentile(nil, 0.5))
}
