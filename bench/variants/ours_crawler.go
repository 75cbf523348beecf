package variants

import (
	"context"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/netpoll"
)

func init() {
	for _, w := range crawlWorkloads {
		Reg.Add(harness.Variant{Workload: w, Name: "gevent_go_crawler", Lang: harness.LangGo, Ours: true,
			Desc: "examples/crawler: a pool.Pool of greenlets fed by a hub.Queue, net/http made cooperative by monkey " +
				"(standard library dialer), pages parsed off the run token (hub.Offload, GOMAXPROCS at once)",
			Crawl: oursCrawl(nil)})
		Reg.Add(harness.Variant{Workload: w, Name: "gevent_go_crawler_netpoll", Lang: harness.LangGo, Ours: true,
			Desc:  "the same, with netpoll.DialContext: the transport's connections move through gnet event loops",
			Crawl: oursCrawl(netpoll.DialContext)})
	}
}

func oursCrawl(dial monkey.DialFunc) func(ctx context.Context, root string, conc int) (harness.CrawlStats, error) {
	return func(ctx context.Context, root string, conc int) (harness.CrawlStats, error) {
		monkey.PatchAll()
		monkey.SetDialFunc(dial)
		cfg := crawl.DefaultConfig()
		cfg.Start, cfg.Concurrency = root, conc
		sum, err := crawl.Run(ctx, cfg)
		return harness.CrawlStats{Pages: sum.Pages, Bytes: sum.Bytes, Errors: sum.Errors}, err
	}
}
