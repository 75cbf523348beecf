package monkey_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/spawn"
)

// BenchmarkConcurrentGets: 100 workers GET a local server whose handler
// takes 20 ms, b.N requests in all; req/s is the figure to compare. The
// peer, plain goroutines with net/http, runs in the same benchmark:
//
//	go test -run '^$' -bench ConcurrentGets -benchtime 2000x -count 3 ./monkey/
//
// Both sides use the same transport settings (the default transport's, with
// enough idle connections kept for 100 workers, so neither side re-dials).
func BenchmarkConcurrentGets(b *testing.B) {
	const workers, latency = 100, 20 * time.Millisecond
	srv := newSlowServer(b, latency)
	newTransport := func() *http.Transport {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = workers, workers
		return t
	}
	get := func(ctx context.Context, client *http.Client) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	report := func(b *testing.B, failed int64) {
		if failed > 0 {
			b.Fatalf("%d requests failed", failed)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}

	b.Run("goroutines", func(b *testing.B) {
		tr := newTransport()
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		var next, failed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					if get(context.Background(), client) != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		report(b, failed.Load())
	})

	patched := func(dial monkey.DialFunc) func(b *testing.B) {
		return func(b *testing.B) {
			orig := http.DefaultTransport
			tr := newTransport()
			http.DefaultTransport = tr
			monkey.PatchAll() // wraps a clone of tr, as it would the default
			prev := monkey.SetDialFunc(dial)
			defer func() {
				monkey.SetDialFunc(prev)
				monkey.Unpatch(monkey.All)
				http.DefaultTransport = orig
			}()
			h := hub.MustNew()
			defer h.Stop(context.Background())
			var next, failed atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			gs := make([]*spawn.Greenlet[struct{}], workers)
			for i := range gs {
				gs[i] = spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (struct{}, error) {
					for next.Add(1) <= int64(b.N) {
						if get(ctx, http.DefaultClient) != nil {
							failed.Add(1)
						}
					}
					return struct{}{}, nil
				})
			}
			if _, err := spawn.JoinAll(context.Background(), gs); err != nil {
				b.Fatal(err)
			}
			report(b, failed.Load())
		}
	}
	b.Run("patched-greenlets", patched(nil))
	b.Run("patched-greenlets-netpoll", patched(netpoll.DialContext))
}
