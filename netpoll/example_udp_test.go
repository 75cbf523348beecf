package netpoll_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll"
)

// A UDP echo server that runs a greenlet per datagram, and a client
// greenlet on the same hub: ReadFrom and WriteTo park only their greenlet.
func ExampleDatagramServer() {
	h := hub.MustNew()
	srv, err := netpoll.NewDatagramServer("127.0.0.1:0", func(ctx context.Context, c *netpoll.PacketConn, data []byte, from net.Addr) {
		_, _ = c.WriteTo([]byte(strings.ToUpper(string(data))), from)
	}, netpoll.WithMaxHandlers(100))
	if err != nil {
		panic(err)
	}
	// The server accepts on h: the hub its Start ctx is bound to.
	if err := srv.Start(hub.NewContext(context.Background(), h)); err != nil {
		panic(err)
	}

	err = h.Run(context.Background(), func(ctx context.Context) error {
		c, err := netpoll.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 64)
		for _, word := range []string{"hello", "datagrams"} {
			if _, err := c.WriteTo([]byte(word), srv.Addr()); err != nil {
				return err
			}
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return err
			}
			fmt.Println(string(buf[:n]))
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
	// DATAGRAMS
}
