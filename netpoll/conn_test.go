package netpoll

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
)

// Every Option is also a ServerOption (servers take connection options);
// a server option is no Option, so Dial(ctx, "tcp", addr, WithMaxConns(1))
// does not compile.
var _ ServerOption = WithInboundLimit(1)

func TestPlainGoroutineEcho(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		ctx := testCtx(t, 20*time.Second)
		c1, c2 := pipe(t, ctx, opts...)
		go io.Copy(c2, c2)
		msg := bytes.Repeat([]byte("hello netpoll "), 1000)
		if _, err := c1.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c1, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatal("echo differs")
		}
		if c1.LocalAddr().String() != c2.RemoteAddr().String() || c1.RemoteAddr().String() != c2.LocalAddr().String() {
			t.Fatalf("addresses: %v->%v vs %v->%v", c1.LocalAddr(), c1.RemoteAddr(), c2.RemoteAddr(), c2.LocalAddr())
		}
		if err := c1.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c1.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := c1.Read(got); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}
	})
}

// TestReadParksOnlyTheGreenlet: on a one-token hub, a greenlet blocked in
// Read lets another greenlet run, which sends it the bytes it waits for. If
// Read blocked the goroutine while holding the token, this would deadlock.
func TestReadParksOnlyTheGreenlet(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		inGreenlet(t, h, func(ctx context.Context) error {
			c1, c2 := pipe(t, ctx, opts...)
			var order []string
			hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
				order = append(order, "writer runs")
				_, err := c1.WithContext(gctx).Write([]byte("x"))
				return err
			}})
			buf := make([]byte, 8)
			n, err := c2.Read(buf)
			if err != nil || n != 1 || buf[0] != 'x' {
				failf("Read = %d %q %v", n, buf[:n], err)
			}
			order = append(order, "reader returns")
			if got := strings.Join(order, ", "); got != "writer runs, reader returns" {
				failf("order: %s", got)
			}
			return nil
		})
	})
}

// TestConcurrentReadersFIFO: greenlets blocked in Read on one connection
// are served in the order they parked.
func TestConcurrentReadersFIFO(t *testing.T) {
	h := newHub(t)
	inGreenlet(t, h, func(ctx context.Context) error {
		c1, c2 := pipe(t, ctx)
		var got []string
		done := make(chan struct{}, 2)
		for _, name := range []string{"first", "second"} {
			hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
				buf := make([]byte, 8)
				n, err := c2.WithContext(gctx).Read(buf)
				got = append(got, name+":"+string(buf[:n]))
				done <- struct{}{}
				return err
			}})
		}
		hub.Yield(ctx) // both park in Read
		if _, err := c1.Write([]byte("1")); err != nil {
			return err
		}
		recv(ctx, done)
		if _, err := c1.Write([]byte("2")); err != nil {
			return err
		}
		recv(ctx, done)
		if s := strings.Join(got, " "); s != "first:1 second:2" {
			failf("got %s", s)
		}
		return nil
	})
}

// TestKillParkedRead: a greenlet parked in Read dies promptly when killed,
// its deferred calls run, and the connection is left open and unconsumed.
func TestKillParkedRead(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		inGreenlet(t, h, func(ctx context.Context) error {
			c1, c2 := pipe(t, ctx, opts...)
			deferred := false
			g := hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
				defer func() { deferred = true }()
				_, err := c2.WithContext(gctx).Read(make([]byte, 8))
				return err
			}})
			hub.Yield(ctx)
			killPromptly(ctx, g)
			if !deferred {
				failf("deferred call did not run")
			}
			sendRecv(c1, c2, "after") // the killed Read consumed nothing
			return nil
		})
	})
}

