//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gevent-go/gevent/hub"
)

// floodByte is the byte at offset off of every flood, so a reader can check
// that nothing was lost or reordered.
func floodByte(off int64) byte { return byte(off*7 + off>>13) }

// flood writes the flood pattern on c, in 64 KiB chunks, until a write makes
// no progress for stall (the server throttles it) or fails (the server cut
// it), and returns how many bytes went out and why it stopped.
func flood(c net.Conn, stall time.Duration) (int64, error) {
	var sent int64
	chunk := make([]byte, 64<<10)
	for {
		for i := range chunk {
			chunk[i] = floodByte(sent + int64(i))
		}
		c.SetWriteDeadline(time.Now().Add(stall))
		n, err := c.Write(chunk)
		sent += int64(n)
		if err != nil {
			return sent, err
		}
	}
}

// checkFlood reads r to EOF and reports how many bytes it got, failing on
// the first that differs from the flood pattern.
func checkFlood(r io.Reader) (int64, error) {
	var got int64
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		for i := range n {
			if buf[i] != floodByte(got) {
				return got, fmt.Errorf("byte %d differs", got)
			}
			got++
		}
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
}

// heapInUse returns the heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// floodResult is what one flooded handler saw.
type floodResult struct {
	got    int64
	err    error
	paused bool
}

// floodServer starts a server whose handlers read nothing until release is
// closed, then read to EOF, checking the flood pattern, and report.
func floodServer(t *testing.T, h *hub.Hub, release chan struct{}, results chan floodResult, opts ...Option) *StreamServer {
	return startServer(t, h, func(ctx context.Context, c *Conn) {
		recv(ctx, release)
		var r floodResult
		if g, ok := c.c.(*gconn); ok {
			g.mu.Lock()
			r.paused = g.paused
			g.mu.Unlock()
		}
		r.got, r.err = checkFlood(c)
		results <- r
	}, serverOpts(opts)...)
}

// TestFloodingClientIsThrottled: a client that sends without end to a
// handler that does not read is throttled, as by the standard library: its
// writes stall once the connection's inbound limit and the kernel's
// buffers are full, the server's heap grows by about the limit, not the
// flood, and when the handler reads at last it gets every byte, in order.
func TestFloodingClientIsThrottled(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		const limit = 1 << 20
		h := newHub(t)
		release := make(chan struct{})
		results := make(chan floodResult, 1)
		s := floodServer(t, h, release, results, append(opts, WithInboundLimit(limit))...)
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		before := heapInUse()
		sent, werr := flood(c, 300*time.Millisecond)
		growth := heapInUse() - before
		t.Logf("client sent %d MiB before it stalled (%v); heap in use grew %d KiB", sent>>20, werr, growth>>10)
		if !errors.Is(werr, os.ErrDeadlineExceeded) {
			t.Fatalf("flood ended with %v, want it throttled (a write deadline)", werr)
		}
		if growth > 16<<20 {
			t.Fatalf("heap grew %d MiB under a flood with a 1 MiB limit", growth>>20)
		}
		close(release)
		c.(*net.TCPConn).CloseWrite()
		r := <-results
		if r.err != nil || r.got != sent {
			t.Fatalf("handler read %d of %d bytes: %v", r.got, sent, r.err)
		}
		if len(opts) == 0 && !r.paused { // gnet
			t.Fatal("the flooded gnet connection was not paused")
		}
	})
}

// TestInboundBudgetPauses: several flooding clients, each under the
// per-connection limit, together pass the server's inbound budget: the
// budget pauses them (they are throttled, not cut), the heap stays near the
// budget, and every handler later reads its whole flood intact.
func TestInboundBudgetPauses(t *testing.T) {
	const clients, budget = 4, 1 << 20
	h := newHub(t)
	release := make(chan struct{})
	results := make(chan floodResult, clients)
	s := floodServer(t, h, release, results, WithInboundBudget(budget))
	before := heapInUse()
	sent := make([]int64, clients)
	var wg sync.WaitGroup
	var conns []net.Conn
	for i := range clients {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if sent[i], err = flood(c, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("client %d: flood ended with %v, want it throttled", i, err)
			}
		}()
	}
	wg.Wait()
	growth := heapInUse() - before
	t.Logf("%d clients sent %v bytes before they stalled; heap in use grew %d KiB", clients, sent, growth>>10)
	if growth > 16<<20 {
		t.Fatalf("heap grew %d MiB with a 1 MiB budget", growth>>20)
	}
	close(release)
	var total, want int64
	for i, c := range conns {
		c.(*net.TCPConn).CloseWrite()
		want += sent[i]
	}
	paused := 0
	for range clients {
		r := <-results
		if r.err != nil {
			t.Fatalf("a handler read %d bytes: %v", r.got, r.err)
		}
		total += r.got
		if r.paused {
			paused++
		}
	}
	if total != want {
		t.Fatalf("handlers read %d bytes, clients sent %d", total, want)
	}
	if paused == 0 {
		t.Fatal("no connection was paused")
	}
}

