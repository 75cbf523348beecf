package hub

import (
	"context"
)

// Recv receives from the Go channel ch cooperatively: a greenlet that would
// block parks instead (its run token goes to the next greenlet), so a
// greenlet may wait on a channel that another greenlet of its hub sends on.
// It returns the value and ok as a receive would (ok is false once ch is
// closed and drained), or ctx's cause if ctx ends first. A value ready at
// once is received whatever ctx's state. From a greenlet a Recv that waits
// is a cooperative point and a kill lands there; a value received just as
// the wait was cancelled is returned, not lost (the kill then lands at the
// next cooperative point). Outside a greenlet it is a select on ch and
// ctx.Done.
//
// While it waits, a helper goroutine of the call blocks on ch: a channel
// has no other way to be waited on off the run token. For waits on hub
// objects and several channels at once, see Select.
func Recv[T any](ctx context.Context, ch <-chan T) (v T, ok bool, err error) {
	select {
	case v, ok = <-ch:
		return v, ok, nil
	default:
	}
	if Current(ctx) == nil {
		select {
		case v, ok = <-ch:
			return v, ok, nil
		case <-ctx.Done():
			return v, false, context.Cause(ctx)
		}
	}
	got := false
	err = parkOn(ctx, "chan.recv", func(stop <-chan struct{}) {
		select {
		case v, ok = <-ch:
			got = true
		case <-stop:
		}
	})
	if got {
		return v, ok, nil // even if the wait was cancelled: the value is not lost
	}
	var zero T
	return zero, false, checkpointErr(ctx, err)
}

// Send sends v on the Go channel ch cooperatively, as Recv receives: a
// greenlet that would block parks instead. It returns nil once v is sent,
// or ctx's cause if ctx ends first (and then v was not sent). A send that
// can proceed at once does so whatever ctx's state. From a greenlet a Send
// that waits is a cooperative point and a kill lands there, unless v went
// out just as the wait was cancelled: then Send reports success and the
// kill lands at the next cooperative point. Sending on a closed channel
// panics, as a send does.
func Send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	default:
	}
	if Current(ctx) == nil {
		select {
		case ch <- v:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	sent := false
	err := parkOn(ctx, "chan.send", func(stop <-chan struct{}) {
		select {
		case ch <- v:
			sent = true
		case <-stop:
		}
	})
	if sent {
		return nil
	}
	return checkpointErr(ctx, err)
}

// parkOn parks the calling greenlet while op, on a helper goroutine, blocks
// on Go channels: op returns once one of them proceeds, or once stop is
// closed, which parkOn does when ctx ends or the greenlet is killed first.
// parkOn returns after op has returned, with the wait's error (nil if op
// ended the wait): what op received or sent is the caller's to look at in
// both cases, so that a value that went through just as the wait was
// cancelled is not lost. A panic in op (a send on a closed channel) is
// raised in the caller.
func parkOn(ctx context.Context, reason string, op func(stop <-chan struct{})) error {
	w := NewWaiter(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		defer func() {
			panicked = recover()
			w.Wake() // does nothing if the wait was cancelled
		}()
		op(stop)
	}()
	err := w.Wait(ctx, reason)
	if err != nil {
		close(stop)
	}
	<-done // at once: op has woken us, or stop is closed
	if panicked != nil {
		panic(panicked)
	}
	return err
}

// checkpointErr lands a pending kill after a cancelled wait and returns the
// error to report.
func checkpointErr(ctx context.Context, err error) error {
	if cerr := Checkpoint(ctx); cerr != nil {
		return cerr
	}
	return err
}
