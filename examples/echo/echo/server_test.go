package echo

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/internal/echocheck"
)

func startServer(t *testing.T, cfg ServerConfig) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

func stop(t *testing.T, s *Server) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Stop(ctx)
}

// TestServerUnderLoad: a bounded load against the server, every byte
// verified, then a graceful stop.
func TestServerUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ServerConfig
		load LoadConfig
	}{
		{"unbounded, small messages", ServerConfig{}, LoadConfig{Conns: 50, Size: 64, Messages: 200}},
		{"unbounded, 16 KiB messages", ServerConfig{}, LoadConfig{Conns: 10, Size: 16 << 10, Messages: 50}},
		// 12 connections through 4 handlers: the others wait in the backlog
		// until a connection that has sent its messages closes.
		{"pool of 4", ServerConfig{PoolSize: 4}, LoadConfig{Conns: 12, Size: 512, Messages: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.cfg)
			tc.load.Addr = s.Addr().String()
			tc.load.Duration = 30 * time.Second
			res, err := Load(t.Context(), tc.load)
			require.NoError(t, err)
			assert.Zero(t, res.Mismatches, res.FirstError)
			assert.Zero(t, res.Errors, res.FirstError)
			assert.Equal(t, int64(tc.load.Conns*tc.load.Messages), res.Msgs)
			require.NoError(t, stop(t, s))
			_, err = net.DialTimeout("tcp", s.Addr().String(), time.Second)
			assert.Error(t, err, "the listener is closed after Stop")
		})
	}
}

// TestGracefulStop: Stop closes the listener at once but lets an open
// connection finish its conversation.
func TestGracefulStop(t *testing.T) {
	s := startServer(t, ServerConfig{})
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, "before stop")

	stopped := make(chan error, 1)
	go func() { stopped <- stop(t, s) }()
	require.Eventually(t, func() bool {
		d, err := net.DialTimeout("tcp", s.Addr().String(), 100*time.Millisecond)
		if err == nil {
			d.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond, "new connections are refused once stopping")
	roundTrip(t, c, "while stopping")
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v while a connection was still open", err)
	default:
	}
	require.NoError(t, c.Close())
	select {
	case err := <-stopped:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return after the last connection closed")
	}
}

func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	assert.Equal(t, msg, string(got))
}

// TestStopKillsStragglers: a connection that stays open past Stop's
// deadline is closed, and Stop says so.
func TestStopKillsStragglers(t *testing.T) {
	s := startServer(t, ServerConfig{})
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, "hello")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Stop(ctx)
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closed the straggler")
}

func TestMaxConns(t *testing.T) {
	s := startServer(t, ServerConfig{MaxConns: 2})
	var open []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		roundTrip(t, c, "in")
		open = append(open, c)
	}
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, _ = c.Write([]byte("x"))
	_, err = c.Read(make([]byte, 1))
	assert.Error(t, err, "a third connection is closed at once")
	roundTrip(t, open[0], "still served")
}

// TestInboundCap: a client that sends and never reads is throttled once the
// server holds InboundCap bytes it could not echo back (and the kernel's
// buffers are full): its writes stall, as with the standard library, and
// the server takes a small part of a 256 MiB flood.
func TestInboundCap(t *testing.T) {
	for _, stdlib := range []bool{false, true} {
		s := startServer(t, ServerConfig{InboundCap: 64 << 10, Stdlib: stdlib})
		c, err := net.Dial("tcp", s.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		chunk := make([]byte, 64<<10)
		var werr error
		sent := 0
		for sent < 256<<20 && werr == nil {
			require.NoError(t, c.SetWriteDeadline(time.Now().Add(300*time.Millisecond)))
			var n int
			n, werr = c.Write(chunk)
			sent += n
		}
		var ne net.Error
		require.ErrorAs(t, werr, &ne, "stdlib %v: the flood was not throttled (%d MiB sent)", stdlib, sent>>20)
		assert.True(t, ne.Timeout(), "stdlib %v: throttled, not cut off: %v", stdlib, werr)
		t.Logf("stdlib %v: %d MiB sent before the client stalled", stdlib, sent>>20)
	}
}

// TestHalfClose: 1,000 clients each send a random payload, shut down their
// write side and read until EOF: each gets back every byte, on both
// backends.
func TestHalfClose(t *testing.T) {
	for _, stdlib := range []bool{false, true} {
		s := startServer(t, ServerConfig{Stdlib: stdlib})
		n := 1000
		if testing.Short() {
			n = 200
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		err := echocheck.HalfClose(ctx, s.Addr().String(), n, 32<<10, 11)
		cancel()
		require.NoError(t, err, "stdlib %v", stdlib)
	}
}

// TestIdleTimeout: a connection silent for IdleTimeout is closed; one with
// traffic is not.
func TestIdleTimeout(t *testing.T) {
	const idle = 150 * time.Millisecond
	s := startServer(t, ServerConfig{IdleTimeout: idle})
	silent, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer silent.Close()
	busy, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer busy.Close()
	start := time.Now()
	for time.Since(start) < 3*idle {
		roundTrip(t, busy, "tick")
		time.Sleep(idle / 5) // traffic pacing, well inside the timeout
	}
	require.NoError(t, silent.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = silent.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the silent connection is closed")
	roundTrip(t, busy, "still served")
}

func TestServerBadConfig(t *testing.T) {
	for _, cfg := range []ServerConfig{{PoolSize: -1}, {MaxConns: -1}, {InboundCap: -1}, {InboundBudget: -1}, {IdleTimeout: -1}, {SocketBuffer: -1}} {
		_, err := Start(t.Context(), cfg)
		assert.ErrorIs(t, err, ErrServerConfig)
	}
}

// TestPoolBounds: with a pool of one, a second client is not served while
// the first is connected, and is served once the first leaves.
func TestPoolBounds(t *testing.T) {
	s := startServer(t, ServerConfig{PoolSize: 1})
	first, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer first.Close()
	roundTrip(t, first, "first")

	second, err := net.Dial("tcp", s.Addr().String()) // accepted by the kernel, waits in the backlog
	require.NoError(t, err)
	defer second.Close()
	_, err = second.Write([]byte("second"))
	require.NoError(t, err)
	require.NoError(t, second.SetReadDeadline(time.Now().Add(300*time.Millisecond)))
	_, err = second.Read(make([]byte, 6))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "not served while the pool is full: %v", err)

	require.NoError(t, first.Close())
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	got := make([]byte, 6)
	_, err = io.ReadFull(second, got)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
}
