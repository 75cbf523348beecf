package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll/httpserver"
)

// A server whose handlers share a counter without a lock: they are
// greenlets of one hub and run one at a time between cooperative points
// (hub.Sleep parks only the handler that calls it).
func Example() {
	h := hub.MustNew()
	hits := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) {
		hits++
		n := hits
		if err := hub.Sleep(r.Context(), 10*time.Millisecond); err != nil {
			return
		}
		fmt.Fprintf(w, "hit %d\n", n)
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d hits\n", hits)
	})
	srv, err := httpserver.New("127.0.0.1:0", mux, httpserver.WithHubs(h))
	if err != nil {
		panic(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		panic(err)
	}

	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	get := func(path string) string {
		resp, err := client.Get("http://" + srv.Addr().String() + path)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var wg sync.WaitGroup
	for range 100 { // 100 requests at once, all sleeping together
		wg.Go(func() { get("/hit") })
	}
	wg.Wait()
	fmt.Print(get("/count"))

	tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Stop(ctx)
	_ = h.Stop(ctx)
	// Output:
	// 100 hits
}
