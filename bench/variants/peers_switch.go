package variants

import (
	"fmt"
	"iter"
	"sync/atomic"

	"github.com/gevent-go/gevent/bench/harness"
)

// Go peers of switch (two tasks alternating) and queue (bounded
// producer/consumer).
func init() {
	pingPong := func(b *harness.B) error {
		b.SetOps(2 * b.N)
		ping, pong := make(chan int), make(chan int)
		go func() {
			for v := range ping {
				pong <- v + 1
			}
			close(pong)
		}()
		for i := range b.N {
			ping <- 2 * i
			if v := <-pong; v != 2*i+1 {
				close(ping)
				return fmt.Errorf("switch: got %d, want %d", v, 2*i+1)
			}
		}
		close(ping)
		<-pong
		return nil
	}
	goMicro("switch", "chan", "unbuffered channel ping-pong between two goroutines", pingPong)
	goMicro("switch", "chan_p1", "unbuffered channel ping-pong, GOMAXPROCS=1", pingPong, p1)
	goMicro("switch", "iter_pull", "iter.Pull coroutine switch (the runtime's floor)", func(b *harness.B) error {
		b.SetOps(2 * b.N)
		next, stop := iter.Pull(func(yield func(int) bool) {
			for i := 0; yield(i); i++ {
			}
		})
		defer stop()
		for i := range b.N {
			if v, ok := next(); !ok || v != i {
				return fmt.Errorf("switch: pulled %d (ok=%v), want %d", v, ok, i)
			}
		}
		return nil
	})

	queue := func(b *harness.B) error {
		ch := make(chan int, queueCap)
		var sum atomic.Int64
		done := make(chan struct{})
		go func() {
			var s int64
			for v := range ch {
				s += int64(v)
			}
			sum.Store(s)
			close(done)
		}()
		for i := 1; i <= b.N; i++ {
			ch <- i
		}
		close(ch)
		<-done
		return checkSum(sum.Load(), b.N)
	}
	goMicro("queue", "chan_buffered", fmt.Sprintf("make(chan int, %d), one producer, one consumer", queueCap), queue)
	goMicro("queue", "chan_buffered_p1", "buffered channel, GOMAXPROCS=1", queue, p1)
}
