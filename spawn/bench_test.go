package spawn_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/spawn"
)

// The raw-goroutine baselines live beside our variants so that one run gives
// the ratio: go test -run=^$ -bench=. -benchmem ./spawn/

const spawnBatch = 200_000

// BenchmarkSpawnJoin: spawn+join of many trivial tasks, per task.
func BenchmarkSpawnJoin(b *testing.B) {
	b.Run("raw-go-waitgroup", func(b *testing.B) {
		b.ReportAllocs()
		var sink int64
		var mu sync.Mutex
		for b.Loop() {
			var wg sync.WaitGroup
			for i := range spawnBatch {
				wg.Go(func() {
					if i < 0 {
						mu.Lock()
						sink++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spawnBatch), "ns/task")
	})
	b.Run("greenlets-plain-caller", func(b *testing.B) {
		h := hub.MustNew(hub.WithMonitor(0, nil)) // spawning 200k without a yield is the point here
		defer h.Stop(context.Background())
		ctx := context.Background()
		b.ReportAllocs()
		gs := make([]*spawn.Greenlet[int], spawnBatch)
		for b.Loop() {
			for i := range gs {
				gs[i] = spawn.Spawn(hub.NewContext(ctx, h), func(context.Context) (int, error) { return i, nil })
			}
			if _, err := spawn.JoinAll(ctx, gs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spawnBatch), "ns/task")
	})
	for _, p := range []int{1, 2} {
		name := "greenlets-main-greenlet"
		if p > 1 {
			name += "-p2"
		}
		b.Run(name, func(b *testing.B) {
			h := hub.MustNew(hub.WithMonitor(0, nil), hub.WithParallelism(p)) // spawning 200k without a yield is the point here
			defer h.Stop(context.Background())
			b.ReportAllocs()
			gs := make([]*spawn.Greenlet[int], spawnBatch)
			for b.Loop() {
				_ = h.Run(context.Background(), func(ctx context.Context) error {
					for i := range gs {
						gs[i] = spawn.Spawn(ctx, func(context.Context) (int, error) { return i, nil })
					}
					_, err := spawn.JoinAll(ctx, gs)
					return err
				})
			}
			for i, g := range gs {
				if g.Value() != i {
					b.Fatalf("greenlet %d returned %d", i, g.Value())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spawnBatch), "ns/task")
		})
	}
}

const sleepers = 100_000

// BenchmarkSleepMany: 100k tasks each sleeping 10 ms; wall time per batch and
// the memory the runtime obtained from the OS during it.
func BenchmarkSleepMany(b *testing.B) {
	b.Run("raw-goroutines", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			for range sleepers {
				wg.Go(func() { time.Sleep(10 * time.Millisecond) })
			}
			wg.Wait()
		}
		reportSys(b)
	})
	b.Run("greenlets", func(b *testing.B) {
		h := hub.MustNew(hub.WithMonitor(0, nil)) // spawning 200k without a yield is the point here
		defer h.Stop(context.Background())
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Run(context.Background(), func(ctx context.Context) error {
				for range sleepers {
					hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error { return hub.Sleep(ctx, 10*time.Millisecond) }})
				}
				return nil
			})
			h.Wait(context.Background())
		}
		reportSys(b)
	})
}

func reportSys(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/1e6, "MB-sys")
}

const parkedN = 20_000

// BenchmarkParkedMemory: bytes of stack and heap held per parked task.
func BenchmarkParkedMemory(b *testing.B) {
	measure := func(b *testing.B, park func(release chan struct{}) func()) {
		b.ReportAllocs()
		var perTask float64
		for b.Loop() {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			release := make(chan struct{})
			wait := park(release)
			runtime.GC()
			runtime.ReadMemStats(&after)
			perTask = float64((after.StackInuse+after.HeapInuse)-(before.StackInuse+before.HeapInuse)) / parkedN
			close(release)
			wait()
		}
		b.ReportMetric(perTask, "B/parked")
	}
	b.Run("raw-goroutine-chan", func(b *testing.B) {
		measure(b, func(release chan struct{}) func() {
			var wg, started sync.WaitGroup
			started.Add(parkedN)
			for range parkedN {
				wg.Go(func() { started.Done(); <-release })
			}
			started.Wait()
			return wg.Wait
		})
	})
	b.Run("greenlet-sleep", func(b *testing.B) {
		measure(b, func(release chan struct{}) func() {
			// A fresh hub each time: a stopped hub's workers are gone, so the
			// next measurement does not find their stacks already in use.
			h := hub.MustNew(hub.WithMonitor(0, nil))
			var gs []*spawn.Greenlet[int]
			_ = h.Run(context.Background(), func(ctx context.Context) error {
				for range parkedN {
					gs = append(gs, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
						return 0, hub.Sleep(ctx, time.Hour)
					}))
				}
				return hub.Yield(ctx)
			})
			for h.Stats().Parked < parkedN {
				runtime.Gosched()
			}
			return func() {
				_ = spawn.KillAll(context.Background(), gs, nil)
				_ = h.Stop(context.Background())
			}
		})
	})
}

// hubsched is the hub's scheduler as the hub-level baseline drives it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
