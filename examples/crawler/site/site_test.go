package site_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gevent-go/gevent/examples/crawler/site"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noFollow.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestServes(t *testing.T) {
	s := site.New(site.Config{Pages: 100, HugeSize: 100 << 10})
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer func() {
		require.NoError(t, s.Close())
		noFollow.CloseIdleConnections()
	}()
	assert.Equal(t, base, s.URL())
	_, err = s.Start("127.0.0.1:0")
	assert.ErrorIs(t, err, site.ErrStarted)

	for _, tc := range []struct {
		path, ctype, location string
		status                int
	}{
		{"/", "text/html", "", 200},
		{"/p/0.html", "text/html", "", 200},
		{"/p/99.html", "text/html", "", 200},
		{"/p/100.html", "", "", 404},
		{"/p/007.html", "", "", 404},
		{"/p/-1.html", "", "", 404},
		{"/r/1", "", "/p/" + strconv.Itoa(7919%100) + ".html", 302},
		{"/r/40", "", "", 404},
		{"/files/2.json", "application/json", "", 200},
		{"/files/3.txt", "text/plain", "", 200},
		{"/files/3.json", "", "", 404},
		{"/files/03.txt", "", "", 404},
		{"/special/cycle/a", "", "/special/cycle/b", 302},
		{"/special/chain/41", "", "/special/chain/42", 302},
		{"/special/chain/041", "", "", 404},
		{"/special/offsite", "", "http://127.0.0.1:1/away.html", 302},
		{"/special/error", "", "", 500},
		{"/special/fake.html", "application/octet-stream", "", 200},
		{"/special/page.xhtml", "application/xhtml+xml", "", 200},
		{"/nowhere", "", "", 404},
	} {
		resp, _ := get(t, base+tc.path)
		assert.Equal(t, tc.status, resp.StatusCode, tc.path)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype), tc.path)
		assert.Equal(t, tc.location, resp.Header.Get("Location"), tc.path)
	}
	resp, body := get(t, base+"/special/huge.html")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Len(t, body, 100<<10)
	assert.Contains(t, body[:1024], "ok/huge-head.html")
	assert.Contains(t, body[len(body)-200:], "ok/huge-tail.html")

	_, body = get(t, base+"/p/5.html")
	assert.NotContains(t, body, "{host}", "absolute links name the real host")

	hits := s.Hits()
	assert.Equal(t, 1, hits["/p/0.html"])
	assert.Equal(t, 2, hits["/p/5.html"]+hits["/special/huge.html"])
}

func TestLatency(t *testing.T) {
	s := site.New(site.Config{Pages: 10, Latency: 60 * time.Millisecond})
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer func() {
		require.NoError(t, s.Close())
		noFollow.CloseIdleConnections()
	}()
	start := time.Now()
	resp, _ := get(t, base+"/nowhere")
	assert.Equal(t, 404, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "404s are delayed too")
}

