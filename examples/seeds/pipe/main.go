// Seed "pipe". The seed texts connect two processes with a pipe:
//
//	parent, child = multiprocessing.Pipe()            # duplex: both ends send and receive
//	parent.send('hello'); print(parent.recv())
//	recv_end, send_end = multiprocessing.Pipe(duplex=False)
//
// hub.NewPipe[T] returns the two ends, typed; Recv parks a greenlet until a
// value arrives. Closing one end makes the other's Recv return io.EOF once
// it has read what was sent before, a clean end of stream.
//
//	go run ./examples/seeds/pipe
package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

func run(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "1. a duplex pipe: parent and child talk both ways")
	parent, child := hub.NewPipe[string](true)
	c := spawn.Go(ctx, func(ctx context.Context) error {
		defer child.Close()
		for {
			msg, err := child.Recv(ctx)
			if errors.Is(err, io.EOF) {
				fmt.Fprintln(w, "child: parent hung up")
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "child: received %q\n", msg)
			if err := child.Send(ctx, "echo: "+msg); err != nil {
				return err
			}
		}
	})
	for _, msg := range []string{"hello", "how are you"} {
		if err := parent.Send(ctx, msg); err != nil {
			return err
		}
		reply, err := parent.Recv(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "parent: received %q\n", reply)
	}
	parent.Close()
	if err := c.Join(ctx); err != nil {
		return err
	}

	fmt.Fprintln(w, "2. a one-way pipe: the first end only receives, the second only sends")
	recvEnd, sendEnd := hub.NewPipe[int](false)
	spawn.Go(ctx, func(ctx context.Context) error {
		defer sendEnd.Close()
		for i := 1; i <= 3; i++ {
			if err := sendEnd.Send(ctx, i*i); err != nil {
				return err
			}
		}
		return nil
	})
	for {
		v, err := recvEnd.Recv(ctx)
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(w, "receiver: end of stream")
			break
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "receiver: %d\n", v)
	}
	fmt.Fprintf(w, "sending on the receiving end: %v\n", recvEnd.Send(ctx, 0))
	return nil
}
