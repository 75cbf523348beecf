// Seed "event". The seed texts' traffic light is an Event: set means
// green, clear means red, and cars wait for green:
//
//	light = threading.Event()        # or gevent.event.Event()
//	def car(n):
//	    if not light.is_set(): print(n, 'waits'); light.wait()
//	    print(n, 'goes')
//
// hub.Event: Set wakes every waiting greenlet, first come first served;
// Clear turns the light red again without disturbing anyone; Wait parks a
// greenlet until the light is green.
//
//	go run ./examples/seeds/event
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

func run(ctx context.Context, w io.Writer) error {
	var green hub.Event
	start := time.Now()
	at := func() time.Duration { return time.Since(start).Round(5 * time.Millisecond) }

	light := spawn.Go(ctx, func(ctx context.Context) error {
		for cycle := 1; cycle <= 2; cycle++ {
			green.Set()
			fmt.Fprintf(w, "%5v light: green\n", at())
			if err := hub.Sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
			green.Clear()
			fmt.Fprintf(w, "%5v light: red\n", at())
			if err := hub.Sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
		green.Set()
		fmt.Fprintf(w, "%5v light: green, and it stays green\n", at())
		return nil
	}, spawn.WithName("light"))

	var cars []*spawn.Greenlet[struct{}]
	for car := 1; car <= 6; car++ {
		arrives := time.Duration(car) * 35 * time.Millisecond
		cars = append(cars, spawn.SpawnLater(ctx, arrives, func(ctx context.Context) (struct{}, error) {
			if !green.IsSet() {
				fmt.Fprintf(w, "%5v car %d: red, waits\n", at(), car)
				if green.Wait(ctx) != nil {
					return struct{}{}, ctx.Err()
				}
			}
			fmt.Fprintf(w, "%5v car %d: goes\n", at(), car)
			return struct{}{}, nil
		}))
	}
	_, err := spawn.JoinAll(ctx, append(cars, light), spawn.RaiseError())
	return err
}