// TestKillParkedWrite: a greenlet parked in Write because the kernel's
// buffers are full (the peer does not read) dies promptly when killed, and
// gives up its turn: once the peer reads, the next Write goes through.
func TestKillParkedWrite(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		big := make([]byte, 64<<20)
		inGreenlet(t, h, func(ctx context.Context) error {
			c, peer := dialStd(t, ctx, opts...)
			deferred := false
			g := hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
				defer func() { deferred = true }()
				_, err := c.WithContext(gctx).Write(big)
				return err
			}})
			// Let it fill the kernel's buffers and park for good.
			for i := 0; i < 200 && g.State() != hub.StateParked; i++ {
				hub.Sleep(ctx, 5*time.Millisecond)
			}
			killPromptly(ctx, g)
			if !deferred {
				failf("deferred call did not run")
			}
			go io.Copy(io.Discard, peer)
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write([]byte("after")); err != nil {
				failf("Write after the killed one: %v", err)
			}
			return nil
		})
	})
}

// TestKillParkedAccept: a greenlet parked in Accept dies promptly when
// killed, and the listener keeps working.
func TestKillParkedAccept(t *testing.T) {
	h := newHub(t)
	inGreenlet(t, h, func(ctx context.Context) error {
		ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		var acceptErr error
		g := hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
			_, acceptErr = ln.AcceptContext(gctx)
			return acceptErr
		}})
		hub.Yield(ctx)
		killPromptly(ctx, g)
		if acceptErr != nil {
			failf("the kill panicked out of Accept, yet it returned %v", acceptErr)
		}
		// The listener still serves.
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err == nil {
				c.Write([]byte("hi"))
				c.Close()
			}
		}()
		c, err := ln.AcceptContext(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 2)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
			failf("read %q %v", buf, err)
		}
		return nil
	})
}

// TestCloseWakesBlockedRead: closing a connection while another greenlet
// is in Read makes that Read fail with net.ErrClosed at once (gevent's
// 'File descriptor was closed in another greenlet').
func TestCloseWakesBlockedRead(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		inGreenlet(t, h, func(ctx context.Context) error {
			_, c2 := pipe(t, ctx, opts...)
			errc := make(chan error, 1)
			hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
				_, err := c2.WithContext(gctx).Read(make([]byte, 8))
				errc <- err
				return nil
			}})
			hub.Yield(ctx)
			start := time.Now()
			c2.Close()
			err := recv(ctx, errc)
			if !errors.Is(err, net.ErrClosed) {
				failf("Read after Close from another greenlet: %v", err)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				failf("took %v", d)
			}
			return nil
		})
	})
}

// TestReadDeadline: a Read deadline times out a blocked Read with a
// net.Error whose Timeout is true, after the deadline; moving the deadline
// of a Read already blocked takes effect; the connection stays usable.
func TestReadDeadline(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		inGreenlet(t, h, func(ctx context.Context) error {
			c1, c2 := pipe(t, ctx, opts...)
			const d = 100 * time.Millisecond
			c2.SetReadDeadline(time.Now().Add(d))
			start := time.Now()
			_, err := c2.Read(make([]byte, 8))
			el := time.Since(start)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				failf("Read: %v, want a timeout", err)
			}
			if el < d-5*time.Millisecond || el > d+time.Second {
				failf("timed out after %v, want about %v", el, d)
			}

			// Move the deadline of a Read already blocked with none.
			c2.SetReadDeadline(time.Time{})
			errc := make(chan error, 1)
			hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
				_, err := c2.WithContext(gctx).Read(make([]byte, 8))
				errc <- err
				return nil
			}})
			hub.Yield(ctx)
			start = time.Now()
			c2.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			err = recv(ctx, errc)
			el = time.Since(start)
			if !errors.Is(err, os.ErrDeadlineExceeded) || el < 45*time.Millisecond || el > time.Second {
				failf("moved deadline: %v after %v", err, el)
			}

			// Clear it: the connection works.
			c2.SetReadDeadline(time.Time{})
			sendRecv(c1, c2, "ok")
			return nil
		})
	})
}

