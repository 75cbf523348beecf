// Package seed runs the seed programs the way a gevent script runs: the
// program's body is the main greenlet of a hub, so the greenlets it spawns
// start only when it reaches a cooperative point, and when the body returns
// the program ends, killing whatever greenlets are still running (as a gevent
// script's exit abandons them).
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/gevent-go/gevent/hub"
)

// Body is a seed program: it runs as the main greenlet and tells on w what
// it does.
type Body func(ctx context.Context, w io.Writer) error

// stopGrace bounds how long Run waits for the greenlets it kills at the end.
const stopGrace = 5 * time.Second

// Run runs body as the main greenlet of a new hub, blocking until it
// returns; then it stops the hub, killing the greenlets still alive, and
// waits (up to five seconds) for them to end. It returns body's error,
// joined with the hub's if stopping failed and with every failure of a
// greenlet that nobody observed (so a test of a seed sees them). Greenlets
// killed because the program ended are not failures: a gevent script's exit
// ends its greenlets the same way.
func Run(ctx context.Context, w io.Writer, body Body) error {
	var (
		mu         sync.Mutex
		unobserved []error
	)
	h, err := hub.New(hub.WithErrorHandler(func(g *hub.G, err error) {
		if errors.Is(err, hub.ErrHubStopped) {
			return
		}
		name := "?"
		if g != nil {
			name = g.Name()
		}
		mu.Lock()
		defer mu.Unlock()
		unobserved = append(unobserved, fmt.Errorf("greenlet %s failed: %w", name, err))
	}))
	if err != nil {
		return err
	}
	runErr := h.Run(ctx, func(ctx context.Context) error { return body(ctx, w) })
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
	defer cancel()
	stopErr := h.Stop(stopCtx)
	mu.Lock()
	defer mu.Unlock()
	return errors.Join(append([]error{runErr, stopErr}, unobserved...)...)
}

// Main is a seed program's main function: it runs body on stdout, stops on
// Ctrl-C, and exits with status 1 after printing body's error.
func Main(body Body) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := Run(ctx, os.Stdout, body)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
