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
		Server: netpollEcho})
}

func netpollEcho(ctx context.Context, addr string) error {
	h, err := hub.New()
	if err != nil {
		return err
	}
	s, err := netpoll.NewStreamServer(addr, func(ctx context.Context, c *netpoll.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}, netpoll.WithHub(h))
	if err != nil {
		return errors.Join(err, stopHub(h))
	}
	if err := s.Start(context.Background()); err != nil {
		return errors.Join(err, stopHub(h))
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.Stop(sctx)
	return errors.Join(err, stopHub(h), netpoll.Shutdown(sctx))
}
