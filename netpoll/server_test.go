package netpoll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/echocheck"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/pool"
)

// echoHandler copies everything it reads back to the peer.
func echoHandler(ctx context.Context, c *Conn) { echoLoop(c, make([]byte, 32<<10)) }

// newServer starts a server for handler on h, on a free loopback port.
func newServer(t testing.TB, h *hub.Hub, handler func(ctx context.Context, c *Conn), opts ...ServerOption) *StreamServer {
	t.Helper()
	s, err := NewStreamServer("127.0.0.1:0", handler, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(hub.NewContext(context.Background(), h)); err != nil {
		t.Fatal(err)
	}
	return s
}

// startServer is newServer, stopped when the test ends.
func startServer(t testing.TB, h *hub.Hub, handler func(ctx context.Context, c *Conn), opts ...ServerOption) *StreamServer {
	t.Helper()
	s := newServer(t, h, handler, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// TestEchoIntegrityUnderLoad drives a StreamServer echo with many
// concurrent client greenlets (Dial through netpoll too), each sending
// frames of random size up to 64 KiB and verifying every byte echoed back.
func TestEchoIntegrityUnderLoad(t *testing.T) {
	conns, frames := 1000, 3
	if testing.Short() {
		conns, frames = 200, 3
	}
	h := newHub(t)
	s := startServer(t, h, echoHandler)
	addr := s.Addr().String()
	ch := newHub(t) // clients on their own hub
	var verified atomic.Int64
	errs := make(chan error, conns)
	ctx := testCtx(t, 120*time.Second)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		hubsched.Spawn(ch, ctx, sched.Task{Run: func(ctx context.Context) error {
			c, err := Dial(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for range frames {
				msg := make([]byte, 1+r.IntN(64<<10))
				for j := range msg {
					msg[j] = byte(r.Uint32())
				}
				if _, err := c.Write(msg); err != nil {
					return err
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					return err
				}
				if !bytes.Equal(got, msg) {
					return errors.New("echo differs")
				}
				verified.Add(int64(len(msg)))
			}
			return nil
		}, Done: func(_ context.Context, o sched.Outcome) {
			if o.Err != nil {
				errs <- o.Err
			}
			wg.Done()
		}})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d connections, %d bytes verified", conns, verified.Load())
}

// TestServeAndStop: Serve parks until Stop and then returns nil; after Stop
// new connections are refused.
func TestServeAndStop(t *testing.T) {
	h := newHub(t)
	s, err := NewStreamServer("127.0.0.1:0", echoHandler)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(hub.NewContext(context.Background(), h)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(hub.NewContext(context.Background(), h)); err == nil {
		t.Fatal("second Start succeeded")
	}
	served := make(chan error, 1)
	hubsched.Spawn(h, context.Background(), sched.Task{Run: func(ctx context.Context) error {
		served <- s.Serve(ctx)
		return nil
	}})
	addr := s.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	c.Close()
	select {
	case err := <-served:
		t.Fatalf("Serve returned early: %v", err)
	default:
	}
	if err := s.Stop(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v after Stop", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("connect after Stop succeeded")
	}
	if err := s.Stop(testCtx(t, time.Second)); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// TestSlowReader: a handler writes 32 MiB to a client that reads slowly;
// the writer parks while the kernel's buffers are full instead of
// buffering, other connections keep being served meanwhile, and every byte
// arrives in order.
func TestSlowReader(t *testing.T) {
	const total = 32 << 20
	data := make([]byte, total)
	for i := range data {
		data[i] = byte(i * 7)
	}
	h := newHub(t)
	s := startServer(t, h, func(ctx context.Context, c *Conn) {
		var first [1]byte
		if _, err := io.ReadFull(c, first[:]); err != nil {
			return
		}
		if first[0] == 'e' { // a quick echo client, served meanwhile
			c.Write(first[:])
			return
		}
		for off := 0; off < total; off += 64 << 10 {
			if _, err := c.Write(data[off : off+64<<10]); err != nil {
				return
			}
		}
	})
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{'s'})
	got := make([]byte, 0, total)
	buf := make([]byte, 16<<10)
	reads := 0
	for len(got) < total {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		reads++
		if reads == 50 {
			// Midway, while the writer is parked: another client is served.
			e, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			e.Write([]byte{'e'})
			var b [1]byte
			e.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(e, b[:]); err != nil || b[0] != 'e' {
				t.Fatalf("other client: %q %v", b, err)
			}
			e.Close()
		}
		if reads%64 == 0 {
			time.Sleep(time.Millisecond) // the slow part of the slow reader
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
}

// TestClientGoneMidWrite: a client that disconnects while the handler
// streams to it makes the handler's Write fail promptly; the server keeps
// serving.
func TestClientGoneMidWrite(t *testing.T) {
	h := newHub(t)
	werr := make(chan error, 1)
	s := startServer(t, h, func(ctx context.Context, c *Conn) {
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			return
		}
		if b[0] == 'e' {
			c.Write(b[:])
			return
		}
		chunk := make([]byte, 64<<10)
		for {
			if _, err := c.Write(chunk); err != nil {
				werr <- err
				return
			}
		}
	})
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{'w'})
	io.ReadFull(c, make([]byte, 1<<20)) // it is streaming
	start := time.Now()
	c.Close()
	select {
	case err := <-werr:
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("handler Write: %v, want a reset or broken pipe", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's Write did not fail")
	}
	t.Logf("write failed %v after the client left", time.Since(start))
	echoOnce(t, s, 'e')
}

// TestClientGoneMidRead: a client that disconnects in the middle of a
// request makes the handler's ReadFull fail with io.ErrUnexpectedEOF; the
// server keeps serving.
func TestClientGoneMidRead(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		rerr := make(chan error, 1)
		s := startServer(t, h, func(ctx context.Context, c *Conn) {
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err != nil {
				return
			}
			if b[0] == 'e' {
				c.Write(b[:])
				return
			}
			_, err := io.ReadFull(c, make([]byte, 100))
			rerr <- err
		}, serverOpts(opts)...)
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("r half of it"))
		c.Close()
		if err := <-rerr; !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("handler ReadFull: %v", err)
		}
		echoOnce(t, s, 'e')
	})
}

// echoOnce checks that s still serves: it sends b and expects it back.
func echoOnce(t *testing.T, s *StreamServer, b byte) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte{b})
	var got [1]byte
	if _, err := io.ReadFull(c, got[:]); err != nil || got[0] != b {
		t.Fatalf("server no longer serves: %q %v", got, err)
	}
}

