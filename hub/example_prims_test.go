package hub_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// Workers block on an Event until the main greenlet raises it; they wake in
// the order they began to wait.
func ExampleEvent() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	var ready hub.Event
	h.Run(context.Background(), func(ctx context.Context) error {
		for i := range 3 {
			spawn.Go(ctx, func(ctx context.Context) error {
				ready.Wait(ctx)
				fmt.Println("worker", i, "starts")
				return nil
			})
		}
		hub.Yield(ctx) // the workers run until they block in Wait
		fmt.Println("ready")
		ready.Set()
		h.Wait(ctx)
		return nil
	})
	// Output:
	// ready
	// worker 0 starts
	// worker 1 starts
	// worker 2 starts
}

// A joinable queue: the producer knows all jobs are done when Join returns,
// without sentinel values; Shutdown then ends the worker's range loop.
func ExampleQueue() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	jobs := hub.NewQueue[string](2)
	h.Run(context.Background(), func(ctx context.Context) error {
		spawn.Go(ctx, func(ctx context.Context) error {
			for job := range jobs.All(ctx) {
				fmt.Println("did", job)
				jobs.TaskDone()
			}
			fmt.Println("worker stops")
			return nil
		}, spawn.WithName("worker"))
		for _, job := range []string{"a", "b", "c"} {
			jobs.Put(ctx, job) // blocks on "c" until the worker takes "a"
		}
		jobs.Join(ctx)
		fmt.Println("all done")
		jobs.Shutdown()
		h.Wait(ctx)
		return nil
	})
	// Output:
	// did a
	// did b
	// did c
	// all done
	// worker stops
}

// A room with two seats: at most two singers inside at a time, the others
// wait their turn in order.
func ExampleSemaphore() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	room := hub.NewSemaphore(2)
	h.Run(context.Background(), func(ctx context.Context) error {
		for i := range 4 {
			spawn.Go(ctx, func(ctx context.Context) error {
				if err := room.Acquire(ctx); err != nil {
					return err
				}
				defer room.Release()
				fmt.Println(i, "in")
				hub.Yield(ctx) // sing
				fmt.Println(i, "out")
				return nil
			})
		}
		h.Wait(ctx)
		return nil
	})
	// Output:
	// 0 in
	// 1 in
	// 0 out
	// 1 out
	// 2 in
	// 3 in
	// 2 out
	// 3 out
}

// Two greenlets talk through the ends of a duplex pipe; closing one end
// ends the other's stream with io.EOF.
func ExampleNewPipe() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	parent, child := hub.NewPipe[string](true)
	h.Run(context.Background(), func(ctx context.Context) error {
		spawn.Go(ctx, func(ctx context.Context) error {
			defer child.Close()
			child.Send(ctx, "hello")
			child.Send(ctx, "bye")
			return nil
		})
		for {
			msg, err := parent.Recv(ctx)
			if err == io.EOF {
				fmt.Println("EOF")
				return nil
			}
			fmt.Println(msg)
		}
	})
	// Output:
	// hello
	// bye
	// EOF
}

// latch is a primitive built on hub.Waiter: greenlets (or goroutines) wait
// until it opens. Its wait list is its own, under its own lock.
type latch struct {
	mu      sync.Mutex
	open    bool
	waiters []*hub.Waiter
}

// Wait parks until the latch opens, or returns ctx's cause; a kill lands here.
func (l *latch) Wait(ctx context.Context) error {
	l.mu.Lock()
	if l.open {
		l.mu.Unlock()
		return nil
	}
	w := hub.NewWaiter(ctx)
	l.waiters = append(l.waiters, w)
	l.mu.Unlock()
	return w.Park(ctx, "latch", func() { // no wake-up: leave the list
		l.mu.Lock()
		l.waiters = slices.DeleteFunc(l.waiters, func(x *hub.Waiter) bool { return x == w })
		l.mu.Unlock()
	})
}

// Open opens the latch and wakes every waiter, in the order they came.
func (l *latch) Open() {
	l.mu.Lock()
	l.open = true
	ws := l.waiters
	l.waiters = nil
	l.mu.Unlock()
	for _, w := range ws {
		w.Wake()
	}
}

// A new primitive needs only a Waiter per blocked caller: Park parks the
// greenlet, and its undo takes a waiter that gave up off the list before
// anything else runs.
func ExampleWaiter() {
	h := hub.MustNew()
	defer h.Stop(context.Background())
	var l latch
	_ = h.Run(context.Background(), func(ctx context.Context) error {
		spawn.Go(ctx, func(ctx context.Context) error {
			tctx, cancel := context.WithTimeout(ctx, time.Millisecond)
			defer cancel()
			fmt.Println("impatient:", l.Wait(tctx))
			return nil
		})
		spawn.Go(ctx, func(ctx context.Context) error {
			if err := l.Wait(ctx); err != nil {
				return err
			}
			fmt.Println("patient: through")
			return nil
		})
		if err := hub.Sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
		l.mu.Lock()
		fmt.Println("waiting at the latch:", len(l.waiters))
		l.mu.Unlock()
		l.Open()
		return h.Wait(ctx)
	})
	// Output:
	// impatient: context deadline exceeded
	// waiting at the latch: 1
	// patient: through
}