// TestWriteDeadline: a Write parked on a peer that never reads times out
// at its deadline and reports the bytes the kernel took, which the peer
// then receives, in order, and nothing else.
func TestWriteDeadline(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		big := make([]byte, 64<<20)
		inGreenlet(t, h, func(ctx context.Context) error {
			c, peer := dialStd(t, ctx, opts...)
			const d = 200 * time.Millisecond
			c.SetWriteDeadline(time.Now().Add(d))
			start := time.Now()
			n, err := c.Write(big)
			el := time.Since(start)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				failf("Write: %d %v, want a timeout", n, err)
			}
			if el < d-5*time.Millisecond || el > d+2*time.Second {
				failf("timed out after %v", el)
			}
			if n <= 0 || n >= len(big) {
				failf("queued %d bytes", n)
			}
			// The n bytes reported arrive, in order, and nothing else.
			c.Close()
			got, err := io.ReadAll(peer)
			if err != nil || len(got) != n || !bytes.Equal(got, big[:n]) {
				failf("peer got %d bytes (%v), want %d", len(got), err, n)
			}
			return nil
		})
	})
}

// TestDialClosedPort: dialing a port nobody listens on fails fast with
// ECONNREFUSED.
func TestDialClosedPort(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			failf("%v", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		h := newHub(t)
		inGreenlet(t, h, func(ctx context.Context) error {
			start := time.Now()
			c, err := Dial(ctx, "tcp", addr, opts...)
			if err == nil {
				c.Close()
				failf("%v", "Dial succeeded")
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				failf("Dial: %v, want connection refused", err)
			}
			if d := time.Since(start); d > time.Second {
				failf("took %v", d)
			}
			return nil
		})
	})
}

// TestListenNetworks: tcp, tcp4 and tcp6 on the loopback addresses, port 0
// resolved to the real port.
func TestListenNetworks(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"}, {"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}, {"tcp", "[::1]:0"},
	} {
		t.Run(tc.network+" "+tc.addr, func(t *testing.T) {
			ctx := testCtx(t, 10*time.Second)
			ln, err := Listen(ctx, tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			ta := ln.Addr().(*net.TCPAddr)
			if ta.Port == 0 {
				t.Fatalf("Addr %v has port 0", ta)
			}
			go func() {
				c, err := ln.Accept()
				if err == nil {
					io.Copy(c, c)
					c.Close()
				}
			}()
			c, err := Dial(ctx, tc.network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.RemoteAddr().String() != ln.Addr().String() {
				t.Fatalf("RemoteAddr %v, want %v", c.RemoteAddr(), ln.Addr())
			}
			c.Write([]byte("v6?"))
			buf := make([]byte, 3)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "v6?" {
				t.Fatalf("echo %q %v", buf, err)
			}
		})
	}
}

// TestBadInput: clear errors for unsupported networks, server-only options
// and invalid values.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := Listen(ctx, "udp", "127.0.0.1:0"); !errors.Is(err, ErrUnsupportedNetwork) {
		t.Fatalf("Listen udp: %v", err)
	}
	if _, err := Dial(ctx, "unix", "/tmp/x"); !errors.Is(err, ErrUnsupportedNetwork) {
		t.Fatalf("Dial unix: %v", err)
	}
	if _, err := Dial(ctx, "tcp", "127.0.0.1:1", WithInboundBudget(1<<20)); err == nil || !strings.Contains(err.Error(), "WithInboundBudget") {
		t.Fatalf("Dial with a listener option: %v", err)
	}
	for _, o := range []Option{WithInboundLimit(0), WithInboundBudget(0), WithIdleTimeout(-time.Second)} {
		if _, err := Dial(ctx, "tcp", "127.0.0.1:1", o); err == nil || !strings.HasPrefix(err.Error(), "netpoll: ") {
			t.Fatalf("invalid option accepted: %v", err)
		}
	}
	for _, o := range []ServerOption{WithMaxHandlers(-1), WithMaxConns(-1), WithSpawner(nil), WithPool(nil), WithHubs(), WithHubs(nil), WithStopTimeout(-1), WithInboundLimit(0)} {
		if _, err := NewStreamServer("127.0.0.1:0", echoHandler, o); err == nil {
			t.Fatal("invalid server option accepted")
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "netpoll: ") {
			t.Fatalf("nil handler: %v", r)
		}
	}()
	NewStreamServer("127.0.0.1:0", nil)
}

