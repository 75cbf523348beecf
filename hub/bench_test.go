package hub

import (
	"context"
	"testing"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
)

// BenchmarkSwitch: two tasks handing control back and forth; ns/op is per
// hand-off. The unbuffered-channel ping-pong is the baseline:
// go test -run=^$ -bench=Switch ./hub/
func BenchmarkSwitch(b *testing.B) {
	b.Run("chan-pingpong", func(b *testing.B) {
		b.ReportAllocs()
		ping, pong := make(chan struct{}), make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range ping {
				pong <- struct{}{}
			}
		}()
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				ping <- struct{}{}
			} else {
				<-pong
			}
		}
		if b.N%2 == 1 {
			<-pong
		}
		close(ping)
		<-done
	})
	b.Run("greenlet-yield", func(b *testing.B) {
		h := MustNew()
		defer h.Stop(context.Background())
		b.ReportAllocs()
		n := b.N
		count := 0
		b.ResetTimer()
		_ = h.Run(context.Background(), func(ctx context.Context) error {
			other := h.spawn(ctx, sched.Task{Run: func(ctx context.Context) error {
				for count < n {
					count++
					if err := Yield(ctx); err != nil {
						return err
					}
				}
				return nil
			}})
			for count < n {
				count++
				if err := Yield(ctx); err != nil {
					return err
				}
			}
			Blocking(ctx, "join", func(context.Context) error { <-other.Dead(); return nil })
			return nil
		})
		if count < n {
			b.Fatalf("only %d hand-offs", count)
		}
	})
}

// BenchmarkSleep: one sleep of 1 µs per op, for allocations per Sleep (the
// time is the timer's, not the hub's). Baseline: time.Sleep in a goroutine.
// go test -run=^$ -bench=Sleep -benchmem ./hub/
func BenchmarkSleep(b *testing.B) {
	b.Run("goroutine-time.Sleep", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			time.Sleep(time.Microsecond)
		}
	})
	b.Run("greenlet-hub.Sleep", func(b *testing.B) {
		h := MustNew()
		defer h.Stop(context.Background())
		b.ReportAllocs()
		b.ResetTimer()
		_ = h.Run(context.Background(), func(ctx context.Context) error {
			for range b.N {
				if err := Sleep(ctx, time.Microsecond); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// BenchmarkBlocking: one Blocking call from a greenlet (fn returns at once),
// against the plain-Go equivalent, a goroutine and a channel hand-off:
// go test -run=^$ -bench=Blocking ./hub/
func BenchmarkBlocking(b *testing.B) {
	b.Run("go-chan", func(b *testing.B) {
		b.ReportAllocs()
		done := make(chan error)
		for b.Loop() {
			go func() { done <- nil }()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hub.Blocking", func(b *testing.B) {
		b.ReportAllocs()
		h := MustNew()
		defer h.Stop(context.Background())
		if err := h.Run(context.Background(), func(ctx context.Context) error {
			for b.Loop() {
				if err := Blocking(ctx, "bench", func(context.Context) error { return nil }); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	})
}
