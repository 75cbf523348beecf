package variants

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
)

// The Go HTTP servers: net/http's own (the reference).
func init() {
	Reg.Add(harness.Variant{Workload: "http", Name: "nethttp", Lang: harness.LangGo,
		Desc: "net/http.Server on net.Listen: a goroutine per connection, all cores", Server: netHTTPServer})
}

// hello is the handler every HTTP variant serves: TechEmpower's plaintext.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(helloBody)
})

var helloBody = []byte("Hello, World!")

func netHTTPServer(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, ln, hello)
}

// serveHTTP serves h on ln with net/http.Server until ctx ends.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
