package variants

import (
	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/examples/crawler/site"
)

// The crawl workloads crawl the crawler example's embedded site, in its clean
// mode (no 404s, redirects or special pages), so every crawler must end with
// every page and no error: crawl its small pages (latency-bound),
// crawl_realistic its realistic mode (parse-heavy).
func init() {
	Reg.Workload("crawl").Site = harness.SiteFunc(site.Serve)
	Reg.Workload("crawl_realistic").Site = harness.SiteFunc(site.ServeRealistic)
}

// crawlWorkloads are the workloads every Go crawler variant runs. The
// Python gevent crawler runs only the small site: it finds links with a
// regular expression, which on the realistic pages also takes the
// stylesheet links of <link href> for pages.
var crawlWorkloads = []string{"crawl", "crawl_realistic"}