// TestDelay: Delay holds every response back by d; a client that gives up
// first gets none, and the handler never runs.
func TestDelay(t *testing.T) {
	served := make(chan struct{}, 2)
	h := site.Delay(50*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served <- struct{}{}
		_, _ = w.Write([]byte("ok"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	start := time.Now()
	_, body := get(t, srv.URL)
	assert.Equal(t, "ok", body)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	<-served

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, err = noFollow.Do(req)
	require.Error(t, err)
	srv.Close() // waits for the handler of the abandoned request
	assert.Empty(t, served, "the handler never ran for the request that gave up")
	noFollow.CloseIdleConnections()
}

func TestReachable(t *testing.T) {
	s := site.New(site.Config{Pages: 200})
	all := s.Reachable(site.DefaultPolicy)
	for i := range 200 {
		assert.Equal(t, site.Page, all["/p/"+strconv.Itoa(i)+".html"], i)
	}
	for k := range all {
		assert.False(t, strings.HasPrefix(k, "/trap/"), k)
	}
	assert.Equal(t, site.Redirect, all["/special/chain/9"])
	assert.Equal(t, site.TooManyRedirects, all["/special/chain/10"])
	assert.NotContains(t, all, "/special/chain/11")
	assert.Equal(t, site.Page, all["/special/ok/huge-head.html"])
	assert.Equal(t, site.Page, all["/special/ok/huge-tail.html"], "the 2 MiB page fits the default body limit")
	assert.Equal(t, site.RedirectLoop, all["/special/cycle/b"], "a -> b -> a")
	assert.Equal(t, site.RedirectLoop, all["/special/cycle/self"])
	assert.Equal(t, site.Redirect, all["/special/cycle/a"])

	p := site.DefaultPolicy
	p.MaxBody = 1 << 20
	assert.NotContains(t, s.Reachable(p), "/special/ok/huge-tail.html", "the 2 MiB page is cut at 1 MiB")

	p = site.DefaultPolicy
	p.MaxBody = 0 // no limit
	p.MaxRedirects = 0
	p.Timeout = 100 * time.Millisecond
	cut := s.Reachable(p)
	assert.Equal(t, site.Page, cut["/special/ok/huge-tail.html"])
	assert.Equal(t, site.TooManyRedirects, cut["/special/chain/0"])
	assert.NotContains(t, cut, "/special/chain/1")
	assert.Equal(t, site.Timeout, cut["/special/slow.html"])
	assert.NotContains(t, cut, "/special/ok/slow-0.html")

	p = site.DefaultPolicy
	p.MaxDepth = 0
	assert.Equal(t, site.Expected{"/": site.Page}, s.Reachable(p))
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pages := make(chan int, 1)
	done := make(chan error, 1)
	go func() { done <- site.Serve(ctx, "127.0.0.1:0", time.Millisecond, func(n int) { pages <- n }) }()
	n := <-pages
	assert.Equal(t, site.DefaultPages+1, n, "a clean site: the generated pages and the index")
	cancel()
	require.NoError(t, <-done)
}

// TestRealistic: the realistic mode has a real site's page-size spread and
// link counts, measured on the bytes it serves.
func TestRealistic(t *testing.T) {
	s := site.New(site.Config{Realistic: true, Clean: true})
	require.Equal(t, site.DefaultRealisticPages, s.Config().Pages)
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer func() {
		require.NoError(t, s.Close())
		noFollow.CloseIdleConnections()
	}()
	var sizes []int
	links := map[string]int{}
	for i := range s.Config().Pages {
		u := "/p/" + strconv.Itoa(i) + ".html"
		resp, body := get(t, base+u)
		require.Equal(t, 200, resp.StatusCode, u)
		sizes = append(sizes, len(body))
		links[u] = strings.Count(body, "<a ")
	}
	slices.Sort(sizes)
	median := sizes[len(sizes)/2]
	t.Logf("page sizes: min %d, median %d, p90 %d, max %d bytes", sizes[0], median, sizes[len(sizes)*9/10], sizes[len(sizes)-1])
	assert.InDelta(t, site.RealisticMedianSize, median, 15<<10, "median tens of KiB")
	assert.Less(t, sizes[0], 8<<10)
	big := 0
	for _, n := range sizes {
		if n > 1<<20 {
			big++
		}
	}
	assert.Equal(t, 3, big, "pages past 1 MiB: 125, 325 and 525")
	assert.Less(t, sizes[len(sizes)-1], 3<<20)
	assert.Greater(t, links["/p/50.html"], 200, "a table of contents")
	assert.Greater(t, links["/p/125.html"], 1000, "a general index")

	all := s.Reachable(site.DefaultPolicy)
	assert.Len(t, all, 601, "every page and the index")
	assert.Equal(t, 601, all.Count(site.Page))

	// Under a 1 MiB body limit the general indexes lose their last links:
	// at depth 1 from a general index, some pages are then out of reach.
	p := site.DefaultPolicy
	p.MaxDepth = 2
	full := s.Reachable(p)
	p.MaxBody = 1 << 20
	cut := s.Reachable(p)
	assert.Less(t, len(cut), len(full))
}

func TestClean(t *testing.T) {
	s := site.New(site.Config{Pages: 300, Clean: true})
	all := s.Reachable(site.DefaultPolicy)
	assert.Len(t, all, 301)
	assert.Equal(t, 301, all.Count(site.Page))
}
