package hub

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The seeds' producer/consumer program with a joinable queue: several
// producers and consumers, and Join (not sentinel values) to know that all
// the work is done; then a shutdown ends the consumers' range loops.
func TestSeedProducerConsumer(t *testing.T) {
	h := newTestHub(t)
	q := NewQueue[int](5)
	const producers, items, consumers = 3, 40, 4
	run(t, h, func(ctx context.Context) error {
		processed := make(map[int]int)
		perConsumer := make([]int, consumers)
		var cons []*G
		for c := range consumers {
			cons = append(cons, spawn(ctx, h, fmt.Sprint("consumer-", c), func(ctx context.Context) error {
				for v := range q.All(ctx) {
					Yield(ctx) // "work"
					processed[v]++
					perConsumer[c]++
					if err := q.TaskDone(); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		var prods []*G
		for p := range producers {
			prods = append(prods, spawn(ctx, h, fmt.Sprint("producer-", p), func(ctx context.Context) error {
				for i := range items {
					if err := q.Put(ctx, p*items+i); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		for _, g := range prods {
			join(ctx, g)
		}
		if err := q.Join(ctx); err != nil {
			return err
		}
		// Join returned: every item was processed, exactly once.
		if len(processed) != producers*items {
			t.Errorf("%d items processed at Join, want %d", len(processed), producers*items)
		}
		for v, n := range processed {
			if n != 1 {
				t.Errorf("item %d processed %d times", v, n)
			}
		}
		for c, n := range perConsumer {
			if n == 0 {
				t.Errorf("consumer %d did no work (getters are served FIFO)", c)
			}
		}
		q.Shutdown()
		for _, g := range cons {
			join(ctx, g)
		}
		return nil
	})
}

// The seeds' traffic light: a light greenlet raises an Event for green and
// clears it for red; cars wait on it. Every car crosses while the light is
// green, cars that arrive on red wait, and all of them cross. Fake clock.
func TestSeedTrafficLight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newBubbleHub(t)
		var green Event
		run(t, h, func(ctx context.Context) error {
			isGreen := false
			spawn(ctx, h, "light", func(ctx context.Context) error {
				for range 3 {
					isGreen = true
					green.Set()
					if err := Sleep(ctx, 10*time.Millisecond); err != nil {
						return err
					}
					isGreen = false
					green.Clear()
					if err := Sleep(ctx, 10*time.Millisecond); err != nil {
						return err
					}
				}
				return nil
			})
			crossed, waited := 0, 0
			for i := range 10 {
				spawn(ctx, h, fmt.Sprint("car-", i), func(ctx context.Context) error {
					if err := Sleep(ctx, time.Duration(3*i)*time.Millisecond+1500*time.Microsecond); err != nil {
						return err
					}
					if !green.IsSet() {
						waited++
					}
					if green.Wait(ctx) != nil {
						return context.Cause(ctx)
					}
					if !isGreen {
						t.Errorf("car %d crossed on red", i)
					}
					crossed++
					return nil
				})
			}
			h.Wait(ctx)
			// Cars arrive at 1.5, 4.5, ..., 28.5 ms; red is [10, 20) ms.
			if crossed != 10 || waited != 4 {
				t.Errorf("%d cars crossed, %d waited; want 10, 4", crossed, waited)
			}
			return nil
		})
	})
}

// The seeds' KTV room: a Semaphore(4) admits at most four singers at a time;
// ten singers all get their turn, and the room is full at its peak. Run with
// one and with two run tokens (with two, singers really run in parallel).
func TestSeedKTVRoom(t *testing.T) {
	for _, p := range []int{1, 2} {
		t.Run(fmt.Sprint("P=", p), func(t *testing.T) {
			h := newTestHub(t, WithParallelism(p))
			room := NewSemaphore(4)
			var inside, peak, sang atomic.Int32
			run(t, h, func(ctx context.Context) error {
				for i := range 10 {
					spawn(ctx, h, fmt.Sprint("singer-", i), func(ctx context.Context) error {
						if err := room.Acquire(ctx); err != nil {
							return err
						}
						defer room.Release()
						n := inside.Add(1)
						for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
						}
						if n > 4 {
							t.Errorf("%d singers in the room", n)
						}
						err := Sleep(ctx, time.Duration(i%3+1)*time.Millisecond)
						inside.Add(-1)
						sang.Add(1)
						return err
					})
				}
				h.Wait(ctx)
				return nil
			})
			if sang.Load() != 10 || peak.Load() != 4 || room.Available() != 4 {
				t.Errorf("%d sang, peak %d, %d permits free; want 10, 4, 4", sang.Load(), peak.Load(), room.Available())
			}
		})
	}
}
