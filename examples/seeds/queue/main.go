// Seed "queue". The seed texts pass work from producers to consumers
// through a queue:
//
//	q = multiprocessing.Queue()        # or queue.Queue(), gevent.queue.Queue()
//	Process(target=producer, args=(q,)).start(); Process(target=consumer, args=(q,)).start()
//	q.put(item); item = q.get()
//
// hub.Queue[T] is gevent's Queue, typed: Put parks a greenlet while a
// bounded queue is full, Get parks it while the queue is empty, and both
// serve waiters first come, first served. Instead of a sentinel value
// (None) to stop the consumers, the producer side shuts the queue down:
// the consumers' range over q.All ends once they have taken every item.
//
//	go run ./examples/seeds/queue
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

type none = struct{}

func run(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "1. one producer, one slow consumer, a queue of 2")
	q := hub.NewQueue[string](2)
	producer := spawn.Spawn(ctx, func(ctx context.Context) (none, error) {
		defer q.Shutdown() // no more items: the consumer stops once it has them all
		for i := 1; i <= 5; i++ {
			item := fmt.Sprintf("item-%d", i)
			fmt.Fprintf(w, "producer: putting %s\n", item)
			if err := q.Put(ctx, item); err != nil {
				return none{}, err
			}
		}
		fmt.Fprintln(w, "producer: done")
		return none{}, nil
	})
	consumer := spawn.Spawn(ctx, func(ctx context.Context) (none, error) {
		for item := range q.All(ctx) {
			fmt.Fprintf(w, "consumer: got %s\n", item)
			if err := hub.Sleep(ctx, 10*time.Millisecond); err != nil {
				return none{}, err
			}
		}
		fmt.Fprintln(w, "consumer: the queue is shut down and empty")
		return none{}, ctx.Err()
	})
	if _, err := spawn.JoinAll(ctx, []*spawn.Greenlet[none]{producer, consumer}, spawn.RaiseError()); err != nil {
		return err
	}

	fmt.Fprintln(w, "2. three producers, two consumers, an unbounded queue")
	nums := hub.NewQueue[int](0)
	var producers, consumers []*spawn.Greenlet[none]
	for p := 1; p <= 3; p++ {
		producers = append(producers, spawn.Spawn(ctx, func(ctx context.Context) (none, error) {
			for i := 1; i <= 3; i++ {
				if err := nums.Put(ctx, p*100+i); err != nil {
					return none{}, err
				}
				if err := hub.Sleep(ctx, time.Duration(p)*7*time.Millisecond); err != nil {
					return none{}, err
				}
			}
			return none{}, nil
		}))
	}
	got := map[int][]int{}
	for c := 1; c <= 2; c++ {
		consumers = append(consumers, spawn.Spawn(ctx, func(ctx context.Context) (none, error) {
			for v := range nums.All(ctx) {
				got[c] = append(got[c], v)
				if err := hub.Sleep(ctx, 5*time.Millisecond); err != nil {
					return none{}, err
				}
			}
			return none{}, ctx.Err()
		}))
	}
	if _, err := spawn.JoinAll(ctx, producers, spawn.RaiseError()); err != nil {
		return err
	}
	nums.Shutdown()
	if _, err := spawn.JoinAll(ctx, consumers, spawn.RaiseError()); err != nil {
		return err
	}
	fmt.Fprintf(w, "consumer 1 got %v\nconsumer 2 got %v\n", got[1], got[2])
	fmt.Fprintf(w, "%d items in all, none lost, none twice\n", len(got[1])+len(got[2]))
	return nil
}