// lineHandler serves "wait" (block until the client sends more), "echo X"
// and "panic" requests, one per connection; it counts running handlers.
type lineServer struct {
	running atomic.Int32
	maxSeen atomic.Int32
	release chan struct{} // closing it lets "hold" handlers finish
}

func (ls *lineServer) handle(ctx context.Context, c *Conn) {
	n := ls.running.Add(1)
	defer ls.running.Add(-1)
	for {
		m := ls.maxSeen.Load()
		if n <= m || ls.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	buf := make([]byte, 64)
	k, err := c.Read(buf)
	if err != nil {
		return
	}
	switch req := string(buf[:k]); req {
	case "hold":
		c.Write([]byte("held"))
		recv(ctx, ls.release)
		c.Write([]byte("done"))
	case "stuck":
		c.Write([]byte("held"))
		c.Read(buf) // until killed
	case "panic":
		panic("handler exploded")
	default:
		c.Write([]byte(req))
	}
}

// request sends req on a new connection and reads up to n bytes of reply
// within d.
func request(t *testing.T, addr, req string, n int, d time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(d))
	c.Write([]byte(req))
	buf := make([]byte, n)
	k, err := io.ReadFull(c, buf)
	return string(buf[:k]), err
}

// holdConn opens a connection, sends req and waits for the "held" reply.
func holdConn(t *testing.T, addr, req string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte(req))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "held" {
		t.Fatalf("hold: %q %v", buf, err)
	}
	return c
}

