package variants

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/netpoll/httpserver"
)

func init() {
	Reg.Add(harness.Variant{Workload: "http", Name: "gevent_go_httpserver", Lang: harness.LangGo, Ours: true,
		Desc:   "netpoll/httpserver: a greenlet per connection on one hub (P = 1), net/http's request parser",
		Server: func(ctx context.Context, addr string) error { return ourHTTP(ctx, addr, 1) }})
	Reg.Add(harness.Variant{Workload: "http", Name: "gevent_go_httpserver_hubs", Lang: harness.LangGo, Ours: true,
		Desc:   "netpoll/httpserver with WithHubs: connections spread over GOMAXPROCS hubs (all cores)",
		Server: func(ctx context.Context, addr string) error { return ourHTTP(ctx, addr, runtime.GOMAXPROCS(0)) }})
	Reg.Add(harness.Variant{Workload: "http", Name: "nethttp_greenlet_handoff", Lang: harness.LangGo, Ours: true,
		Desc: "the design measured and not taken: net/http.Server on a netpoll Listener, each request's handler " +
			"a greenlet that the connection's goroutine waits for",
		Server: handoffHTTP})
}

func ourHTTP(ctx context.Context, addr string, hubs int) error {
	hs := make([]*hub.Hub, hubs)
	for i := range hs {
		hs[i] = hub.MustNew()
	}
	stopHubs := func() error {
		var err error
		for _, h := range hs {
			err = errors.Join(err, stopHub(h))
		}
		return err
	}
	srv, err := httpserver.New(addr, hello, httpserver.WithHubs(hs...))
	if err != nil {
		return errors.Join(err, stopHubs())
	}
	return serveUntil(ctx, context.Background(), srv, stopHubs)
}

// handoffHTTP is net/http.Server on a netpoll Listener whose handler runs
// each request in a greenlet of one hub and waits for it. (Fine for this
// benchmark's handler, which reads no body: a body read from the greenlet
// would block it the plain way.)
func handoffHTTP(ctx context.Context, addr string) error {
	h, err := hub.New()
	if err != nil {
		return err
	}
	ln, err := netpoll.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return errors.Join(err, stopHub(h))
	}
	greenlet := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := hub.NewWaiter(context.Background())
		hubsched.Spawn(h, r.Context(), sched.Task{
			Run:  func(ctx context.Context) error { hello.ServeHTTP(w, r.WithContext(ctx)); return nil },
			Done: func(context.Context, sched.Outcome) { done.Wake() },
		})
		_ = done.Wait(context.Background(), "handoff")
	})
	err = serveHTTP(ctx, ln, greenlet)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, stopHub(h), netpoll.Shutdown(sctx))
}
