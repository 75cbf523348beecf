// Command httpserver is an HTTP server whose handlers are greenlets: gevent's
// pywsgi, read the Go way (netpoll/httpserver). Every handler runs in a
// greenlet of one hub, so they all update one in-memory counter without a
// lock: between two cooperative points (a sleep, a socket read) a greenlet
// runs alone.
//
// Usage:
//
//	httpserver                              # serve on 127.0.0.1, load it, check the counter, stop
//	httpserver -serve [-addr host:port]     # serve until SIGINT or SIGTERM, then stop gracefully
//	  [-max-handlers n] [-grace d]
//
// Routes: /hit adds one to the counter and answers the new count; /count
// answers it; /sleep?ms=N sleeps N ms (cooperatively: the other handlers
// run meanwhile) and then counts a hit. The load mode sends -clients
// clients of -requests requests each (plain goroutines and net/http's
// client, off the hub), then checks that the counter saw every one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gevent-go/gevent/examples/internal/serve"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll/httpserver"
)

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	serve.Flags
	clients, requests int
	sleepMS           int
}

// parse parses the command line; see serve.Command.Parse for status and ok.
func parse(args []string, stderr io.Writer) (o *options, status int, ok bool) {
	o = &options{}
	cmd := serve.Command{
		Name:        "httpserver",
		Addr:        "listen address",
		Grace:       "how long a graceful stop lets requests in progress finish",
		MaxHandlers: "connections served at once (gevent's spawn=Pool(n)); 0: unbounded",
	}
	status, ok = cmd.Parse(&o.Flags, args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&o.clients, "clients", 20, "load: concurrent clients")
		fs.IntVar(&o.requests, "requests", 50, "load: requests per client")
		fs.IntVar(&o.sleepMS, "sleep", 50, "load: the sleep of the /sleep requests, in ms")
	}, func() error {
		if o.clients < 1 || o.requests < 1 || o.sleepMS < 0 {
			return errors.New("httpserver: -clients and -requests must be positive, -sleep not negative")
		}
		return nil
	})
	return o, status, ok
}

// app is the server's state. Its handlers are greenlets of one hub: they
// update hits without a lock, since only one runs at a time between
// cooperative points.
type app struct {
	hits int
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) {
		a.hits++
		fmt.Fprintln(w, a.hits)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, a.hits)
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		// Parks this handler only; a bare time.Sleep would hold the hub.
		if err := hub.Sleep(r.Context(), time.Duration(ms)*time.Millisecond); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		a.hits++
		fmt.Fprintln(w, a.hits)
	})
	return mux
}

func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, status, ok := parse(args, stderr)
	if !ok {
		return status
	}
	a := &app{}
	// The program's body is a hub's main greenlet (see examples/internal/
	// serve): it starts the server, waits for SIGINT or SIGTERM with
	// hub.WaitSignal (-serve) or loads the server (check), and stops it
	// gracefully.
	return serve.Run(ctx, serve.Frame{
		Name: "httpserver", Stderr: stderr, Serve: o.Serve, Grace: o.Grace,
		Start: func(ctx context.Context) (serve.Server, error) {
			srv, err := httpserver.New(o.Addr, a.routes(), httpserver.WithMaxHandlers(o.MaxHandlers))
			if err != nil {
				return nil, err
			}
			return srv, srv.Start(ctx)
		},
		Check: func(ctx context.Context, addr net.Addr) (bool, error) {
			// The load is ordinary Go code (goroutines, net/http's client):
			// it runs off the hub, and the main greenlet waits for it
			// cooperatively, so the handlers keep running.
			res, err := hub.Offload(ctx, func(ctx context.Context) (loadResult, error) {
				return load(ctx, "http://"+addr.String(), o)
			})
			if err != nil {
				return false, err
			}
			fmt.Fprintf(stdout, "load: %d clients x %d requests: %d in %.2fs (%.0f req/s), %d errors\n",
				o.clients, o.requests, res.hits, res.elapsed.Seconds(), float64(res.hits)/res.elapsed.Seconds(), res.errors)
			fmt.Fprintf(stdout, "sleep: %d requests sleeping %d ms each at once took %d ms in all\n",
				o.clients, o.sleepMS, res.sleepPhase.Milliseconds())
			want := o.clients*o.requests + o.clients
			fmt.Fprintf(stdout, "counter: %d hits, want %d\n", a.hits, want)
			return res.errors == 0 && a.hits == want, nil
		},
	})
}

type loadResult struct {
	ok, errors int // every request
	hits       int // the /hit requests that succeeded
	elapsed    time.Duration
	sleepPhase time.Duration
}

// load runs o.clients goroutines of o.requests /hit requests each, then
// one /sleep request per client, all at once.
func load(ctx context.Context, url string, o *options) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: o.clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var mu sync.Mutex
	var res loadResult
	get := func(path string) {
		err := func() error {
			req, err := http.NewRequestWithContext(ctx, "GET", url+path, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && (resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) == "") {
				err = fmt.Errorf("%s: %s %q", path, resp.Status, b)
			}
			return err
		}()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res.errors++
			return
		}
		res.ok++
	}
	phase := func(path string, n int) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for range o.clients {
			wg.Go(func() {
				for range n {
					get(path)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	res.elapsed = phase("/hit", o.requests)
	res.hits = res.ok
	res.sleepPhase = phase("/sleep?ms="+strconv.Itoa(o.sleepMS), 1)
	return res, ctx.Err()
}
