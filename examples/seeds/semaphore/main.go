// Seed "semaphore". The seed texts' KTV has 4 rooms and more customers
// than rooms; a customer waits for a free room:
//
//	rooms = threading.Semaphore(4)   # or gevent.lock.Semaphore(4)
//	def customer(n):
//	    with rooms: sing()
//
// hub.Semaphore(4) hands out 4 permits; Acquire parks a greenlet while none
// is free, and Release passes the permit to the customer who has waited
// longest.
//
//	go run ./examples/seeds/semaphore
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

const (
	rooms     = 4
	customers = 10
	song      = 100 * time.Millisecond
)

func run(ctx context.Context, w io.Writer) error {
	ktv := hub.NewSemaphore(rooms)
	busy, most := 0, 0
	start := time.Now()
	var gs []*spawn.Greenlet[struct{}]
	for c := 1; c <= customers; c++ {
		gs = append(gs, spawn.Go(ctx, func(ctx context.Context) error {
			if err := ktv.Acquire(ctx); err != nil {
				return err
			}
			defer ktv.Release()
			busy++
			most = max(most, busy)
			fmt.Fprintf(w, "%4v customer %2d: gets a room (%d busy)\n", time.Since(start).Round(10*time.Millisecond), c, busy)
			err := hub.Sleep(ctx, song)
			busy--
			fmt.Fprintf(w, "%4v customer %2d: leaves\n", time.Since(start).Round(10*time.Millisecond), c)
			return err
		}))
	}
	if _, err := spawn.JoinAll(ctx, gs, spawn.RaiseError()); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d customers, %d rooms: at most %d rooms busy at once; all done after %v\n",
		customers, rooms, most, time.Since(start).Round(10*time.Millisecond))
	return nil
}