// TestBoundedServer: with WithMaxHandlers(2), two long requests in flight
// leave a third client unserved (waiting in the backlog: its connect
// succeeds, its request gets no reply) until a slot frees; no more than two
// handlers ever run (gevent's spawn=2).
func TestBoundedServer(t *testing.T) {
	cases := map[string]func(h *hub.Hub) ServerOption{
		"WithMaxHandlers": func(*hub.Hub) ServerOption { return WithMaxHandlers(2) },
		"WithPool":        func(h *hub.Hub) ServerOption { return WithPool(pool.New(2)) },
	}
	for name, bound := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHub(t)
			ls := &lineServer{release: make(chan struct{})}
			s := startServer(t, h, ls.handle, bound(h))
			addr := s.Addr().String()
			a := holdConn(t, addr, "hold")
			holdConn(t, addr, "hold")

			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte("echo 3"))
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			buf := make([]byte, 6)
			if k, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("third client served while two handlers run: %q %v", buf[:k], err)
			}
			close(ls.release) // both held handlers finish
			for _, hc := range []net.Conn{a} {
				buf := make([]byte, 4)
				if _, err := io.ReadFull(hc, buf); err != nil || string(buf) != "done" {
					t.Fatalf("held: %q %v", buf, err)
				}
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "echo 3" {
				t.Fatalf("third client after a slot freed: %q %v", buf, err)
			}
			for i := range 10 {
				req := fmt.Sprintf("echo %d", i)
				if got, err := request(t, addr, req, len(req), 5*time.Second); err != nil || got != req {
					t.Fatalf("%q: %q %v", req, got, err)
				}
			}
			if m := ls.maxSeen.Load(); m != 2 {
				t.Fatalf("at most %d handlers ran at once, want exactly 2", m)
			}
		})
	}
}

// TestSpawnerHook: WithSpawner starts every handler; a spawner error is
// reported and the connection closed.
func TestSpawnerHook(t *testing.T) {
	reported := make(chan error, 4)
	h := newHub(t, hub.WithErrorHandler(func(_ *hub.G, err error) { reported <- err }))
	var spawned atomic.Int32
	refuse := errors.New("pool closed")
	s := startServer(t, h, echoHandler, WithSpawner(func(ctx context.Context, fn func(ctx context.Context)) error {
		if spawned.Add(1) == 2 {
			return refuse
		}
		hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error { fn(ctx); return nil }})
		return nil
	}))
	if got, err := request(t, s.Addr().String(), "one", 3, 5*time.Second); err != nil || got != "one" {
		t.Fatalf("first: %q %v", got, err)
	}
	if got, err := request(t, s.Addr().String(), "two", 3, 5*time.Second); err == nil {
		t.Fatalf("second (refused by the spawner) got %q", got)
	}
	if err := <-reported; !errors.Is(err, refuse) {
		t.Fatalf("reported %v", err)
	}
	if got, err := request(t, s.Addr().String(), "three", 5, 5*time.Second); err != nil || got != "three" {
		t.Fatalf("third: %q %v", got, err)
	}
	if n := spawned.Load(); n != 3 {
		t.Fatalf("spawner called %d times", n)
	}
}

// TestHandlerPanic: a panicking handler is reported to the hub's error
// handler with its panic, its connection is closed, and the server keeps
// serving.
func TestHandlerPanic(t *testing.T) {
	reported := make(chan error, 1)
	h := newHub(t, hub.WithErrorHandler(func(_ *hub.G, err error) { reported <- err }))
	ls := &lineServer{}
	s := startServer(t, h, ls.handle)
	got, err := request(t, s.Addr().String(), "panic", 1, 5*time.Second)
	if err != io.EOF {
		t.Fatalf("client of a panicking handler: %q %v, want EOF", got, err)
	}
	var pe *hub.PanicError
	if err := <-reported; !errors.As(err, &pe) || pe.Value != "handler exploded" {
		t.Fatalf("reported %v", err)
	}
	if got, err := request(t, s.Addr().String(), "still", 5, 5*time.Second); err != nil || got != "still" {
		t.Fatalf("after the panic: %q %v", got, err)
	}
}

// TestStopGraceful: Stop refuses new connections at once, lets running
// handlers finish within its deadline, kills the ones that do not, closes
// their connections, and says how many it killed.
func TestStopGraceful(t *testing.T) {
	h := newHub(t)
	ls := &lineServer{release: make(chan struct{})}
	s := newServer(t, h, ls.handle)
	addr := s.Addr().String()
	finisher := holdConn(t, addr, "hold")
	straggler := holdConn(t, addr, "stuck")

	stopped := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		stopped <- s.Stop(ctx)
	}()
	// New connections are refused while Stop waits.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Since(start) > 2*time.Second {
			t.Fatal("still accepting connections during Stop")
		}
		runtime.Gosched()
	}
	close(ls.release) // the finisher completes within the deadline
	buf := make([]byte, 4)
	if _, err := io.ReadFull(finisher, buf); err != nil || string(buf) != "done" {
		t.Fatalf("finisher: %q %v", buf, err)
	}
	if _, err := finisher.Read(buf); err != io.EOF {
		t.Fatalf("finisher's connection not closed after its handler: %v", err)
	}
	err := <-stopped
	el := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "killed 1 handlers") {
		t.Fatalf("Stop: %v", err)
	}
	if el < 290*time.Millisecond || el > 3*time.Second {
		t.Fatalf("Stop took %v", el)
	}
	if _, err := straggler.Read(buf); err == nil {
		t.Fatal("the killed handler's connection is still open")
	}
	if n := ls.running.Load(); n != 0 {
		t.Fatalf("%d handlers still running", n)
	}
}

