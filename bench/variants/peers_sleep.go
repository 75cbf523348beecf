package variants

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/panjf2000/ants/v2"
)

// Go peers of sleep_many and mem_parked.
func init() {
	goMicro("sleep_many", "go_sleep", "one goroutine per task, time.Sleep", func(b *harness.B) error {
		var n, short atomic.Int64
		var wg sync.WaitGroup
		wg.Add(b.N)
		for range b.N {
			go func() {
				defer wg.Done()
				t := time.Now()
				time.Sleep(sleepFor)
				if time.Since(t) < sleepFor {
					short.Add(1)
				}
				n.Add(1)
			}()
		}
		wg.Wait()
		return checkSlept(n.Load(), short.Load(), b.N)
	})
	goMicro("sleep_many", "go_afterfunc", "time.AfterFunc per task, no goroutine while waiting", func(b *harness.B) error {
		var n, short atomic.Int64
		var wg sync.WaitGroup
		wg.Add(b.N)
		for range b.N {
			t := time.Now()
			time.AfterFunc(sleepFor, func() {
				if time.Since(t) < sleepFor {
					short.Add(1)
				}
				n.Add(1)
				wg.Done()
			})
		}
		wg.Wait()
		return checkSlept(n.Load(), short.Load(), b.N)
	})

	goMicro("mem_parked", "go_chan", "goroutines blocked receiving from one channel, then released by close", func(b *harness.B) error {
		release := make(chan struct{})
		var started, done sync.WaitGroup
		var woke atomic.Int64
		started.Add(b.N)
		done.Add(b.N)
		for range b.N {
			go func() {
				defer done.Done()
				started.Done()
				<-release
				woke.Add(1)
			}()
		}
		started.Wait()
		b.Parked()
		close(release)
		done.Wait()
		return checkCount("mem_parked", woke.Load(), int64(b.N))
	})
	goMicro("mem_parked", "ants_unbounded", "ants.NewPool(-1) tasks blocked on one channel", func(b *harness.B) error {
		p, err := ants.NewPool(-1)
		if err != nil {
			return err
		}
		defer p.Release()
		release := make(chan struct{})
		var started, done sync.WaitGroup
		var woke atomic.Int64
		started.Add(b.N)
		done.Add(b.N)
		var subErr error
		for range b.N {
			err := p.Submit(func() {
				defer done.Done()
				started.Done()
				<-release
				woke.Add(1)
			})
			if err != nil {
				started.Done()
				done.Done()
				subErr = errors.Join(subErr, err)
			}
		}
		started.Wait()
		b.Parked()
		close(release)
		done.Wait()
		b.StopTimer()
		if subErr != nil {
			return subErr
		}
		return checkCount("mem_parked", woke.Load(), int64(b.N))
	})
}

// checkSlept fails unless all n tasks finished and none woke early.
func checkSlept(n, short int64, want int) error {
	if short > 0 {
		return fmt.Errorf("sleep_many: %d tasks woke before %v", short, sleepFor)
	}
	return checkCount("sleep_many", n, int64(want))
}
