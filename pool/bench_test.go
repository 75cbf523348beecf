package pool_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
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
					out[i], _ = double(context.Background(), x)
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
					out[i], _ = double(context.Background(), x)
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

// BenchmarkPoolMapVariants: the other map shapes over the same 200k items
// on Pool(100), for comparison with BenchmarkPoolMap/pool.
func BenchmarkPoolMapVariants(b *testing.B) {
	in := inputs()
	variants := []struct {
		name string
		run  func(ctx context.Context, p *pool.Pool) (int, error)
	}{
		{"map-seq", func(ctx context.Context, p *pool.Pool) (int, error) {
			out, err := pool.Map(ctx, p, slices.Values(in), double)
			return len(out), err
		}},
		{"imap", func(ctx context.Context, p *pool.Pool) (int, error) {
			return drain(pool.IMap(ctx, p, in, double))
		}},
		{"imap-unordered", func(ctx context.Context, p *pool.Pool) (int, error) {
			return drain(pool.IMapUnordered(ctx, p, in, double))
		}},
		{"imap-unordered-seq", func(ctx context.Context, p *pool.Pool) (int, error) {
			return drain(pool.IMapUnordered(ctx, p, slices.Values(in), double))
		}},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			runIn(b, func(ctx context.Context) error {
				p := pool.New(100)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if n, err := v.run(ctx, p); err != nil || n != mapItems {
						b.Fatal(n, err)
					}
				}
				perItem(b)
				return nil
			})
		})
	}
	// From a plain goroutine, members on an explicit hub.
	b.Run("map-from-goroutine", func(b *testing.B) {
		h := hub.MustNew()
		defer func() { _ = h.Stop(context.Background()) }()
		p := pool.New(100)
		hctx := hub.NewContext(context.Background(), h) // the members run on h
		b.ReportAllocs()
		for range b.N {
			if _, err := pool.Map(hctx, p, in, double); err != nil {
				b.Fatal(err)
			}
		}
		perItem(b)
	})
}

func drain(seq iter.Seq2[int, error]) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func noop(context.Context) (int, error) { return 0, nil }

// BenchmarkSpawnFull: spawning into a full pool, the blocking path: every
// Spawn past the first size ones waits for a slot. Beside errgroup's Go with
// SetLimit and ants' blocking Submit.
func BenchmarkSpawnFull(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("pool/size=%d", size), func(b *testing.B) {
			runIn(b, func(ctx context.Context) error {
				p := pool.New(size)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := pool.Spawn(ctx, p, noop).Err(); err != nil {
						b.Fatal(err)
					}
				}
				return p.Join(ctx)
			})
		})
		b.Run(fmt.Sprintf("errgroup/size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			var g errgroup.Group
			g.SetLimit(size)
			for range b.N {
				g.Go(func() error { _, err := noop(context.Background()); return err })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		})
		b.Run(fmt.Sprintf("ants/size=%d", size), func(b *testing.B) {
			ap, err := ants.NewPool(size)
			if err != nil {
				b.Fatal(err)
			}
			defer ap.Release()
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range b.N {
				wg.Add(1)
				if err := ap.Submit(func() { _, _ = noop(context.Background()); wg.Done() }); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		})
	}
}