// TestServeCtxCancel: when Serve's ctx ends, it stops the server (with the
// stop timeout) and returns the ctx's cause.
func TestServeCtxCancel(t *testing.T) {
	h := newHub(t)
	s, err := NewStreamServer("127.0.0.1:0", echoHandler, WithStopTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(hub.NewContext(context.Background(), h))
	cause := errors.New("enough")
	res := make(chan error, 1)
	// Spawned with a ctx of its own: a greenlet killed (by ctx) before it
	// ran would never run at all.
	hubsched.Spawn(h, context.Background(), sched.Task{Run: func(context.Context) error {
		res <- s.Serve(ctx)
		return nil
	}})
	cancel(cause)
	if err := <-res; !errors.Is(err, cause) {
		t.Fatalf("Serve: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after Serve stopped it: %v", err)
	}
}

// TestStopFromHandler: a handler can stop its own server; Stop does not
// wait for the handler calling it.
func TestStopFromHandler(t *testing.T) {
	h := newHub(t)
	res := make(chan error, 1)
	var s *StreamServer
	s = startServer(t, h, func(ctx context.Context, c *Conn) {
		res <- s.Stop(ctx)
		c.Write([]byte("bye"))
	})
	got, err := request(t, s.Addr().String(), "", 3, 5*time.Second)
	if err != nil || got != "bye" {
		t.Fatalf("%q %v", got, err)
	}
	if err := <-res; err != nil {
		t.Fatalf("Stop from a handler: %v", err)
	}
}

// TestMaxConns: past WithMaxConns, a new connection is closed at once.
func TestMaxConns(t *testing.T) {
	h := newHub(t)
	ls := &lineServer{release: make(chan struct{})}
	defer close(ls.release)
	s := startServer(t, h, ls.handle, WithMaxConns(2))
	addr := s.Addr().String()
	holdConn(t, addr, "hold")
	holdConn(t, addr, "hold")
	start := time.Now()
	got, err := request(t, addr, "echo", 4, 5*time.Second)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("third connection: %q %v, want it closed", got, err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("refusal took %v", el)
	}
}

// TestIdleTimeout: a connection without traffic for the idle timeout is
// closed and its blocked Read returns ErrIdleTimeout; traffic keeps it
// alive.
func TestIdleTimeout(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		const idle = 150 * time.Millisecond
		rerr := make(chan error, 1)
		s := startServer(t, h, func(ctx context.Context, c *Conn) {
			buf := make([]byte, 1)
			for {
				if _, err := c.Read(buf); err != nil {
					rerr <- err
					return
				}
				c.Write(buf)
			}
		}, serverOpts(opts, WithIdleTimeout(idle))...)
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		// Traffic every 50 ms for 3 idle periods keeps it open.
		buf := make([]byte, 1)
		var quietFrom time.Time
		for {
			c.Write([]byte{'x'})
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatalf("closed while busy after %v: %v", time.Since(start), err)
			}
			quietFrom = time.Now()
			if time.Since(start) > 3*idle {
				break
			}
			time.Sleep(idle / 3) // traffic at a third of the idle timeout
		}
		err = <-rerr
		el := time.Since(quietFrom)
		if !errors.Is(err, ErrIdleTimeout) {
			t.Fatalf("blocked Read: %v", err)
		}
		if el < idle-20*time.Millisecond || el > idle+2*time.Second {
			t.Fatalf("idle close after %v quiet, want about %v", el, idle)
		}
		if _, err := c.Read(buf); err == nil {
			t.Fatal("client connection still open")
		}
	})
}