// TestEngineBudgetCuts: the engine's budget is the last resort behind the
// pausing limits and budgets: when paused connections together hold more
// than it, the biggest are cut (their handlers' Read returns
// ErrInboundOverflow, their clients' writes fail), and a well-behaved client
// is served afterwards.
func TestEngineBudgetCuts(t *testing.T) {
	const clients, limit = 6, 1 << 20
	prev := SetEngineInboundBudget(2 << 20)
	defer SetEngineInboundBudget(prev)
	h := newHub(t)
	release := make(chan struct{})
	results := make(chan floodResult, clients+1)
	s := floodServer(t, h, release, results, WithInboundLimit(limit))
	var wg sync.WaitGroup
	cutClients := make(chan int, clients)
	for i := range clients {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := flood(c, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				cutClients <- i
			}
			c.(*net.TCPConn).CloseWrite() // the handlers of those not cut read to EOF
		}()
	}
	wg.Wait()
	close(release)
	cut := 0
	for range clients {
		r := <-results
		if errors.Is(r.err, ErrInboundOverflow) {
			cut++
		} else if r.err != nil && !errors.Is(r.err, io.ErrUnexpectedEOF) {
			t.Logf("handler: %v after %d bytes", r.err, r.got)
		}
	}
	t.Logf("%d of %d flooded connections cut, %d clients saw it", cut, clients, len(cutClients))
	if cut == 0 {
		t.Fatal("no connection was cut past the engine's budget")
	}
	// A well-behaved client is served in full afterwards.
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 4<<10)
	for i := range msg {
		msg[i] = floodByte(int64(i))
	}
	c.Write(msg)
	c.(*net.TCPConn).CloseWrite()
	if r := <-results; r.err != nil || r.got != int64(len(msg)) {
		t.Fatalf("well-behaved client: handler read %d of %d bytes: %v", r.got, len(msg), r.err)
	}
}

// TestSocketBuffers: SetReadBuffer and SetWriteBuffer size the kernel's
// buffers of the connection's socket, on both backends, before and after
// gnet lets go of it (a half-closed connection).
func TestSocketBuffers(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		ctx := testCtx(t, 10*time.Second)
		c1, c2 := pipe(t, ctx, opts...)
		sizes := func(c *Conn) (rcv, snd int) {
			get := func(fd int) {
				rcv, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
				snd, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
			}
			switch x := c.c.(type) {
			case *gconn:
				x.mu.Lock()
				x.fdLocked(get)
				x.mu.Unlock()
			case *sconn:
				rc, _ := x.nc.(*net.TCPConn).SyscallConn()
				rc.Control(func(fd uintptr) { get(int(fd)) })
			}
			return rcv, snd
		}
		for i, n := range []int{48 << 10, 96 << 10} {
			if i == 1 {
				// The peer's FIN: a gnet connection is then on its own descriptor.
				c1.CloseWrite()
				if _, err := io.ReadAll(c2); err != nil {
					t.Fatal(err)
				}
			}
			if err := c2.SetReadBuffer(n); err != nil {
				t.Fatal(err)
			}
			if err := c2.SetWriteBuffer(n); err != nil {
				t.Fatal(err)
			}
			// Linux doubles the size asked for; other kernels keep it.
			if rcv, snd := sizes(c2); rcv < n || rcv > 2*n || snd < n || snd > 2*n {
				t.Fatalf("asked for %d, the socket has SO_RCVBUF %d, SO_SNDBUF %d", n, rcv, snd)
			}
		}
		c2.Close()
		if err := c2.SetReadBuffer(1 << 16); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("SetReadBuffer after Close: %v", err)
		}
	})
}
