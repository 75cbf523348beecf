package variants

import (
	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/examples/crawler/site"
)

// The crawl workload crawls the crawler example's embedded site, in its clean
// mode (no 404s, redirects or special pages), so every crawler must end with
// every page and no error.
func init() { Reg.Workload("crawl").Site = harness.SiteFunc(site.Serve) }
