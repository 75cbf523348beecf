//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package netpoll

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/echocheck"
)

// The echo benchmarks run three servers against the same load client in the
// same run, so their ratios come out of one measurement:
//   - netpoll: a StreamServer, one handler greenlet per connection, on a
//     one-token hub (gevent's contract);
//   - gnet: gnet's native echo (Next + Write in OnTraffic), the reference,
//     with as many loops as netpoll's shared engine;
//   - stdlib: a goroutine per connection on the standard library.
//
// The client is closed-loop: every connection keeps one message in flight,
// writes it, reads the echo back and compares every byte. One op is one
// round trip. msgs/s is the aggregate rate; p50-us and p99-us are round-trip
// latencies. The client shares the machine's cores with the server.

const echoBuf = 16 << 10 // every server's read buffer

type echoServer struct {
	addr   string
	stop   func()
	opened func() int64 // connections opened, where the server counts them
}

func startEchoServer(b *testing.B, kind string) echoServer {
	switch kind {
	case "netpoll":
		return startNetpollEcho(b, 1, func(ctx context.Context, c *Conn) { echoLoop(c, make([]byte, echoBuf)) })
	case "gnet":
		return startGnetEcho(b, false)
	case "stdlib":
		return startStdEcho(b, func(c net.Conn) { echoLoop(c, make([]byte, echoBuf)) })
	}
	b.Fatalf("unknown server %q", kind)
	return echoServer{}
}

func startNetpollEcho(b *testing.B, p int, handler func(ctx context.Context, c *Conn)) echoServer {
	h := hub.MustNew(hub.WithMonitor(0, nil), hub.WithParallelism(p))
	s, err := NewStreamServer("127.0.0.1:0", handler)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(hub.NewContext(context.Background(), h)); err != nil {
		b.Fatal(err)
	}
	return echoServer{addr: s.Addr().String(), stop: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			b.Error(err)
		}
		if err := h.Stop(ctx); err != nil {
			b.Error(err)
		}
	}}
}

// gnetEcho is gnet's own echo server, the reference the design measures
// against; with idle set it only holds connections.
type gnetEcho struct {
	gnet.BuiltinEventEngine
	idle   bool
	eng    gnet.Engine
	booted chan struct{}
	opened atomic.Int64
}

func (e *gnetEcho) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	close(e.booted)
	return gnet.None
}

func (e *gnetEcho) OnOpen(gnet.Conn) ([]byte, gnet.Action) {
	e.opened.Add(1)
	return nil, gnet.None
}

func (e *gnetEcho) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	if !e.idle {
		c.Write(buf)
	}
	return gnet.None
}

