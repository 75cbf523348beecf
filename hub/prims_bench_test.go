package hub

import (
	"context"
	"testing"

	"github.com/gevent-go/gevent/internal/sched"
)

// The producer/consumer benchmarks move b.N ints through a buffer of 100
// from one producer to one consumer; ns/op is per item. Run with
// -benchtime=1000000x for the 1M items. The buffered Go channel
// between two goroutines is the peer baseline.
const benchCap = 100

func BenchmarkQueueProducerConsumer(b *testing.B) {
	b.Run("hub.Queue/greenlets", func(b *testing.B) {
		h := MustNew()
		defer h.Stop(context.Background())
		q := NewQueue[int](benchCap)
		b.ReportAllocs()
		b.ResetTimer()
		var sum int
		cons := h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
			for range b.N {
				v, err := q.Get(ctx)
				if err != nil {
					return err
				}
				sum += v
			}
			return nil
		}})
		h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
			for i := range b.N {
				if err := q.Put(ctx, i); err != nil {
					return err
				}
			}
			return nil
		}})
		<-cons.Dead()
		b.StopTimer()
		checkSum(b, sum)
	})
	b.Run("hub.Queue/goroutines", func(b *testing.B) {
		q := NewQueue[int](benchCap)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for i := range b.N {
				q.Put(ctx, i)
			}
		}()
		sum := 0
		for range b.N {
			v, _ := q.Get(ctx)
			sum += v
		}
		b.StopTimer()
		checkSum(b, sum)
	})
	b.Run("chan/goroutines", func(b *testing.B) {
		ch := make(chan int, benchCap)
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for i := range b.N {
				ch <- i
			}
		}()
		sum := 0
		for range b.N {
			sum += <-ch
		}
		b.StopTimer()
		checkSum(b, sum)
	})
}

func checkSum(b *testing.B, sum int) {
	if want := b.N * (b.N - 1) / 2; sum != want {
		b.Fatalf("sum %d, want %d: items lost or duplicated", sum, want)
	}
}

// The ping-pong benchmarks bounce control between two parties b.N times;
// ns/op is per round trip (two hand-offs). An unbuffered Go channel between
// two goroutines is the peer baseline.
func BenchmarkEventPingPong(b *testing.B) {
	b.Run("hub.Event/greenlets", func(b *testing.B) {
		h := MustNew()
		defer h.Stop(context.Background())
		var ping, pong Event
		rounds := 0
		b.ReportAllocs()
		b.ResetTimer()
		h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
			for range b.N {
				if ping.Wait(ctx) != nil {
					return context.Cause(ctx)
				}
				ping.Clear()
				pong.Set()
			}
			return nil
		}})
		pinger := h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
			for range b.N {
				ping.Set()
				if pong.Wait(ctx) != nil {
					return context.Cause(ctx)
				}
				pong.Clear()
				rounds++
			}
			return nil
		}})
		<-pinger.Dead()
		b.StopTimer()
		if rounds != b.N {
			b.Fatalf("%d rounds, want %d", rounds, b.N)
		}
	})
	// The hub's own floor for a hand-off: two greenlets alternating Yield.
	b.Run("hub.Yield/greenlets", func(b *testing.B) {
		h := MustNew()
		defer h.Stop(context.Background())
		b.ReportAllocs()
		b.ResetTimer()
		var gs [2]*G
		for i := range gs {
			gs[i] = h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
				for range b.N {
					if err := Yield(ctx); err != nil {
						return err
					}
				}
				return nil
			}})
		}
		<-gs[0].Dead()
		<-gs[1].Dead()
		b.StopTimer()
		if sw := h.Stats().Switches; sw < uint64(2*b.N-2) {
			b.Fatalf("%d switches for %d rounds", sw, b.N)
		}
	})
	b.Run("chan/goroutines", func(b *testing.B) {
		ping, pong := make(chan struct{}), make(chan struct{})
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for range ping {
				pong <- struct{}{}
			}
		}()
		for range b.N {
			ping <- struct{}{}
			<-pong
		}
		b.StopTimer()
		close(ping)
	})
}
