package httpserver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll/httpserver"
)

var helloBody = []byte("Hello, World!")

var helloHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(helloBody)
})

// BenchmarkServe: keep-alive GETs over 16 connections, one request in
// flight on each, from plain goroutines with raw sockets (so the client
// costs little), against this package's server and net/http's. The bench/
// harness has the wrk version, with the servers in their own processes.
func BenchmarkServe(b *testing.B) {
	b.Run("httpserver", func(b *testing.B) {
		h := hub.MustNew()
		defer h.Stop(context.Background())
		srv, err := httpserver.New("127.0.0.1:0", helloHandler, httpserver.WithHubs(h))
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer srv.Stop(context.Background())
		load(b, srv.Addr().String())
	})
	b.Run("nethttp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: helloHandler}
		go srv.Serve(ln)
		defer srv.Close()
		load(b, ln.Addr().String())
	})
}

func load(b *testing.B, addr string) {
	const conns = 16
	b.ReportAllocs()
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	per := b.N/conns + 1
	b.ResetTimer()
	for range conns {
		wg.Go(func() {
			err := func() error {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					return err
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(time.Minute))
				buf := make([]byte, 4096)
				for range per {
					if _, err := c.Write(req); err != nil {
						return err
					}
					n := 0
					for !bytes.HasSuffix(buf[:n], helloBody) {
						m, err := c.Read(buf[n:])
						if err != nil {
							return fmt.Errorf("after %q: %w", buf[:n], err)
						}
						n += m
					}
				}
				return nil
			}()
			if err != nil && err != io.EOF {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}