func startGnetEcho(b *testing.B, idle bool) echoServer {
	e := &gnetEcho{idle: idle, booted: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- gnet.Run(e, "tcp://127.0.0.1:0",
			gnet.WithNumEventLoop(eventLoops()), gnet.WithLogger(gnetLogger{}))
	}()
	select {
	case <-e.booted:
	case err := <-done:
		b.Fatal(err)
	}
	// gnet has no getter for the port it bound: ask the socket.
	fd, err := e.eng.Dup()
	if err != nil {
		b.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	unix.Close(fd)
	if err != nil {
		b.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	return echoServer{addr: addr, opened: e.opened.Load, stop: func() {
		// Stop polls every 500 ms; with a done ctx it only starts the
		// shutdown, and Run returns once the loops have exited.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		e.eng.Stop(ctx)
		if err := <-done; err != nil {
			b.Error(err)
		}
	}}
}

func startStdEcho(b *testing.B, handler func(c net.Conn)) echoServer {
	addr, stop, err := echocheck.StdServer(handler)
	if err != nil {
		b.Fatal(err)
	}
	return echoServer{addr: addr, stop: stop}
}

// dialAll opens n client connections to addr.
func dialAll(b *testing.B, addr string, n int) []net.Conn {
	cs := make([]net.Conn, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	sem := make(chan struct{}, 64)
	for i := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				failed.Store(err)
				return
			}
			cs[i] = c
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		for _, c := range cs {
			if c != nil {
				c.Close()
			}
		}
		b.Fatal(err)
	}
	return cs
}

func BenchmarkEcho(b *testing.B) {
	for _, conns := range []int{100, 1000} {
		for _, size := range []int{64, 4096} {
			for _, kind := range []string{"netpoll", "gnet", "stdlib"} {
				b.Run(fmt.Sprintf("conns=%d/size=%d/%s", conns, size, kind), func(b *testing.B) {
					benchEcho(b, kind, conns, size)
				})
			}
		}
	}
}

func benchEcho(b *testing.B, kind string, conns, size int) {
	srv := startEchoServer(b, kind)
	defer srv.stop()
	cs := dialAll(b, srv.addr, conns)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	lat := make([][]time.Duration, conns)
	msgs := make([][]byte, conns)
	for i := range cs {
		lat[i] = make([]time.Duration, 0, b.N/conns+1)
		msgs[i] = make([]byte, size)
		r := rand.New(rand.NewPCG(uint64(i), uint64(size)))
		for j := range msgs[i] {
			msgs[i][j] = byte(r.Uint32())
		}
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, got := msgs[i], make([]byte, size)
			for left.Add(-1) >= 0 {
				t0 := time.Now()
				if _, err := c.Write(msg); err != nil {
					failed.Store(err)
					return
				}
				if _, err := io.ReadFull(c, got); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
				if !bytes.Equal(got, msg) {
					failed.Store(errors.New("echo differs"))
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
	}
}

// BenchmarkIdleConnMemory measures what an idle connection costs the
// server after some traffic: a separate client process (so the server's
// file descriptor budget goes to the server) opens NETPOLL_IDLE_CONNS
// connections (default 10000), sends one NETPOLL_IDLE_MSG-byte message on
// each (default 64 KiB), reads its echo, and then holds them open without
// sending; the server's handler for each is back, parked, in its read.
// B/conn is the growth of the Go heap and stacks in use, rss-B/conn that of
// the resident set, divided by the connection count; stack-B/conn is the
// stacks in use alone.
//
// The servers echo with the code a user writes for each:
//   - netpoll: a StreamServer handler doing io.Copy(c, c) (Conn.WriteTo,
//     which holds no buffer while it waits);
//   - netpoll-buf: a StreamServer handler looping Read and Write through a
//     16 KiB buffer of its own;
//   - stdlib: a goroutine per connection looping Read and Write through a
//     16 KiB buffer. (Its io.Copy(c, c) splices through a pipe that each
//     idle connection keeps, three descriptors per connection: at 10,000
//     connections it runs out of the 20,000 descriptors this machine
//     allows.)
//   - gnet: gnet's native echo.
func BenchmarkIdleConnMemory(b *testing.B) {
	n := 10000
	if s := os.Getenv("NETPOLL_IDLE_CONNS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	msg := 64 << 10
	if s := os.Getenv("NETPOLL_IDLE_MSG"); s != "" {
		msg, _ = strconv.Atoi(s)
	}
	for _, kind := range []string{"netpoll", "netpoll-buf", "stdlib", "gnet"} {
		b.Run(fmt.Sprintf("conns=%d/msg=%d/%s", n, msg, kind), func(b *testing.B) {
			for range b.N {
				idleMemory(b, kind, n, msg)
			}
		})
	}
}

func idleMemory(b *testing.B, kind string, n, msg int) {
	var srv echoServer
	debug.FreeOSMemory() // so the resident set grows with what is touched now
	heap0, rss0 := memNow()
	bufEcho := func(c io.ReadWriter) { echoLoop(c, make([]byte, echoBuf)) }
	switch kind {
	case "netpoll":
		srv = startNetpollEcho(b, 1, func(ctx context.Context, c *Conn) { io.Copy(c, c) })
	case "netpoll-buf":
		srv = startNetpollEcho(b, 1, func(ctx context.Context, c *Conn) { bufEcho(c) })
	case "stdlib":
		srv = startStdEcho(b, func(c net.Conn) { bufEcho(c) })
	case "gnet":
		srv = startGnetEcho(b, false)
	}
	defer srv.stop()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("NETPOLL_IDLE_CLIENT=%s,%d,%d", srv.addr, n, msg))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	// "ready" comes once every echo is back: every handler has written its
	// echo and is parked in its read again (or about to be).
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("client: %q %v", line, err)
	}
	debug.FreeOSMemory()
	heap1, rss1 := memNow()
	b.ReportMetric(float64(heap1-heap0)/float64(n), "B/conn")
	b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/conn")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.StackInuse)/float64(n), "stack-B/conn") // all goroutines' stacks, for scale
}

// memNow returns the Go heap and stacks in use and the process's resident
// set, in bytes.
func memNow() (heap, rss int64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = int64(ms.HeapInuse + ms.StackInuse)
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				rss = kb << 10
			}
		}
	}
	return heap, rss
}

// idleClient is the client process of BenchmarkIdleConnMemory: spec is
// "addr,n,msg". It opens the n connections, sends msg bytes on each and
// reads the echo back (64 at a time), says "ready", and holds them until
// stdin closes.
func idleClient(spec string) {
	f := strings.Split(spec, ",")
	addr := f[0]
	n, _ := strconv.Atoi(f[1])
	size, _ := strconv.Atoi(f[2])
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "idle client:", err)
		os.Exit(1)
	}
	cs := make([]net.Conn, n)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fail(err)
		}
		cs[i] = c
	}
	msg := bytes.Repeat([]byte("idle"), size/4+1)[:size]
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			got := make([]byte, size)
			if _, err := c.Write(msg); err != nil {
				fail(err)
			}
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				fail(fmt.Errorf("echo: %v", err))
			}
		}()
	}
	wg.Wait()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range cs {
		c.Close()
	}
	os.Exit(0)
}
