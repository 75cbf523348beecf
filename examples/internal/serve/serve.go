// Package serve is the frame the server examples share, gevent style: the
// program's body is a hub's main greenlet, which starts a server, then
// either waits for SIGINT or SIGTERM (hub.WaitSignal) or checks the server
// with a load of its own, and then stops it gracefully. Command parses the
// flags the programs share (-serve, -addr, -max-handlers, -grace) with
// their own.
package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/spawn"
)

// Server is what the examples serve: netpoll's servers and the HTTP one.
type Server interface {
	Addr() net.Addr
	Stop(ctx context.Context) error
}

// Frame says what the main greenlet does.
type Frame struct {
	Name   string        // prefixes the messages on Stderr
	Stderr io.Writer     // for the messages
	Serve  bool          // serve until a signal, rather than check
	Grace  time.Duration // how long the stop lets work in progress finish
	About  string        // said after the address when serving, if not empty
	// Start starts the server, on the hub of ctx (the main greenlet's).
	Start func(ctx context.Context) (Server, error)
	// Check runs against the server and reports whether all went right.
	Check func(ctx context.Context, addr net.Addr) (bool, error)
}

// Run creates the hub, runs the frame as its main greenlet, stops the hub
// and netpoll's event loops, and returns the exit status: 0, or 1 when
// something failed or Check found a fault.
func Run(ctx context.Context, f Frame) int {
	h := hub.MustNew()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Stop(sctx)
		_ = netpoll.Shutdown(sctx)
	}()
	ok := true
	err := h.Run(ctx, func(ctx context.Context) error {
		srv, err := f.Start(ctx)
		if err != nil {
			return err
		}
		// "name: serving on addr (about; Ctrl-C to stop)"
		var notes []string
		if f.About != "" {
			notes = append(notes, f.About)
		}
		if f.Serve {
			notes = append(notes, "Ctrl-C to stop")
		}
		serving := fmt.Sprintf("%s: serving on %s", f.Name, srv.Addr())
		if len(notes) > 0 {
			serving += " (" + strings.Join(notes, "; ") + ")"
		}
		if f.Serve {
			// Spawned greenlets start when their spawner reaches a
			// cooperative point: this one prints once the main greenlet
			// waits in WaitSignal, that is, once the signals are caught,
			// so a supervisor that signals on this line cannot hit the
			// signal's default action.
			spawn.Go(ctx, func(context.Context) error {
				fmt.Fprintln(f.Stderr, serving)
				return nil
			})
			sig, err := hub.WaitSignal(ctx, os.Interrupt, syscall.SIGTERM)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.Stderr, "%s: %v: stopping\n", f.Name, sig)
		} else {
			fmt.Fprintln(f.Stderr, serving)
			if ok, err = f.Check(ctx, srv.Addr()); err != nil {
				return err
			}
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.Grace)
		defer cancel()
		if err := srv.Stop(sctx); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
		fmt.Fprintf(f.Stderr, "%s: stopped gracefully\n", f.Name)
		return nil
	})
	if err != nil {
		fmt.Fprintf(f.Stderr, "%s: %v\n", f.Name, err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}
