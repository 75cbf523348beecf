package netpoll_test

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll"
)

// A StreamServer that upper-cases lines, and a client greenlet that dials it,
// on one hub: every Read, Write and Dial parks only its own greenlet.
func ExampleStreamServer() {
	h := hub.MustNew()
	srv, err := netpoll.NewStreamServer("127.0.0.1:0", func(ctx context.Context, c *netpoll.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // the connection is closed when the handler returns
			}
			fmt.Fprint(c, strings.ToUpper(line))
		}
	})
	if err != nil {
		panic(err)
	}
	// The server accepts on h: the hub its Start ctx is bound to.
	if err := srv.Start(hub.NewContext(context.Background(), h)); err != nil {
		panic(err)
	}

	err = h.Run(context.Background(), func(ctx context.Context) error {
		c, err := netpoll.Dial(ctx, "tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for _, word := range []string{"hello", "greenlets"} {
			fmt.Fprintln(c, word)
			reply, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			fmt.Print(reply)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Stop(ctx)
	h.Stop(ctx)
	// Output:
	// HELLO
	// GREENLETS
}