// TestFullDuplex: a handler reads on its greenlet while a second greenlet
// it spawns writes on the same connection, bound with WithContext.
func TestFullDuplex(t *testing.T) {
	h := newHub(t)
	s := startServer(t, h, func(ctx context.Context, c *Conn) {
		w := hubsched.Spawn(h, ctx, sched.Task{Run: func(wctx context.Context) error {
			wc := c.WithContext(wctx)
			for i := range 100 {
				if _, err := fmt.Fprintf(wc, "tick %03d\n", i); err != nil {
					return err
				}
				hub.Yield(wctx)
			}
			return nil
		}})
		got, _ := io.ReadAll(io.LimitReader(c, 5))
		waitDeadG(ctx, w, 5*time.Second)
		c.Write(got)
	})
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("hello"))
	all, err := io.ReadAll(io.LimitReader(c, 100*9+5))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(all), "hello") || !strings.HasPrefix(string(all), "tick 000\n") || !strings.Contains(string(all), "tick 099\n") {
		t.Fatalf("got %q", all)
	}
}

// TestHalfClose: a peer's FIN ends only its direction. A client that sends
// a request and then shuts down its write side gets the reply: the
// handler's Read drains the request, then returns io.EOF, and its Write
// after that still works; Close delivers it.
func TestHalfClose(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		werr := make(chan error, 1)
		s := startServer(t, h, func(ctx context.Context, c *Conn) {
			req, err := io.ReadAll(c) // until the client's FIN
			if err != nil {
				werr <- err
				return
			}
			for i := range 3 { // several writes after the FIN
				if _, err = fmt.Fprintf(c, "%s %d;", strings.ToUpper(string(req)), i); err != nil {
					break
				}
				hub.Yield(ctx)
			}
			werr <- err
		}, serverOpts(opts)...)
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("ping"))
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-werr; err != nil {
			t.Fatalf("handler Write after the peer's FIN: %v", err)
		}
		if want := "PING 0;PING 1;PING 2;"; string(got) != want {
			t.Fatalf("reply %q, want %q", got, want)
		}
	})
}

// TestHalfCloseEcho: 1,000 clients at once each send a random payload, shut
// down their write side, and read until EOF; every one gets back every
// byte it sent, whatever the order of the echo's writes and the FIN.
func TestHalfCloseEcho(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		s := startServer(t, h, echoHandler, serverOpts(opts)...)
		conns, size := 1000, 32<<10
		if testing.Short() {
			conns = 200
		}
		if err := echocheck.HalfClose(testCtx(t, 60*time.Second), s.Addr().String(), conns, size, 13); err != nil {
			t.Fatal(err)
		}
	})
}

