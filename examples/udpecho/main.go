// Command udpecho is gevent's DatagramServer echo server: a greenlet per
// datagram sends it back to its sender (netpoll.DatagramServer).
//
// Usage:
//
//	udpecho                                  # serve on 127.0.0.1 and check it with client greenlets
//	udpecho -serve [-addr host:port]         # serve until SIGINT or SIGTERM
//	  [-max-handlers n] [-grace d]
//
// With no flags, -clients client greenlets, on the server's own hub, each
// send -count datagrams one at a time through a cooperative
// netpoll.PacketConn and check every echo. UDP may drop a datagram: a
// client that gets no echo within -timeout sends it again, and says so.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gevent-go/gevent/examples/internal/serve"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/spawn"
)

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	serve.Flags
	timeout        time.Duration
	clients, count int
}

// parse parses the command line; see serve.Command.Parse for status and ok.
func parse(args []string, stderr io.Writer) (o *options, status int, ok bool) {
	o = &options{}
	cmd := serve.Command{
		Name:               "udpecho",
		Addr:               "listen address",
		Grace:              "how long a stop lets running handlers finish",
		MaxHandlers:        "handlers at once; while full, datagrams wait in the kernel (0: unbounded)",
		MaxHandlersDefault: 100,
	}
	status, ok = cmd.Parse(&o.Flags, args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&o.clients, "clients", 10, "check: client greenlets")
		fs.IntVar(&o.count, "count", 100, "check: datagrams per client")
		fs.DurationVar(&o.timeout, "timeout", time.Second, "check: how long a client waits for an echo before sending again")
	}, func() error {
		if o.clients < 1 || o.count < 1 || o.timeout <= 0 || o.MaxHandlers < 0 {
			return errors.New("udpecho: -clients, -count and -timeout must be positive, -max-handlers not negative")
		}
		return nil
	})
	return o, status, ok
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, status, ok := parse(args, stderr)
	if !ok {
		return status
	}
	// The program's body is a hub's main greenlet (see examples/internal/
	// serve): it starts the server, waits for SIGINT or SIGTERM with
	// hub.WaitSignal (-serve) or runs the check, and stops the server.
	return serve.Run(ctx, serve.Frame{
		Name: "udpecho", Stderr: stderr, Serve: o.Serve, Grace: o.Grace,
		Start: func(ctx context.Context) (serve.Server, error) {
			srv, err := netpoll.NewDatagramServer(o.Addr, func(ctx context.Context, c *netpoll.PacketConn, data []byte, from net.Addr) {
				_, _ = c.WriteTo(data, from) // parks this handler only, if it must wait
			}, netpoll.WithMaxHandlers(o.MaxHandlers))
			if err != nil {
				return nil, err
			}
			return srv, srv.Start(ctx)
		},
		Check: func(ctx context.Context, addr net.Addr) (bool, error) {
			res, err := check(ctx, addr, o)
			if err != nil {
				return false, err
			}
			fmt.Fprintf(stdout, "check: %d clients x %d datagrams: %d echoed and verified in %.2fs, %d resent, %d wrong\n",
				o.clients, o.count, res.echoed, res.elapsed.Seconds(), res.resent, res.wrong)
			return res.wrong == 0 && res.echoed == o.clients*o.count, nil
		},
	})
}

type checkResult struct {
	echoed, resent, wrong int
	elapsed               time.Duration
}

// check runs the client greenlets. They run on the server's hub, one at a
// time, so they add to res without a lock.
func check(ctx context.Context, server net.Addr, o *options) (checkResult, error) {
	var res checkResult
	start := time.Now()
	clients := make([]*spawn.Greenlet[struct{}], o.clients)
	for i := range clients {
		clients[i] = spawn.Go(ctx, func(ctx context.Context) error {
			return client(ctx, i, server, o, &res)
		})
	}
	_, err := spawn.JoinAll(ctx, clients)
	if err == nil {
		for _, g := range clients {
			if err = g.Err(); err != nil {
				break
			}
		}
	}
	res.elapsed = time.Since(start)
	return res, err
}

func client(ctx context.Context, id int, server net.Addr, o *options, res *checkResult) error {
	c, err := netpoll.ListenPacket(ctx, "udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 128)
	for seq := range o.count {
		msg := fmt.Appendf(nil, "client %d datagram %d", id, seq)
		for attempt := 0; ; attempt++ {
			if attempt == 3 {
				return fmt.Errorf("client %d: no echo of datagram %d after %d tries", id, seq, attempt)
			}
			if attempt > 0 {
				res.resent++
			}
			if _, err := c.WriteTo(msg, server); err != nil {
				return err
			}
			if err := c.SetReadDeadline(time.Now().Add(o.timeout)); err != nil {
				return err
			}
			got, err := awaitEcho(c, buf, msg, id, seq)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // lost: send it again
			}
			if err != nil {
				return err
			}
			if !got {
				res.wrong++
			}
			res.echoed++
			break
		}
	}
	return nil
}

// awaitEcho reads until the echo of msg arrives (true) or a datagram that
// is neither it nor a late echo of an earlier, resent one (false).
func awaitEcho(c *netpoll.PacketConn, buf, msg []byte, id, seq int) (bool, error) {
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return false, err
		}
		if bytes.Equal(buf[:n], msg) {
			return true, nil
		}
		var cid, cseq int
		if _, err := fmt.Sscanf(string(buf[:n]), "client %d datagram %d", &cid, &cseq); err != nil || cid != id || cseq >= seq {
			return false, nil
		}
	}
}
