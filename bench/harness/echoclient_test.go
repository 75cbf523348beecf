package harness

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveEcho runs a goroutine-per-connection echo server on a free port;
// corrupt, when set, flips one byte of every echo.
func serveEcho(t *testing.T, corrupt bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if corrupt {
							buf[n-1] ^= 0xff
						}
						c.Write(buf[:n])
					}
					if err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

func TestEchoLoadVerifiesEveryEcho(t *testing.T) {
	addr := serveEcho(t, false)
	r, err := RunEchoLoad(context.Background(), EchoLoad{Addr: addr, Conns: 8, Size: 64, Window: 150 * time.Millisecond, Drain: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.Msgs == 0 || int64(len(r.Latencies)) < r.Msgs {
		t.Fatalf("msgs %d latencies %d", r.Msgs, len(r.Latencies))
	}
	if !slices.IsSorted(r.Latencies) {
		t.Fatal("latencies not sorted")
	}
	m := r.Metrics()
	if m["msgs_per_s"] <= 0 || m["p50_us"] <= 0 || m["p99_us"] < m["p50_us"] {
		t.Fatalf("metrics %v", m)
	}
}

func TestEchoLoadCatchesCorruption(t *testing.T) {
	addr := serveEcho(t, true)
	r, err := RunEchoLoad(context.Background(), EchoLoad{Addr: addr, Conns: 4, Size: 4096, Window: 100 * time.Millisecond, Drain: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mismatches != 4 {
		t.Fatalf("mismatches %d, want one per connection", r.Mismatches)
	}
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), "4 mismatches") {
		t.Fatalf("Check = %v, want a mismatch error", err)
	}
}

func TestEchoLoadCountsFailedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r, err := RunEchoLoad(context.Background(), EchoLoad{Addr: addr, Conns: 2, Size: 64, Window: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.DialErrors != 2 || r.Check() == nil {
		t.Fatalf("conn failures %d, Check %v", r.DialErrors, r.Check())
	}
	if _, err := RunEchoLoad(context.Background(), EchoLoad{Addr: addr, Conns: 1, Size: 7, Window: time.Second}); err == nil {
		t.Fatal("a message smaller than its 8-byte sequence number must be refused")
	}
}
