package hub

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// The main greenlet parks in WaitSignal while the hub's other greenlets
// run, and wakes with the signal.
func TestWaitSignal(t *testing.T) {
	h := newTestHub(t)
	ticks := 0
	run(t, h, func(ctx context.Context) error {
		var waiting Event
		spawn(ctx, h, "ticker", func(ctx context.Context) error {
			waiting.Wait(ctx)
			for range 3 {
				ticks++ // runs while the main greenlet waits for the signal
				if err := Yield(ctx); err != nil {
					return err
				}
			}
			return syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		})
		waiting.Set()
		sig, err := WaitSignal(ctx, syscall.SIGUSR1)
		if err != nil || sig != syscall.SIGUSR1 {
			t.Errorf("WaitSignal = %v, %v", sig, err)
		}
		if ticks != 3 {
			t.Errorf("%d ticks while waiting, want 3", ticks)
		}
		tctx := timeout(t, ctx, 20*time.Millisecond)
		if _, err := WaitSignal(tctx, syscall.SIGUSR1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitSignal with an expiring ctx: %v", err)
		}
		return nil
	})
}

// OnSignal runs the handler in a greenlet of the hub for each signal.
func TestOnSignal(t *testing.T) {
	h := newTestHub(t)
	handled := make(chan *Hub, 2)
	var stop func()
	run(t, h, func(ctx context.Context) error {
		stop = OnSignal(ctx, func(ctx context.Context, sig os.Signal) error {
			if sig != syscall.SIGUSR2 {
				t.Errorf("signal %v", sig)
			}
			handled <- Current(ctx).Hub()
			return nil
		}, syscall.SIGUSR2)
		return nil
	})
	for range 2 { // one at a time: signals in a burst may merge
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-handled:
			if got != h {
				t.Fatalf("handler ran on hub %p, want %p", got, h)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no handler ran")
		}
	}
	stop()
	stop()
}
