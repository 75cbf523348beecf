package netpoll

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/hubtest"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/pool"
)

func listenUDP(t *testing.T, ctx context.Context) *PacketConn {
	t.Helper()
	pc, err := ListenPacket(ctx, "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// Two greenlets of one hub (P = 1) talk over UDP: the reader parks in
// ReadFrom while the writer runs, which a read that kept the run token
// would deadlock.
func TestPacketConnCooperative(t *testing.T) {
	h := newHub(t)
	inGreenlet(t, h, func(ctx context.Context) error {
		a, b := listenUDP(t, context.Background()), listenUDP(t, context.Background())
		got := make([]string, 0, 3)
		var done hub.Event
		hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error {
			defer done.Set()
			buf := make([]byte, 64)
			for range 3 {
				n, from, err := b.WithContext(ctx).ReadFrom(buf)
				if err != nil {
					return err
				}
				if from.String() != a.LocalAddr().String() {
					return fmt.Errorf("from %v, want %v", from, a.LocalAddr())
				}
				got = append(got, string(buf[:n]))
			}
			return nil
		}})
		for _, m := range []string{"one", "two", "three"} {
			if err := hub.Yield(ctx); err != nil { // the reader parks first
				return err
			}
			if _, err := a.WithContext(ctx).WriteTo([]byte(m), b.LocalAddr()); err != nil {
				return err
			}
		}
		if done.Wait(ctx) != nil {
			return errors.New("reader did not finish")
		}
		if strings.Join(got, ",") != "one,two,three" {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
}

// A kill, the end of the bound ctx and a read deadline each end a blocked
// ReadFrom promptly; the socket stays usable.
func TestPacketConnInterrupts(t *testing.T) {
	h := newHub(t)
	pc := listenUDP(t, context.Background())
	buf := make([]byte, 16)

	var entered hub.Event
	g := hubsched.Spawn(h, context.Background(), sched.Task{Run: func(ctx context.Context) error {
		entered.Set()
		_, _, err := pc.WithContext(ctx).ReadFrom(buf)
		return err
	}})
	entered.Wait(context.Background())
	inGreenlet(t, h, func(ctx context.Context) error {
		killPromptly(ctx, g)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, _, err := pc.WithContext(cctx).ReadFrom(buf); !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("read with an expiring ctx: %v", err)
		}
		if err := pc.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			return err
		}
		_, _, err := pc.WithContext(ctx).ReadFrom(buf)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("read past the deadline: %v", err)
		}
		if err := pc.SetReadDeadline(time.Time{}); err != nil {
			return err
		}
		// Still usable.
		peer := listenUDP(t, context.Background())
		if _, err := peer.WriteTo([]byte("after"), pc.LocalAddr()); err != nil {
			return err
		}
		n, _, err := pc.WithContext(ctx).ReadFrom(buf)
		if err != nil || string(buf[:n]) != "after" {
			return fmt.Errorf("read after interrupts: %q %v", buf[:n], err)
		}
		return nil
	})
	if err := pc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pc.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
}

func TestListenPacketErrors(t *testing.T) {
	if _, err := ListenPacket(context.Background(), "tcp", "127.0.0.1:0"); !errors.Is(err, ErrUnsupportedNetwork) {
		t.Fatalf("tcp: %v", err)
	}
	if _, err := NewDatagramServer("127.0.0.1:0", func(context.Context, *PacketConn, []byte, net.Addr) {}, WithMaxHandlers(-1)); !errors.Is(err, errInvalid) {
		t.Fatalf("negative max handlers: %v", err)
	}
}

// TestDatagramOptions: only WithMaxHandlers and WithStopTimeout are
// DatagramOptions, so no other option given to NewDatagramServer compiles
// (not even through a ServerOption variable: no other option's dynamic type
// is one either); both still configure a StreamServer.
func TestDatagramOptions(t *testing.T) {
	dopt := reflect.TypeFor[DatagramOption]()
	for name, o := range map[string]ServerOption{
		"WithMaxHandlers": WithMaxHandlers(1),
		"WithStopTimeout": WithStopTimeout(time.Second),
	} {
		if !reflect.TypeOf(o).Implements(dopt) {
			t.Errorf("%s is not a DatagramOption", name)
		}
	}
	for name, o := range map[string]ServerOption{
		"WithPool":          WithPool(pool.New(1)),
		"WithMaxConns":      WithMaxConns(1),
		"WithSpawner":       WithSpawner(func(context.Context, func(context.Context)) error { return nil }),
		"WithHubs":          WithHubs(hub.Default()),
		"WithIdleTimeout":   WithIdleTimeout(time.Second),
		"WithInboundLimit":  WithInboundLimit(1 << 10),
		"WithInboundBudget": WithInboundBudget(1 << 10),
		"WithStdlib":        WithStdlib(),
	} {
		if reflect.TypeOf(o).Implements(dopt) {
			t.Errorf("%s is a DatagramOption", name)
		}
	}
	if _, err := NewStreamServer("127.0.0.1:0", func(context.Context, *Conn) {}, WithMaxHandlers(1), WithStopTimeout(time.Second)); err != nil {
		t.Fatal(err)
	}
}

// exchange sends msgs from a plain UDP socket and returns the replies.
func exchange(t *testing.T, addr net.Addr, msgs ...string) []string {
	t.Helper()
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	buf := make([]byte, 1024)
	for range msgs {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reply %d of %d: %v", len(got)+1, len(msgs), err)
		}
		got = append(got, string(buf[:n]))
	}
	return got
}

