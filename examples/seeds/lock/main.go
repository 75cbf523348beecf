// Seed "lock". The seed texts guard a shared balance with a lock:
//
//	lock = threading.Lock()
//	def change_it(n):
//	    with lock:
//	        balance = balance + n
//	rlock = threading.RLock()   # the holder may take it again
//
// Greenlets need a lock only where a cooperative point falls inside the
// critical section (between two cooperative points they cannot interleave,
// see the sharedstate seed). hub.Lock parks the greenlet that waits for it;
// a sync.Mutex would stall the whole hub instead. hub.RLock may be taken
// again by the greenlet that holds it, and only the holder may release it.
//
//	go run ./examples/seeds/lock
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

type none = struct{}

// deposit adds 100 to *balance five times, reading and writing around a
// slow step (a cooperative point), under lock if lock is not nil.
func deposit(balance *int, lock *hub.Lock) func(ctx context.Context) (none, error) {
	return func(ctx context.Context) (none, error) {
		for range 5 {
			if lock != nil {
				if err := lock.Lock(ctx); err != nil {
					return none{}, err
				}
			}
			v := *balance
			if err := hub.Sleep(ctx, time.Millisecond); err != nil { // the bank's slow ledger
				return none{}, err
			}
			*balance = v + 100
			if lock != nil {
				if err := lock.Unlock(); err != nil {
					return none{}, err
				}
			}
		}
		return none{}, nil
	}
}

func depositors(ctx context.Context, lock *hub.Lock) (int, error) {
	balance := 0
	var gs []*spawn.Greenlet[none]
	for range 3 {
		gs = append(gs, spawn.Spawn(ctx, deposit(&balance, lock)))
	}
	_, err := spawn.JoinAll(ctx, gs, spawn.RaiseError())
	return balance, err
}

func run(ctx context.Context, w io.Writer) error {
	b, err := depositors(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1. 3 depositors x 5 x 100 with no lock: balance %d (updates lost across the sleep)\n", b)
	b, err = depositors(ctx, &hub.Lock{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2. the same holding a hub.Lock across the sleep: balance %d\n", b)

	fmt.Fprintln(w, "3. an RLock taken again by its holder")
	var rl hub.RLock
	var visit func(ctx context.Context, depth int) error
	visit = func(ctx context.Context, depth int) error {
		if err := rl.Lock(ctx); err != nil {
			return err
		}
		defer rl.Unlock(ctx)
		fmt.Fprintf(w, "holder: locked at depth %d\n", depth)
		if depth < 3 {
			return visit(ctx, depth+1)
		}
		return nil
	}
	holder := spawn.Spawn(ctx, func(ctx context.Context) (none, error) {
		if err := rl.Lock(ctx); err != nil {
			return none{}, err
		}
		if err := hub.Sleep(ctx, 10*time.Millisecond); err != nil {
			return none{}, err
		}
		err := visit(ctx, 2)
		fmt.Fprintln(w, "holder: unlocking the outer level")
		return none{}, errors.Join(err, rl.Unlock(ctx))
	})
	other := spawn.Spawn(ctx, func(ctx context.Context) (none, error) {
		fmt.Fprintf(w, "other: unlocking a lock it does not hold: %v\n", rl.Unlock(ctx))
		if err := rl.Lock(ctx); err != nil {
			return none{}, err
		}
		fmt.Fprintln(w, "other: got the lock once the holder let go of every level")
		return none{}, rl.Unlock(ctx)
	})
	_, err = spawn.JoinAll(ctx, []*spawn.Greenlet[none]{holder, other}, spawn.RaiseError())
	return err
}
