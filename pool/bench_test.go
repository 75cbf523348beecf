package pool_test

import (
	"context"
	"sync"
	"testing"

	"github.com/panjf2000/ants/v2"
	"golang.org/x/sync/errgroup"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
)

const mapItems = 200_000

func double(_ context.Context, x int) (int, error) { return 2 * x, nil }

func inputs() []int {
	in := make([]int, mapItems)
	for i := range in {
		in[i] = i
	}
	return in
}

func perItem(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mapItems), "ns/item")
}

// runIn runs body as the main greenlet of a fresh hub.
func runIn(b *testing.B, body func(ctx context.Context) error) {
	h := hub.MustNew()
	defer func() {
		if err := h.Stop(context.Background()); err != nil {
			b.Fatal(err)
		}
	}()
	if err := h.Run(context.Background(), body); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPoolMap: Pool(100).Map over 200k trivial items, beside
// errgroup.SetLimit(100) and an ants pool of 100 doing the same work.
func BenchmarkPoolMap(b *testing.B) {
	in := inputs()
	b.Run("pool", func(b *testing.B) {
		runIn(b, func(ctx context.Context) error {
			p := pool.New(100)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				out, err := pool.Map(ctx, p, in, double)
				if err != nil || out[mapItems-1] != 2*(mapItems-1) {
					b.Fatal(err)
				}
			}
			perItem(b)
			return nil
		})
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var g errgroup.Group
			g.SetLimit(100)
			out := make([]int, len(in))
			for i, x := range in {
				g.Go(func() error {
					out[i], _ = double(nil, x)
					return nil
				})
			}
			if err := g.Wait(); err != nil || out[mapItems-1] != 2*(mapItems-1) {
				b.Fatal(err)
			}
		}
		perItem(b)
	})
	b.Run("ants", func(b *testing.B) {
		ap, err := ants.NewPool(100)
		if err != nil {
			b.Fatal(err)
		}
		defer ap.Release()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			var wg sync.WaitGroup
			out := make([]int, len(in))
			for i, x := range in {
				wg.Add(1)
				if err := ap.Submit(func() {
					out[i], _ = double(nil, x)
					wg.Done()
				}); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			if out[mapItems-1] != 2*(mapItems-1) {
				b.Fatal("wrong result")
			}
		}
		perItem(b)
	})
}
