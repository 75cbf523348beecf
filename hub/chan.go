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
	w := NewWaiter(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	got := false
	go func() {
		defer close(done)
		select {
		case v, ok = <-ch:
			got = true
			w.Wake()
		case <-stop:
		}
	}()
	if err := w.Wait(ctx, "chan.recv"); err != nil {
		close(stop)
		<-done // the helper returns at once: stop is closed
		if got {
			return v, ok, nil
		}
		var zero T
		if cerr := Checkpoint(ctx); cerr != nil {
			err = cerr
		}
		return zero, false, err
	}
	return v, ok, nil
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
	w := NewWaiter(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	sent := false
	var panicked any
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil { // a closed channel: the caller panics
				panicked = r
				w.Wake()
			}
		}()
		select {
		case ch <- v:
			sent = true
			w.Wake()
		case <-stop:
		}
	}()
	err := w.Wait(ctx, "chan.send")
	if err != nil {
		close(stop)
	}
	<-done // at once: the helper has woken us, or stop is closed
	switch {
	case panicked != nil:
		panic(panicked)
	case sent:
		return nil
	}
	if cerr := Checkpoint(ctx); cerr != nil {
		err = cerr
	}
	return err
}
