package variants

import (
	"context"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/examples/crawler/crawl"
)

// The plain-Go crawler is the crawler example's own baseline (crawl.RunPlain:
// a goroutine per URL, a semaphore of conc, a mutex, net/http's default
// client). It shares the example's fetching and HTML parsing, so the crawl
// workload compares schedulers, not parsers.
func init() {
	for _, w := range crawlWorkloads {
		Reg.Add(harness.Variant{Workload: w, Name: "nethttp", Lang: harness.LangGo,
			Desc: "plain Go: net/http, goroutine per page, semaphore of 50 (examples/crawler's RunPlain)", Crawl: httpCrawl})
	}
}

func httpCrawl(ctx context.Context, root string, conc int) (harness.CrawlStats, error) {
	cfg := crawl.DefaultConfig()
	cfg.Start, cfg.Concurrency = root, conc
	sum, err := crawl.RunPlain(ctx, cfg)
	return harness.CrawlStats{Pages: sum.Pages, Bytes: sum.Bytes, Errors: sum.Errors}, err
}
