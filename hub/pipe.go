package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// ErrPipeOneWay: Send on the receiving end, or Recv on the sending end, of a
// one-way pipe.
var ErrPipeOneWay = errors.New("hub: wrong direction on a one-way pipe end")

var (
	errPipeClosed = fmt.Errorf("hub: pipe end closed: %w", io.ErrClosedPipe)
	errPeerClosed = fmt.Errorf("hub: pipe peer closed: %w", io.ErrClosedPipe)
)

// PipeEnd is one end of a pipe made by NewPipe: the green-thread form of a
// multiprocessing.Pipe() connection. Each direction of a pipe buffers
// without bound, in order. A PipeEnd is safe for use by several greenlets and
// goroutines at once.
type PipeEnd[T any] struct {
	in     *Queue[T] // what the peer sent us; nil on a send-only end
	out    *Queue[T] // what we send the peer; nil on a receive-only end
	closed atomic.Bool
}

// NewPipe returns the two connected ends of a pipe. With duplex, each end
// sends to and receives from the other. Without it the pipe is one-way, as
// multiprocessing.Pipe(duplex=False): a only receives and b only sends.
func NewPipe[T any](duplex bool) (a, b *PipeEnd[T]) {
	ab, ba := NewQueue[T](0), NewQueue[T](0)
	a, b = &PipeEnd[T]{in: ba}, &PipeEnd[T]{out: ba}
	if duplex {
		a.out, b.in = ab, ab
	}
	return a, b
}

// Send sends v to the other end. It never blocks, since the pipe buffers
// without bound, but it is a cooperative point for a greenlet's kill: if
// ctx is done or the calling greenlet was killed, v is not sent and Send
// returns ctx's cause (the kill lands here). It returns ErrPipeOneWay on
// the receiving end of a one-way pipe, and an error matching
// io.ErrClosedPipe if either end was closed.
func (p *PipeEnd[T]) Send(ctx context.Context, v T) error {
	if err := Checkpoint(ctx); err != nil {
		return err
	}
	switch {
	case p.closed.Load():
		return errPipeClosed
	case p.out == nil:
		return ErrPipeOneWay
	}
	if err := p.out.TryPut(v); err != nil { // only a shut-down queue refuses
		if p.closed.Load() {
			return errPipeClosed // closed by a concurrent Close of this end
		}
		return errPeerClosed
	}
	return nil
}

// Recv returns the next value sent by the other end, blocking until there is
// one. Once the other end is closed, Recv returns what it had sent before
// closing and then io.EOF. It returns ctx's cause if ctx is done first,
// ErrPipeOneWay on the sending end of a one-way pipe, and an error matching
// io.ErrClosedPipe if this end was closed. From a greenlet a blocking Recv is
// a cooperative point and a kill lands there.
func (p *PipeEnd[T]) Recv(ctx context.Context) (T, error) {
	var zero T
	switch {
	case p.closed.Load():
		return zero, errPipeClosed
	case p.in == nil:
		return zero, ErrPipeOneWay
	}
	v, err := p.in.Get(ctx)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, ErrQueueShutDown):
		if p.closed.Load() {
			return zero, errPipeClosed // closed by this end while blocked
		}
		return zero, io.EOF
	}
	return zero, err
}

// Close closes this end: its own later Send and Recv calls fail with an
// error matching io.ErrClosedPipe, and so does a Recv of its blocked on this
// end; the other end receives what was sent before and then io.EOF, and its
// Send calls fail with an error matching io.ErrClosedPipe. Values sent to
// this end and not yet received are discarded. Close never blocks and
// always returns nil; closing again does nothing.
func (p *PipeEnd[T]) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	if p.out != nil {
		p.out.Shutdown()
	}
	if p.in != nil {
		p.in.ShutdownNow()
	}
	return nil
}
