// Seed "monkey". The seed texts patch the standard library, then fetch
// several URLs at once from a pool of greenlets:
//
//	from gevent import monkey; monkey.patch_all()
//	import urllib.request
//	pool = gevent.pool.Pool(5)
//	pool.map(lambda u: urllib.request.urlopen(u).read(), urls)
//
// monkey.PatchAll() first thing in main makes net/http's default transport
// cooperative: a greenlet waiting for a response parks, and the others run.
// Without the patch each request holds the hub until its response is in,
// and the pool fetches one URL at a time. This seed serves its own URLs on
// 127.0.0.1 (each response takes 50 ms) and fetches ten of them both ways.
//
//	go run ./examples/seeds/monkey
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/pool"
)

func main() {
	monkey.PatchAll() // first thing, as in gevent
	seed.Main(run)
}

// latency is how long the local server takes per response.
const latency = 50 * time.Millisecond

// fetch GETs u with the greenlet's ctx and returns the body.
func fetch(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// fetchAll fetches urls through a pool of 5 and returns the bodies and the
// time it took.
func fetchAll(ctx context.Context, urls []string) ([]string, time.Duration, error) {
	start := time.Now()
	bodies, err := pool.Map(ctx, pool.New(5), urls, fetch)
	return bodies, time.Since(start), err
}

func run(ctx context.Context, w io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		time.Sleep(latency) // the server runs on plain goroutines, not greenlets
		fmt.Fprintf(rw, "page %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()

	var urls []string
	for i := 1; i <= 10; i++ {
		urls = append(urls, fmt.Sprintf("http://%s/%d", ln.Addr(), i))
	}

	bodies, patched, err := fetchAll(ctx, urls)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "patched:   10 URLs through a pool of 5 took %v: the 50 ms waits overlap\n", patched.Round(10*time.Millisecond))
	fmt.Fprintf(w, "first and last bodies: %q, %q\n", bodies[0], bodies[9])

	monkey.Unpatch(monkey.All)
	_, unpatched, err := fetchAll(ctx, urls)
	monkey.PatchAll()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "unpatched: the same took %v: each request held the hub, one at a time\n", unpatched.Round(10*time.Millisecond))
	return nil
}