// TestCloseDeliversOutput: Close right after a large Write returns at once,
// and the peer, reading slowly, still receives every byte, then EOF (gnet
// alone would drop what its buffer held).
func TestCloseDeliversOutput(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		const total = 16 << 20
		data := make([]byte, total)
		for i := range data {
			data[i] = byte(i >> 8)
		}
		h := newHub(t)
		inGreenlet(t, h, func(ctx context.Context) error {
			c, peer := dialStd(t, ctx, opts...)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(iotestSlow(peer))
				got <- b
			}()
			if n, err := c.Write(data); err != nil || n != total {
				failf("Write: %d %v", n, err)
			}
			start := time.Now()
			if err := c.Close(); err != nil {
				return err
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				failf("Close blocked for %v", d)
			}
			if b := recv(ctx, got); !bytes.Equal(b, data) {
				failf("peer got %d of %d bytes", len(b), total)
			}
			return nil
		})
	})
}

// TestShutdown: Shutdown closes listeners and every gnet connection (their
// calls return ErrShutdown); the next use starts the loops again.
func TestShutdown(t *testing.T) {
	ctx := testCtx(t, 10*time.Second)
	c, _ := dialStd(t, context.Background())
	ln, err := Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rerr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		rerr <- err
	}()
	if err := Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-rerr; !errors.Is(err, ErrShutdown) {
		t.Fatalf("Read across Shutdown: %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Accept after Shutdown: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Write after Shutdown: %v", err)
	}
	// Life goes on.
	a, b := pipe(t, ctx)
	sendRecv(a, b, "again")
}

// iotestSlow reads in small pieces with pauses, like a slow consumer.
func iotestSlow(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		time.Sleep(100 * time.Microsecond)
		return r.Read(p[:min(len(p), 32<<10)])
	})
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestConcurrentWritesAtomic: two writers (greenlets of one hub, or plain
// goroutines) each write 16 MiB to one connection whose peer reads slowly;
// the peer receives one writer's bytes whole and then the other's: a Write
// never interleaves with another, as net.Conn requires.
func TestConcurrentWritesAtomic(t *testing.T) {
	const size = 16 << 20
	data := [2][]byte{make([]byte, size), make([]byte, size)}
	for w := range data {
		for i := 0; i < size; i += 4 {
			binary.BigEndian.PutUint32(data[w][i:], uint32(w)<<31|uint32(i/4))
		}
	}
	backends(t, func(t *testing.T, opts ...Option) {
		for _, mode := range []string{"greenlets", "goroutines"} {
			t.Run(mode, func(t *testing.T) {
				h := newHub(t)
				ctx := testCtx(t, 60*time.Second)
				c, peer := dialStd(t, ctx, opts...)
				got := make(chan []byte, 1)
				go func() {
					b, _ := io.ReadAll(io.LimitReader(iotestSlow(peer), 2*size))
					got <- b
				}()
				errs := make(chan error, 2)
				for w := range data {
					write := func(ctx context.Context) error {
						n, err := c.WithContext(ctx).Write(data[w])
						if err == nil && n != size {
							err = fmt.Errorf("short write %d", n)
						}
						errs <- err
						return err
					}
					if mode == "greenlets" {
						hubsched.Spawn(h, context.Background(), sched.Task{Run: write})
					} else {
						go write(context.Background())
					}
				}
				for range data {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
				b := <-got
				if len(b) != 2*size {
					t.Fatalf("peer got %d of %d bytes", len(b), 2*size)
				}
				first := b[0] >> 7
				for half, w := range []byte{first, 1 - first} {
					part := b[half*size : (half+1)*size]
					if i := firstMismatch(part, data[w]); i >= 0 {
						t.Fatalf("bytes interleaved: at offset %d the peer got word %#08x, want writer %d's %#08x",
							half*size+i, binary.BigEndian.Uint32(part[i&^3:]), w, binary.BigEndian.Uint32(data[w][i&^3:]))
					}
				}
			})
		}
	})
}

// firstMismatch returns the first index where a and b differ, or -1.
func firstMismatch(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
