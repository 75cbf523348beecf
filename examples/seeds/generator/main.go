// Seed "generator". The seed texts run a producer and a consumer as one
// thread of control, handing values back and forth with a generator's
// send() and yield:
//
//	def consumer():
//	    r = ''
//	    while True:
//	        n = yield r
//	        if not n: return
//	        print('[CONSUMER] Consuming %s...' % n)
//	        r = '200 OK'
//	def produce(c):
//	    c.send(None)
//	    for n in range(1, 6):
//	        print('[PRODUCER] Producing %s...' % n)
//	        r = c.send(n)
//	        print('[PRODUCER] Consumer return: %s' % r)
//	    c.close()
//
// With greenlets the consumer is a greenlet of its own, and send/yield are
// two hub.Channels: a Channel has no buffer, so Put waits until the other
// side takes the value, exactly the hand-over of send(). Shutting the
// request channel down is c.close(). (For a pure pull-style generator in
// plain Go there is also iter.Pull.)
//
//	go run ./examples/seeds/generator
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

func run(ctx context.Context, w io.Writer) error {
	requests := hub.NewChannel[int]()
	replies := hub.NewChannel[string]()

	consumer := spawn.Go(ctx, func(ctx context.Context) error {
		for n := range requests.All(ctx) {
			fmt.Fprintf(w, "[CONSUMER] Consuming %d...\n", n)
			if err := replies.Put(ctx, "200 OK"); err != nil {
				return err
			}
		}
		fmt.Fprintln(w, "[CONSUMER] closed")
		return ctx.Err()
	}, spawn.WithName("consumer"))

	for n := 1; n <= 5; n++ {
		fmt.Fprintf(w, "[PRODUCER] Producing %d...\n", n)
		if err := requests.Put(ctx, n); err != nil {
			return err
		}
		r, err := replies.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "[PRODUCER] Consumer return: %s\n", r)
	}
	requests.Shutdown() // c.close()
	_, err := consumer.Get(ctx)
	return err
}
