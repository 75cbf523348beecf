package variants

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
)

// The plain net/http crawler: a goroutine per discovered page, at most conc
// fetches at a time, one shared keep-alive transport.
func init() {
	Reg.Add(harness.Variant{Workload: "crawl", Name: "nethttp", Lang: harness.LangGo,
		Desc: "net/http client, goroutine per page, semaphore of 50", Crawl: httpCrawl})
}

func httpCrawl(ctx context.Context, root string, conc int) (harness.CrawlStats, error) {
	base, err := url.Parse(root)
	if err != nil {
		return harness.CrawlStats{}, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conc}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu   sync.Mutex
		st   harness.CrawlStats
		seen = map[string]bool{base.String(): true}
		sem  = make(chan struct{}, conc)
		wg   sync.WaitGroup
	)
	var visit func(page *url.URL)
	visit = func(page *url.URL) {
		defer wg.Done()
		sem <- struct{}{}
		body, err := fetch(ctx, client, page.String())
		<-sem
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			st.Errors++
			return
		}
		st.Pages++
		st.Bytes += int64(len(body))
		for _, l := range SameHostLinks(page, body) {
			if !seen[l.String()] {
				seen[l.String()] = true
				wg.Add(1)
				go visit(l)
			}
		}
	}
	wg.Add(1)
	go visit(base)
	wg.Wait()
	return st, ctx.Err()
}

func fetch(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// SameHostLinks returns the links of an HTML page that stay on its host,
// resolved and without fragments. The Python crawler applies the same rule.
func SameHostLinks(page *url.URL, body []byte) []*url.URL {
	var out []*url.URL
	for _, m := range hrefRE.FindAllSubmatch(body, -1) {
		u, err := page.Parse(string(m[1]))
		if err != nil || u.Host != page.Host || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		u.Fragment, u.RawFragment = "", ""
		out = append(out, u)
	}
	return out
}
