package variants

import "github.com/gevent-go/gevent/bench/harness"

// Slots: gevent-go variants that need packages not merged into this branch
// yet. Each is reported as "not available" with the reason below, never
// with numbers. To fill one, add a file (the name given) whose init calls
// oursMicro / Reg.Add with the same workload and variant name; the real
// variant replaces the slot, nothing here needs editing.
//
//   - crawl/gevent_go_crawler: ours_crawler.go: Reg.Add a Variant with
//     Ours: true and Crawl: func(ctx, root, conc) (harness.CrawlStats,
//     error) running examples/crawler's crawl (pool of conc greenlets,
//     net/http under monkey.PatchAll) against root.
//   - the crawl site itself: crawlsite.go: func init() { setCrawlSite(f) }
//     with f serving examples/crawler's embedded site (see
//     harness.SiteFunc); until then the whole crawl workload, peers
//     included, is not available.
func init() {
	slot := func(workload, name, missing string) {
		Reg.Add(harness.Variant{Workload: workload, Name: name, Lang: harness.LangGo, Ours: true, Missing: missing})
	}
	slot("crawl", "gevent_go_crawler", "examples/crawler not merged yet; plug in at bench/variants/ours_crawler.go")
}

// setCrawlSite installs the site the crawl workload crawls; crawlsite.go
// calls it from an init function once examples/crawler is merged.
func setCrawlSite(f harness.SiteFunc) {
	Reg.Workload("crawl").Site = f
}
