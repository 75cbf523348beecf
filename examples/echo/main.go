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
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gevent-go/gevent/examples/echo/echo"
	"github.com/gevent-go/gevent/netpoll"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	serve, load, json bool
	server            echo.ServerConfig
	loadCfg           echo.LoadConfig
	grace             time.Duration
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.serve, "serve", false, "only serve, until SIGINT or SIGTERM")
	fs.BoolVar(&o.load, "load", false, "only run the load, against -addr")
	fs.StringVar(&o.server.Addr, "addr", "127.0.0.1:0", "listen address (-serve), or the server to load (-load)")
	fs.IntVar(&o.server.PoolSize, "pool", 0, "handlers running at once, a pool.Pool (0: unbounded, a greenlet per connection)")
	fs.IntVar(&o.server.MaxConns, "max-conns", 0, "open connections at most; more are closed at once (0: unbounded)")
	fs.IntVar(&o.server.InboundCap, "inbound-cap", echo.DefaultInboundCap, "bytes received and not yet echoed per connection before it is closed")
	fs.IntVar(&o.server.InboundBudget, "inbound-budget", netpoll.DefaultInboundBudget, "bytes received and not yet echoed by all connections together before the biggest holders are closed")
	fs.DurationVar(&o.server.IdleTimeout, "idle-timeout", time.Minute, "close connections idle for this long (0: never)")
	fs.IntVar(&o.server.SocketBuffer, "sockbuf", 0, "kernel receive and send buffer size of each connection's socket (0: the kernel's default, which it grows to megabytes)")
	fs.BoolVar(&o.server.Stdlib, "stdlib", false, "move the bytes through the standard library's net instead of gnet's event loops")
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "how long a graceful stop lets open connections finish")
	fs.IntVar(&o.loadCfg.Conns, "conns", 50, "load: connections")
	fs.IntVar(&o.loadCfg.Size, "size", 64, "load: message size in bytes (>= 8)")
	fs.DurationVar(&o.loadCfg.Duration, "duration", 2*time.Second, "load: how long to run")
	fs.BoolVar(&o.json, "json", false, "load: print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("echo: unexpected argument %q", fs.Arg(0))
	}
	if o.serve && o.load {
		return nil, errors.New("echo: -serve and -load exclude each other (with neither, both run)")
	}
	if o.load && o.server.Addr == "127.0.0.1:0" {
		return nil, errors.New("echo: -load needs the server's -addr")
	}
	return o, nil
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	addr := o.server.Addr
	var srv *echo.Server
	if !o.load {
		srv, err = echo.Start(ctx, o.server)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		addr = srv.Addr()
		pool := "unbounded"
		if o.server.PoolSize > 0 {
			pool = fmt.Sprint(o.server.PoolSize)
		}
		backend := "gnet"
		if o.server.Stdlib {
			backend = "stdlib"
		}
		fmt.Fprintf(stderr, "echo: serving on %s (pool %s, %s)\n", addr, pool, backend)
	}
	status := 0
	if o.serve {
		<-ctx.Done()
		fmt.Fprintln(stderr, "echo: stopping")
	} else {
		o.loadCfg.Addr = addr
		res, err := echo.Load(ctx, o.loadCfg)
		if err != nil {
			fmt.Fprintln(stderr, err)
			status = 2
		} else {
			report(stdout, res, o.json)
			if res.Errors > 0 || res.Mismatches > 0 {
				status = 1
			}
		}
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), o.grace)
		defer cancel()
		if err := srv.Stop(sctx); err != nil {
			fmt.Fprintln(stderr, "echo: stop:", err)
			return 1
		}
		fmt.Fprintln(stderr, "echo: server stopped gracefully")
	}
	return status
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
