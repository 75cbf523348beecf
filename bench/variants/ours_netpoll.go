package variants

import (
	"context"
	"errors"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/netpoll"
)

func init() {
	Reg.Add(harness.Variant{Workload: "echo", Name: "gevent_go_netpoll", Lang: harness.LangGo, Ours: true,
		Desc:   "netpoll.StreamServer, one handler greenlet per connection (P = 1), bytes through gnet event loops",
		Server: func(ctx context.Context, addr string) error { return netpollEcho(ctx, addr, 0) }})
	Reg.Add(harness.Variant{Workload: "echo", Name: "gevent_go_netpoll_shards", Lang: harness.LangGo, Ours: true,
		Desc:   "the same StreamServer serving on every core: handlers spread over a hub.Shards (one hub per core, WithHubs)",
		Server: func(ctx context.Context, addr string) error { return netpollEcho(ctx, addr, -1) }})
}

// netpollEcho serves an echo StreamServer until ctx ends: its handlers on
// one hub (shards 0), or spread over hub.NewShards(GOMAXPROCS) (shards -1).
func netpollEcho(ctx context.Context, addr string, shards int) error {
	h, err := hub.New()
	if err != nil {
		return err
	}
	var opts []netpoll.ServerOption
	var sh *hub.Shards
	if shards != 0 {
		if sh, err = hub.NewShards(0); err != nil {
			return errors.Join(err, stopHub(h))
		}
		opts = append(opts, netpoll.WithHubs(sh.Hubs()...))
	}
	stop := func() error {
		err := stopHub(h)
		if sh != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = errors.Join(err, sh.Stop(sctx))
		}
		return err
	}
	s, err := netpoll.NewStreamServer(addr, func(ctx context.Context, c *netpoll.Conn) {
		echoLoop(c)
	}, opts...)
	if err != nil {
		return errors.Join(err, stop())
	}
	return serveUntil(ctx, hub.NewContext(context.Background(), h), s, stop)
}

// server is what our servers have in common: netpoll's and httpserver's.
type server interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// serveUntil starts s with start (which names the hub it spawns on),
// serves until ctx ends, and then stops s (its connections get 10 s to
// finish), the hubs (stopHubs) and netpoll's event loops, which a bench
// child process must not leave running.
func serveUntil(ctx, start context.Context, s server, stopHubs func() error) error {
	if err := s.Start(start); err != nil {
		return errors.Join(err, stopHubs())
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(s.Stop(sctx), stopHubs(), netpoll.Shutdown(sctx))
}