// newDatagram returns a started DatagramServer on h.
func newDatagram(t *testing.T, h *hub.Hub, handler func(ctx context.Context, c *PacketConn, data []byte, from net.Addr), opts ...DatagramOption) *DatagramServer {
	t.Helper()
	s, err := NewDatagramServer("127.0.0.1:0", handler, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(hub.NewContext(context.Background(), h)); err != nil {
		t.Fatal(err)
	}
	return s
}

// startDatagram is newDatagram, stopped (successfully) when the test ends.
func startDatagram(t *testing.T, h *hub.Hub, handler func(ctx context.Context, c *PacketConn, data []byte, from net.Addr), opts ...DatagramOption) *DatagramServer {
	t.Helper()
	s := newDatagram(t, h, handler, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// The DatagramServer runs a greenlet per datagram: handlers share a plain
// counter and reply through the socket bound to their ctx.
func TestDatagramServerEcho(t *testing.T) {
	h := newHub(t)
	count := 0
	s := startDatagram(t, h, func(ctx context.Context, c *PacketConn, data []byte, from net.Addr) {
		count++
		n := count
		if err := hub.Sleep(ctx, time.Millisecond); err != nil { // park: the others run
			return
		}
		_, _ = fmt.Fprintf(writerTo{c, from}, "%d:%s", n, strings.ToUpper(string(data)))
	})
	got := exchange(t, s.Addr(), "a", "b", "c")
	seen := map[string]bool{}
	for _, r := range got {
		n, msg, ok := strings.Cut(r, ":")
		if !ok || n == "" {
			t.Fatalf("reply %q", r)
		}
		seen[msg] = true
	}
	if len(seen) != 3 || !seen["A"] || !seen["B"] || !seen["C"] {
		t.Fatalf("replies %v", got)
	}
	inGreenlet(t, h, func(ctx context.Context) error {
		if count != 3 {
			return fmt.Errorf("handled %d, want 3", count)
		}
		return nil
	})
}

type writerTo struct {
	c  *PacketConn
	to net.Addr
}

func (w writerTo) Write(p []byte) (int, error) { return w.c.WriteTo(p, w.to) }

// WithMaxHandlers bounds the handlers running at once; the datagrams wait
// in the kernel meanwhile and are all handled.
func TestDatagramServerBounded(t *testing.T) {
	h := newHub(t)
	running, most := 0, 0
	var full hub.Event
	release := hub.NewQueue[struct{}](0)
	s := startDatagram(t, h, func(ctx context.Context, c *PacketConn, data []byte, from net.Addr) {
		running++
		most = max(most, running)
		if running == 2 {
			full.Set()
		}
		_, _ = release.Get(ctx)
		running--
		_, _ = c.WriteTo(data, from)
	}, WithMaxHandlers(2))
	go func() {
		full.Wait(context.Background())
		for range 5 {
			_ = release.Put(context.Background(), struct{}{})
		}
	}()
	if got := exchange(t, s.Addr(), "1", "2", "3", "4", "5"); len(got) != 5 {
		t.Fatalf("replies %v", got)
	}
	inGreenlet(t, h, func(ctx context.Context) error {
		if most != 2 {
			return fmt.Errorf("at most %d handlers at once, want 2", most)
		}
		return nil
	})
}

// Stop waits for running handlers, kills them at its deadline (their
// deferred calls run), and a panicking handler is reported while the
// server goes on.
func TestDatagramServerStopAndPanic(t *testing.T) {
	errs := &hubtest.ErrLog{}
	h := newHub(t, hub.WithErrorHandler(errs.Handle))
	var entered hub.Event
	var cleaned atomic.Bool
	s := newDatagram(t, h, func(ctx context.Context, c *PacketConn, data []byte, from net.Addr) {
		switch string(data) {
		case "panic":
			panic("udp boom")
		case "hang":
			defer cleaned.Store(true)
			entered.Set()
			_ = hub.Sleep(ctx, time.Hour)
		default:
			_, _ = c.WriteTo(data, from)
		}
	})
	c, err := net.Dial("udp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("panic"))
	if got := exchange(t, s.Addr(), "still there"); got[0] != "still there" {
		t.Fatalf("after a panic: %v", got)
	}
	c.Write([]byte("hang"))
	entered.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop with a hanging handler: %v", err)
	}
	if !cleaned.Load() {
		t.Fatal("the killed handler's deferred calls did not run")
	}
	if err := s.Stop(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second stop: %v, want the first's result", err)
	}
	all := errs.All()
	if len(all) != 1 || !strings.Contains(all[0].Error(), "udp boom") {
		t.Fatalf("reported: %v", all)
	}
}

// Serve runs until its ctx ends, then stops.
func TestDatagramServerServe(t *testing.T) {
	s := newDatagram(t, newHub(t), func(ctx context.Context, c *PacketConn, data []byte, from net.Addr) {
		_, _ = c.WriteTo(data, from)
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	if got := exchange(t, s.Addr(), "x"); got[0] != "x" {
		t.Fatal(got)
	}
	cancel()
	if err := <-served; !errors.Is(err, context.Canceled) {
		t.Fatalf("serve: %v", err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("restarted a stopped server")
	}
}
