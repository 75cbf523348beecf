package crawl_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/gevent-go/gevent/examples/crawler/site"
)

// python is Debian's interpreter, where python3-gevent installs gevent.
const python = "/usr/bin/python3"

func hasGevent() bool {
	return exec.Command(python, "-c", "import gevent").Run() == nil
}

// BenchmarkCrawlRealistic measures pages/s on the realistic embedded site
// (parse-heavy: 600 pages, 35 MiB), 20 ms latency per response, concurrency
// 50: the greenlet crawler and the plain-Go baseline, interleaved round by
// round so that both see the same machine.
//
//	go test -run '^$' -bench CrawlRealistic -benchtime 5x ./examples/crawler/crawl
func BenchmarkCrawlRealistic(b *testing.B) {
	s := site.New(site.Config{Realistic: true, Clean: true, Latency: 20 * time.Millisecond})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	cfg := crawl.DefaultConfig()
	cfg.Start = base + "/"
	pages := map[string]int{}
	secs := map[string]float64{}
	for b.Loop() {
		for _, e := range engines {
			sum, err := e.run(b.Context(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			pages[e.name] += sum.Pages
			secs[e.name] += sum.Seconds
		}
	}
	for _, e := range engines {
		b.ReportMetric(float64(pages[e.name])/secs[e.name], e.name+"-pages/s")
	}
	b.ReportMetric(float64(pages["greenlets"])/secs["greenlets"]/(float64(pages["goroutines"])/secs["goroutines"]), "greenlets/goroutines")
}

// BenchmarkCrawl measures pages/s on the embedded site with 20 ms latency
// per response, at concurrency 1, 10 and 50: the greenlet crawler (Run), the
// plain-Go baseline (RunPlain) and, when /usr/bin/python3 has gevent, the
// gevent crawler script (../gevent_crawler.py), all on one site in one run.
// At concurrency 1 and 10 the crawls stop after 200 and 1000 URLs, so that
// one round stays a few seconds long; the rate is what counts.
//
//	go test -run '^$' -bench 'Crawl$' -benchtime 3x ./examples/crawler/crawl
func BenchmarkCrawl(b *testing.B) {
	s := site.New(site.Config{Latency: 20 * time.Millisecond})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	gevent := hasGevent()
	if !gevent {
		b.Logf("%s has no gevent (apt-get install python3-gevent): the gevent variant is skipped", python)
	}
	limits := map[int]int{1: 200, 10: 1000, 50: 0}
	for _, conc := range []int{1, 10, 50} {
		rates := map[string]float64{}
		for _, e := range engines {
			b.Run(fmt.Sprintf("c%d/%s", conc, e.name), func(b *testing.B) {
				b.ReportAllocs()
				cfg := crawl.DefaultConfig()
				cfg.Start = base + "/"
				cfg.Concurrency = conc
				cfg.MaxPages = limits[conc]
				pages, secs := 0, 0.0
				for b.Loop() {
					sum, err := e.run(b.Context(), cfg)
					if err != nil {
						b.Fatal(err)
					}
					pages += sum.Pages
					secs += sum.Seconds
				}
				rates[e.name] = float64(pages) / secs
				b.ReportMetric(rates[e.name], "pages/s")
			})
		}
		if gevent {
			b.Run(fmt.Sprintf("c%d/gevent-python", conc), func(b *testing.B) {
				pages, secs := 0, 0.0
				for b.Loop() {
					out, err := exec.Command(python, "../gevent_crawler.py", base+"/", strconv.Itoa(conc), strconv.Itoa(limits[conc])).Output()
					if err != nil {
						b.Fatal(err)
					}
					var sum struct {
						Pages   int     `json:"pages"`
						Seconds float64 `json:"seconds"`
					}
					if err := json.Unmarshal(out, &sum); err != nil {
						b.Fatal(err)
					}
					pages += sum.Pages
					secs += sum.Seconds
				}
				rates["gevent-python"] = float64(pages) / secs
				b.ReportMetric(rates["gevent-python"], "pages/s")
			})
		}
		if ref := rates["goroutines"]; ref > 0 {
			b.Logf("concurrency %d: greenlets %.2fx the plain-Go crawler; gevent (Python) %.2fx",
				conc, rates["greenlets"]/ref, rates["gevent-python"]/ref)
		}
	}
}