// TestUnstartedHandlerKilled: a handler greenlet killed before it ever ran
// (here: waiting for hub capacity when the hub is stopped) still closes its
// connection and frees its place, so the server's Stop has nothing left to
// wait for.
func TestUnstartedHandlerKilled(t *testing.T) {
	// The accept loop and one handler. The test stops this hub itself (a
	// second hub.Stop reports the ants pool closed).
	h := hub.MustNew(hub.WithCapacity(2))
	defer func() { _ = h.Stop(context.Background()) }()
	ls := &lineServer{}
	s := newServer(t, h, ls.handle)
	holdConn(t, s.Addr().String(), "stuck")
	queued, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer queued.Close()
	queued.Write([]byte("echo"))
	// Wait until its handler is spawned and queued for capacity.
	for deadline := time.Now().Add(5 * time.Second); h.Stats().Pending < 3; runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("the second handler was never spawned: %+v", h.Stats())
		}
	}
	if st := h.Stats(); st.Live != 2 {
		t.Fatalf("hub stats %+v, want 2 live (accept loop, first handler)", st)
	}
	if err := h.Stop(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	queued.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := queued.Read(make([]byte, 8)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the never-started handler's client: %d %v, want its connection closed", n, err)
	}
	start := time.Now()
	if err := s.Stop(testCtx(t, 5*time.Second)); err != nil {
		t.Fatalf("Stop after the hub killed every handler: %v", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Stop took %v", el)
	}
}

// TestServeKilled: killing the greenlet parked in Serve stops the server at
// once (handlers killed, listener closed) and the kill lands in Serve.
func TestServeKilled(t *testing.T) {
	h := newHub(t)
	ls := &lineServer{}
	s := newServer(t, h, ls.handle)
	returned := false
	g := hubsched.Spawn(h, context.Background(), sched.Task{Run: func(ctx context.Context) error {
		s.Serve(ctx)
		returned = true // not reached: the kill lands in Serve
		return nil
	}})
	client := holdConn(t, s.Addr().String(), "stuck")
	start := time.Now()
	g.Kill(nil)
	select {
	case <-g.Dead():
	case <-time.After(5 * time.Second):
		t.Fatal("Serve's greenlet did not die")
	}
	if returned {
		t.Fatal("Serve returned normally after a kill")
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the handler's connection: %v, want closed", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Fatal("still accepting")
	}
	if err := s.Stop(testCtx(t, time.Second)); err != nil {
		t.Fatalf("Stop after the kill: %v", err)
	}
}

// TestStopKilled: killing the greenlet whose Stop waits for a handler
// kills the handlers at once, leaves the server stopped (a later Stop
// returns nil at once) and lands in Stop.
func TestStopKilled(t *testing.T) {
	h := newHub(t)
	ls := &lineServer{release: make(chan struct{})}
	defer close(ls.release)
	s := newServer(t, h, ls.handle)
	client := holdConn(t, s.Addr().String(), "stuck")
	// Parked where a kill cannot land: only closing its connection frees
	// the client.
	holder := holdConn(t, s.Addr().String(), "hold")
	returned := false
	g := hubsched.Spawn(h, context.Background(), sched.Task{Run: func(ctx context.Context) error {
		_ = s.Stop(ctx) // no deadline: the stop timeout (longer than this test waits)
		returned = true // not reached: the kill lands in Stop
		return nil
	}})
	for ls.running.Load() < 2 || g.State() != hub.StateParked {
		runtime.Gosched()
	}
	start := time.Now()
	g.Kill(nil)
	select {
	case <-g.Dead():
	case <-time.After(5 * time.Second):
		t.Fatal("the stopping greenlet did not die")
	}
	if returned {
		t.Fatal("Stop returned normally after a kill")
	}
	for _, c := range []net.Conn{client, holder} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a handler's connection: %v, want closed", err)
		}
	}
	if err := s.Stop(testCtx(t, time.Second)); err != nil {
		t.Fatalf("Stop after the kill: %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
}

// TestStartOnStoppedHub: a server cannot start on a stopped hub; it says
// so and does not keep its port.
func TestStartOnStoppedHub(t *testing.T) {
	h := hub.MustNew()
	if err := h.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, err := NewStreamServer("127.0.0.1:0", echoHandler)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(hub.NewContext(context.Background(), h)); !errors.Is(err, hub.ErrHubStopped) {
		t.Fatalf("Start on a stopped hub: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestStopBoundedWithoutDeadline: Stop with a ctx that has no deadline is
// bounded by the server's stop timeout (gevent's stop_timeout): an idle
// keep-alive client's handler, parked in Read, is killed when it passes and
// its connection closed; a handler stuck where a kill cannot reach (off its
// run token in a wait that ignores its ctx) is given up on after the kill
// grace, and its connection closed too. Without the option the default,
// DefaultStopTimeout, applies.
func TestStopBoundedWithoutDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []ServerOption
		timeout time.Duration
		stuck   bool
	}{
		{"idle keep-alive client", []ServerOption{WithStopTimeout(200 * time.Millisecond)}, 200 * time.Millisecond, false},
		{"stuck handler", []ServerOption{WithStopTimeout(200 * time.Millisecond)}, 200 * time.Millisecond, true},
		{"default stop timeout", nil, DefaultStopTimeout, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t)
			ls := &lineServer{release: make(chan struct{})}
			defer close(ls.release) // lets the stuck handler's goroutine end
			s := newServer(t, h, ls.handle, tc.opts...)
			clients := []net.Conn{holdConn(t, s.Addr().String(), "stuck")} // parked in Read: a keep-alive client
			if tc.stuck {
				clients = append(clients, holdConn(t, s.Addr().String(), "hold")) // blocked off its token, deaf to kills
			}
			start := time.Now()
			err := s.Stop(context.Background())
			el := time.Since(start)
			if err == nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Stop: %v, want the stop timeout's error", err)
			}
			bound := tc.timeout + time.Second
			if tc.stuck {
				bound += killGrace
				if !strings.Contains(err.Error(), "did not end") {
					t.Fatalf("Stop: %v, want it to say a handler did not end", err)
				}
			}
			if el < tc.timeout || el > bound {
				t.Fatalf("Stop took %v, want between %v and %v", el, tc.timeout, bound)
			}
			for i, c := range clients {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("client %d's connection: %v, want it closed", i, err)
				}
			}
		})
	}
}
