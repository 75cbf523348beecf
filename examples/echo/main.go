// Command echo is gevent's StreamServer echo server, with a load mode that
// drives an echo server and verifies every byte it gets back.
//
// Usage:
//
//	echo                                    # a server on 127.0.0.1 and a short load against it
//	echo -serve [-addr host:port] [-pool n] [-max-conns n] [-idle-timeout d]
//	            [-inbound-cap bytes] [-inbound-budget bytes] [-sockbuf bytes] [-stdlib]
//	echo -load -addr host:port [-conns n] [-size bytes] [-duration d]
//
// The server runs a greenlet per connection (or a pool.Pool of -pool of
// them) that reads and writes back with netpoll's cooperative Conn, on
// gnet's event loops (or the standard library's net with -stdlib). It
// closes connections idle for -idle-timeout, and cuts clients that send
// without reading at -inbound-cap bytes each, or the biggest of them once
// all hold -inbound-budget bytes together; -sockbuf bounds the kernel's
// buffers of each connection, where such clients put the rest. It stops
// gracefully on SIGINT or SIGTERM: it stops accepting, gives the open
// connections -grace to finish, then closes them. The load prints msgs/s,
// MB/s, the p50, p99 and p99.9 round-trip latency, and the errors and
// mismatched echoes (exit status 1 if there is any).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gevent-go/gevent/examples/echo/echo"
	"github.com/gevent-go/gevent/examples/internal/serve"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll"
)

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	serve.Flags
	load, json bool
	server     echo.ServerConfig
	loadCfg    echo.LoadConfig
}

// parse parses the command line; see serve.Command.Parse for status and ok.
func parse(args []string, stderr io.Writer) (o *options, status int, ok bool) {
	o = &options{}
	cmd := serve.Command{
		Name:  "echo",
		Addr:  "listen address (-serve), or the server to load (-load)",
		Grace: "how long a graceful stop lets open connections finish",
	}
	status, ok = cmd.Parse(&o.Flags, args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&o.load, "load", false, "only run the load, against -addr")
		fs.IntVar(&o.server.PoolSize, "pool", 0, "handlers running at once, a pool.Pool (0: unbounded, a greenlet per connection)")
		fs.IntVar(&o.server.MaxConns, "max-conns", 0, "open connections at most; more are closed at once (0: unbounded)")
		fs.IntVar(&o.server.InboundCap, "inbound-cap", echo.DefaultInboundCap, "bytes received and not yet echoed per connection before it is closed")
		fs.IntVar(&o.server.InboundBudget, "inbound-budget", netpoll.DefaultInboundBudget, "bytes received and not yet echoed by all connections together before the biggest holders are closed")
		fs.DurationVar(&o.server.IdleTimeout, "idle-timeout", time.Minute, "close connections idle for this long (0: never)")
		fs.IntVar(&o.server.SocketBuffer, "sockbuf", 0, "kernel receive and send buffer size of each connection's socket (0: the kernel's default, which it grows to megabytes)")
		fs.BoolVar(&o.server.Stdlib, "stdlib", false, "move the bytes through the standard library's net instead of gnet's event loops")
		fs.IntVar(&o.loadCfg.Conns, "conns", 50, "load: connections")
		fs.IntVar(&o.loadCfg.Size, "size", 64, "load: message size in bytes (>= 8)")
		fs.DurationVar(&o.loadCfg.Duration, "duration", 2*time.Second, "load: how long to run")
		fs.BoolVar(&o.json, "json", false, "load: print the result as JSON")
	}, func() error {
		if o.Serve && o.load {
			return errors.New("echo: -serve and -load exclude each other (with neither, both run)")
		}
		if o.load && o.Addr == "127.0.0.1:0" {
			return errors.New("echo: -load needs the server's -addr")
		}
		if o.loadCfg.Conns < 1 || o.loadCfg.Size < 8 || o.loadCfg.Duration <= 0 {
			return errors.New("echo: -conns and -duration must be positive, -size at least 8")
		}
		return nil
	})
	o.server.Addr = o.Addr // -serve and the load's own server listen there
	return o, status, ok
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, status, ok := parse(args, stderr)
	if !ok {
		return status
	}
	if o.load {
		// A load against a running server: plain goroutines, until
		// SIGINT or SIGTERM at the latest.
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return load(ctx, o, o.Addr, stdout, stderr)
	}
	pool := "unbounded"
	if o.server.PoolSize > 0 {
		pool = fmt.Sprint(o.server.PoolSize)
	}
	backend := "gnet"
	if o.server.Stdlib {
		backend = "stdlib"
	}
	// The program's body is a hub's main greenlet (see examples/internal/
	// serve): it starts the server (on a hub of its own), waits for SIGINT
	// or SIGTERM with hub.WaitSignal (-serve) or loads it, and stops it
	// gracefully.
	return serve.Run(ctx, serve.Frame{
		Name: "echo", Stderr: stderr, Serve: o.Serve, Grace: o.Grace,
		About: fmt.Sprintf("pool %s, %s", pool, backend),
		Start: func(ctx context.Context) (serve.Server, error) {
			return echo.Start(ctx, o.server)
		},
		Check: func(ctx context.Context, addr net.Addr) (bool, error) {
			// The load is plain goroutines and the standard library's
			// net: it runs off the hub, and the main greenlet waits for it
			// cooperatively.
			status, err := hub.Offload(ctx, func(ctx context.Context) (int, error) {
				return load(ctx, o, addr.String(), stdout, stderr), nil
			})
			return status == 0, err
		},
	})
}

// load runs the load against addr and prints its report; it returns the
// exit status: 1 if an echo failed, 2 if the load could not run.
func load(ctx context.Context, o *options, addr string, stdout, stderr io.Writer) int {
	cfg := o.loadCfg
	cfg.Addr = addr
	res, err := echo.Load(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	report(stdout, res, o.json)
	if res.Errors > 0 || res.Mismatches > 0 {
		return 1
	}
	return 0
}

func report(w io.Writer, r echo.LoadResult, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }
	fmt.Fprintf(w, "load: %d connections, %d-byte messages, %.1fs\n", r.Conns, r.Size, r.Seconds)
	fmt.Fprintf(w, "  msgs/s    %.0f\n", r.MsgsPerSec)
	fmt.Fprintf(w, "  MB/s      %.2f\n", r.MBPerSec)
	fmt.Fprintf(w, "  latency   p50 %s  p99 %s  p99.9 %s\n", ms(r.P50), ms(r.P99), ms(r.P999))
	fmt.Fprintf(w, "  messages  %d echoed and verified, %d mismatched, %d errors\n", r.Msgs, r.Mismatches, r.Errors)
	if r.FirstError != "" {
		fmt.Fprintf(w, "  first error: %s\n", r.FirstError)
	}
}
