package crawl_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/gevent-go/gevent/examples/crawler/site"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/spawn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	monkey.PatchAll() // first thing, as the crawler's main does
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// testPolicy is the crawler's default policy with a per-request timeout
// long enough for a machine loaded by the race detector and other test
// packages (parsing a 2 MiB page shared with 49 others can take seconds
// there), so that only the site's slow page times out.
var testPolicy = func() site.Policy {
	p := site.DefaultPolicy
	p.Timeout = 2 * time.Minute
	return p
}()

type engine struct {
	name string
	run  func(context.Context, crawl.Config) (crawl.Summary, error)
}

var engines = []engine{{"greenlets", crawl.Run}, {"goroutines", crawl.RunPlain}}

// startSite serves a site for one test.
func startSite(t *testing.T, cfg site.Config) (*site.Site, string) {
	t.Helper()
	s := site.New(cfg)
	u, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, u
}

func config(base string, p site.Policy) crawl.Config {
	c := crawl.DefaultConfig()
	c.Start = base + "/"
	c.MaxDepth = p.MaxDepth
	c.MaxRedirects = p.MaxRedirects
	c.MaxBody = p.MaxBody
	c.Timeout = p.Timeout
	return c
}

// uris turns the crawl's visited URLs into the site's request URIs.
func uris(t *testing.T, base string, visited []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, v := range visited {
		require.True(t, strings.HasPrefix(v, base+"/"), "visited off-site URL %s", v)
		k := strings.TrimPrefix(v, base)
		require.False(t, out[k], "visited %s twice", k)
		out[k] = true
	}
	return out
}

// checkExact compares a finished crawl with what the site says a crawler
// with policy p must do: the same URLs, each requested exactly once, nothing
// else requested, and the same counts per kind.
func checkExact(t *testing.T, s *site.Site, base string, p site.Policy, sum crawl.Summary) {
	t.Helper()
	want := s.Reachable(p)
	got := uris(t, base, sum.Visited)
	assert.ElementsMatch(t, slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(got)), "visited set")

	hits := s.Hits()
	for uri, n := range hits {
		_, expected := want[uri]
		assert.True(t, expected, "requested %s, which a correct crawl never fetches", uri)
		assert.Equal(t, 1, n, "requests for %s", uri)
	}
	assert.Len(t, hits, len(want), "distinct URIs requested")

	assert.Equal(t, want.Count(site.Page), sum.Pages, "pages")
	assert.Equal(t, want.Count(site.File), sum.Files, "non-HTML")
	assert.Equal(t, want.Count(site.Redirect)+want.Count(site.TooManyRedirects)+want.Count(site.RedirectLoop), sum.Redirects, "redirects")
	assert.Equal(t, want.Count(site.NotFound), sum.NotFound, "not found")
	assert.Equal(t, want.Count(site.NotFound)+want.Count(site.ServerError)+want.Count(site.TooManyRedirects)+want.Count(site.RedirectLoop)+want.Count(site.Timeout),
		sum.Errors, "errors")
	// Every failure is classified, and by the kind the site says it is.
	kinds := map[site.Kind]string{site.NotFound: crawl.KindNotFound, site.ServerError: crawl.KindServerError,
		site.TooManyRedirects: crawl.KindTooManyRedirects, site.RedirectLoop: crawl.KindRedirectLoop, site.Timeout: crawl.KindTimeout}
	wantKinds := map[string]int{}
	for k, name := range kinds {
		if n := want.Count(k); n > 0 {
			wantKinds[name] = n
		}
	}
	assert.Equal(t, wantKinds, sum.ErrorsByKind, "errors by kind")
	for _, f := range sum.Failures {
		assert.Equal(t, kinds[want[strings.TrimPrefix(f.URL, base)]], f.Kind, f.URL)
	}
	assert.Equal(t, len(want), sum.Fetched, "fetched")
	assert.Len(t, sum.Failures, sum.Errors)
	assert.Empty(t, sum.Stopped)
}

func TestCrawlEmbeddedSiteExactly(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s, base := startSite(t, site.Config{})
			sum, err := e.run(t.Context(), config(base, testPolicy))
			require.NoError(t, err)
			checkExact(t, s, base, testPolicy, sum)
			assert.Greater(t, sum.Pages, site.DefaultPages, "every generated page and the special ones")
			assert.Empty(t, sum.Truncated, "the default body limit fits the 2 MiB page")
			assert.Equal(t, e.name, sum.Engine)
		})
	}
}

// TestRealisticSite: on the realistic site (pages up to 2.4 MiB, indexes
// with hundreds of links) both engines fetch exactly what the site says,
// with the default body limit; under a 1 MiB limit at depth 2 they report
// the three general indexes as truncated and miss exactly the pages only
// their cut-off links lead to.
func TestRealisticSite(t *testing.T) {
	small := testPolicy
	small.MaxDepth, small.MaxBody = 2, 1<<20
	for _, e := range engines {
		for _, p := range []site.Policy{testPolicy, small} {
			t.Run(fmt.Sprintf("%s/max-body-%d", e.name, p.MaxBody), func(t *testing.T) {
				s, base := startSite(t, site.Config{Realistic: true, Latency: time.Millisecond})
				sum, err := e.run(t.Context(), config(base, p))
				require.NoError(t, err)
				checkExact(t, s, base, p, sum)
				if p.MaxBody < testPolicy.MaxBody {
					assert.Equal(t, []string{base + "/p/125.html", base + "/p/325.html", base + "/p/525.html", base + "/special/huge.html"}, sorted(sum.Truncated))
					assert.Less(t, sum.Pages, site.DefaultRealisticPages)
				} else {
					assert.Empty(t, sum.Truncated)
					assert.Greater(t, sum.Pages, site.DefaultRealisticPages)
				}
			})
		}
	}
}

// TestTinyBodyMemory: with a body budget of one chunk, nearly every page
// of the realistic site is parsed as it streams (the path a hostile site
// forces): the crawl neither stalls nor changes (TestParseBufferedOrStreaming
// checks the links of each parse against the streaming parse).
func TestTinyBodyMemory(t *testing.T) {
	s, base := startSite(t, site.Config{Realistic: true, Pages: 200, Latency: time.Millisecond})
	cfg := config(base, testPolicy)
	cfg.BodyMemory = 1
	sum, err := crawl.Run(t.Context(), cfg)
	require.NoError(t, err)
	checkExact(t, s, base, testPolicy, sum)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestHardCases: a slow page past the timeout, a huge page cut at the body
// limit, a short redirect limit that ends the endless chain, malformed HTML,
// redirect cycles and traps, on a small site.
func TestHardCases(t *testing.T) {
	p := site.Policy{MaxDepth: -1, MaxRedirects: 3, MaxBody: 256 << 10, Timeout: 500 * time.Millisecond}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s, base := startSite(t, site.Config{Pages: 50, SlowDelay: 5 * time.Second, HugeSize: 4 << 20})
			start := time.Now()
			sum, err := e.run(t.Context(), config(base, p))
			require.NoError(t, err)
			checkExact(t, s, base, p, sum)

			got := uris(t, base, sum.Visited)
			for _, u := range []string{"/special/chain/3", "/special/cycle/a", "/special/cycle/b", "/special/malformed/3.html",
				"/special/ok/0-2.html?a=1&b=2", "/special/based/leaf.html", "/special/ok/huge-head.html", "/special/ok/xhtml-0.html"} {
				assert.True(t, got[u], "visited %s", u)
			}
			for _, u := range []string{"/special/chain/4", "/special/ok/huge-tail.html", "/special/ok/slow-0.html", "/special/ok/1-1.html"} {
				assert.False(t, got[u], "visited %s", u)
			}
			assert.Equal(t, []string{base + "/special/huge.html"}, sum.Truncated)
			var reasons []string
			for _, f := range sum.Failures {
				reasons = append(reasons, strings.TrimPrefix(f.URL, base)+" "+f.Error)
			}
			assert.Contains(t, strings.Join(reasons, "\n"), "/special/chain/3 "+crawl.ErrTooManyRedirects.Error())
			assert.Contains(t, strings.Join(reasons, "\n"), "/special/slow.html ")
			assert.Less(t, time.Since(start), 4*time.Second, "the slow page is cut at the timeout")
		})
	}
}

// TestMaxDepth: the URLs fetched under a depth limit are the shortest-path
// ones, whatever order the responses arrive in.
func TestMaxDepth(t *testing.T) {
	for _, e := range engines {
		for _, depth := range []int{0, 1, 2, 4} {
			t.Run(e.name+"/"+string(rune('0'+depth)), func(t *testing.T) {
				s, base := startSite(t, site.Config{Pages: 400, Latency: time.Millisecond})
				p := testPolicy
				p.MaxDepth = depth
				sum, err := e.run(t.Context(), config(base, p))
				require.NoError(t, err)
				checkExact(t, s, base, p, sum)
			})
		}
	}
}

func TestMaxPages(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s, base := startSite(t, site.Config{Pages: 500})
			cfg := config(base, testPolicy)
			cfg.MaxPages = 100
			cfg.Concurrency = 7
			sum, err := e.run(t.Context(), cfg)
			require.NoError(t, err)
			assert.Equal(t, 100, sum.Fetched)
			assert.Equal(t, crawl.StopMaxPages, sum.Stopped)
			hits := s.Hits()
			assert.Len(t, hits, 100)
			for uri, n := range hits {
				assert.Equal(t, 1, n, uri)
			}
			assert.Len(t, uris(t, base, sum.Visited), 100)
		})
	}
}

// TestInterrupt: cancelling the crawl's ctx stops it promptly; the summary
// still tells what was done, and nothing was fetched twice.
func TestInterrupt(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s, base := startSite(t, site.Config{Latency: 50 * time.Millisecond})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var cancelled time.Time
			var last crawl.Progress
			cfg := config(base, testPolicy)
			cfg.Concurrency = 10
			cfg.ProgressEvery = 20 * time.Millisecond
			cfg.Progress = func(p crawl.Progress) {
				last = p
				if p.Done >= 50 && cancelled.IsZero() {
					cancelled = time.Now()
					cancel()
				}
			}
			sum, err := e.run(ctx, cfg)
			require.NoError(t, err)
			require.False(t, cancelled.IsZero(), "the crawl ended before it was interrupted")
			assert.Less(t, time.Since(cancelled), time.Second, "stops promptly")
			assert.Equal(t, crawl.StopInterrupted, sum.Stopped)
			assert.GreaterOrEqual(t, sum.Fetched, 50)
			assert.Less(t, sum.Fetched, 500)
			assert.Equal(t, sum.Fetched, sum.Pages+sum.Files+sum.Redirects+sum.Errors-tooMany(sum))
			assert.Zero(t, last.Queued, "every URL not fetched was dropped")
			assert.Positive(t, last.Dropped, "the URLs known and never fetched are counted")
			assert.Equal(t, sum.Fetched, last.Done)
			for uri, n := range s.Hits() {
				assert.Equal(t, 1, n, uri)
			}
		})
	}
}

// tooMany counts failures that are also counted as redirects.
func tooMany(sum crawl.Summary) int {
	return sum.ErrorsByKind[crawl.KindTooManyRedirects] + sum.ErrorsByKind[crawl.KindRedirectLoop]
}

// TestConcurrencyOverlaps: with 20 ms per response, 50 requests in flight
// crawl many times faster than one.
func TestConcurrencyOverlaps(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			_, base := startSite(t, site.Config{Pages: 1000, Latency: 20 * time.Millisecond})
			rate := func(conc, pages int) float64 {
				cfg := config(base, testPolicy)
				cfg.Concurrency = conc
				cfg.MaxPages = pages
				sum, err := e.run(t.Context(), cfg)
				require.NoError(t, err)
				require.Equal(t, pages, sum.Fetched)
				return float64(sum.Fetched) / sum.Seconds
			}
			one := rate(1, 40)
			fifty := rate(50, 1000)
			t.Logf("%s: %.0f URLs/s at concurrency 1, %.0f at 50 (%.1fx)", e.name, one, fifty, fifty/one)
			assert.Less(t, one, 55.0, "one at a time cannot beat 1/latency")
			// Ideally about 40x; the margin is for a loaded 2-core machine
			// under -race.
			assert.Greater(t, fifty/one, 4.0, "50 in flight overlap")
		})
	}
}

// TestCleanSite: on a clean site a crawl finds every page and no error,
// which is what the bench harness checks.
func TestCleanSite(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s, base := startSite(t, site.Config{Pages: 500, Clean: true})
			sum, err := e.run(t.Context(), config(base, testPolicy))
			require.NoError(t, err)
			checkExact(t, s, base, testPolicy, sum)
			assert.Equal(t, 501, sum.Pages)
			assert.Zero(t, sum.Errors)
		})
	}
}

func TestSameHostOff(t *testing.T) {
	_, base := startSite(t, site.Config{Pages: 30})
	cfg := config(base, testPolicy)
	cfg.SameHost = false
	sum, err := crawl.Run(t.Context(), cfg)
	require.NoError(t, err)
	var off []string
	for _, v := range sum.Visited {
		if !strings.HasPrefix(v, base+"/") {
			off = append(off, v)
		}
	}
	// The only other http host the site links to is a closed loopback port.
	assert.Contains(t, off, "http://127.0.0.1:1/away.html")
	for _, u := range off {
		assert.True(t, strings.HasPrefix(u, "http://127.0.0.1:1/"), u)
	}
	for _, f := range sum.Failures {
		if strings.HasPrefix(f.URL, "http://127.0.0.1:1/") {
			assert.Zero(t, f.Status, "no response from a closed port")
			assert.Equal(t, crawl.KindRefused, f.Kind, f.Error)
		}
	}
	assert.Positive(t, sum.ErrorsByKind[crawl.KindRefused])
}

// TestStartFails: a start URL that fails (a 404, a redirect loop, a closed
// port, a redirect to a 500) is reported as such, with its kind; a start URL
// that redirects to a good page is not a failure.
func TestStartFails(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/self", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/self", http.StatusFound) })
	mux.HandleFunc("/to-error", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/error", http.StatusFound) })
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/to-ok", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusMovedPermanently) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<a href="/missing">gone</a>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, e := range engines {
		for _, tc := range []struct{ start, kind, failed string }{
			{srv.URL + "/missing", crawl.KindNotFound, srv.URL + "/missing"},
			{srv.URL + "/self", crawl.KindRedirectLoop, srv.URL + "/self"},
			{srv.URL + "/to-error", crawl.KindServerError, srv.URL + "/error"},
			{"http://127.0.0.1:1/", crawl.KindRefused, "http://127.0.0.1:1/"},
			{srv.URL + "/to-ok", "", ""},
		} {
			t.Run(e.name+tc.start[strings.LastIndex(tc.start, "/"):], func(t *testing.T) {
				cfg := crawl.DefaultConfig()
				cfg.Start = tc.start
				sum, err := e.run(t.Context(), cfg)
				require.NoError(t, err)
				if tc.kind == "" {
					assert.Empty(t, sum.StartError)
					assert.Equal(t, 1, sum.ErrorsByKind[crawl.KindNotFound], "a page it links to failed, not the start")
					return
				}
				assert.True(t, strings.HasPrefix(sum.StartError, tc.failed+": "), sum.StartError)
				require.NotEmpty(t, sum.Failures)
				assert.Equal(t, tc.kind, sum.Failures[len(sum.Failures)-1].Kind)
			})
		}
	}
}

// TestRedirectLoopNamed: a loop is an error on the URL that closes it, and
// its message names every URL of the loop.
func TestRedirectLoopNamed(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			_, base := startSite(t, site.Config{Pages: 10})
			sum, err := e.run(t.Context(), config(base, testPolicy))
			require.NoError(t, err)
			msgs := map[string]string{}
			for _, f := range sum.Failures {
				msgs[strings.TrimPrefix(f.URL, base)] = f.Error
			}
			a, b, self := base+"/special/cycle/a", base+"/special/cycle/b", base+"/special/cycle/self"
			assert.Equal(t, crawl.ErrRedirectLoop.Error()+": "+a+" -> "+b+" -> "+a, msgs["/special/cycle/b"])
			assert.Equal(t, crawl.ErrRedirectLoop.Error()+": "+self+" -> "+self, msgs["/special/cycle/self"])
			assert.NotContains(t, msgs, "/special/cycle/a")
		})
	}
}

// TestHeaderLimit: a response header past MaxHeaderBytes fails the request
// (net/http's own limit would be 10 MB); a larger limit lets it through.
func TestHeaderLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Pad", strings.Repeat("x", 300<<10))
		_, _ = w.Write([]byte("<p>ok</p>"))
	}))
	defer srv.Close()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			cfg := crawl.DefaultConfig()
			cfg.Start = srv.URL + "/"
			sum, err := e.run(t.Context(), cfg)
			require.NoError(t, err)
			require.Len(t, sum.Failures, 1)
			assert.Contains(t, sum.Failures[0].Error, "headers exceeded")
			assert.Zero(t, sum.Pages)

			cfg.MaxHeaderBytes = 1 << 20
			sum, err = e.run(t.Context(), cfg)
			require.NoError(t, err)
			assert.Empty(t, sum.Failures)
			assert.Equal(t, 1, sum.Pages)
		})
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*crawl.Config)
	}{
		{"no start", func(c *crawl.Config) { c.Start = "" }},
		{"relative start", func(c *crawl.Config) { c.Start = "/p/1.html" }},
		{"ftp start", func(c *crawl.Config) { c.Start = "ftp://127.0.0.1/" }},
		{"bad url", func(c *crawl.Config) { c.Start = "http://[::1" }},
		{"zero concurrency", func(c *crawl.Config) { c.Concurrency = 0 }},
		{"zero timeout", func(c *crawl.Config) { c.Timeout = 0 }},
		{"zero body", func(c *crawl.Config) { c.MaxBody = 0 }},
		{"negative redirects", func(c *crawl.Config) { c.MaxRedirects = -1 }},
	} {
		for _, e := range engines {
			t.Run(tc.name+"/"+e.name, func(t *testing.T) {
				cfg := crawl.DefaultConfig()
				cfg.Start = "http://127.0.0.1:1/"
				tc.edit(&cfg)
				_, err := e.run(t.Context(), cfg)
				require.Error(t, err)
				assert.True(t, errors.Is(err, crawl.ErrConfig), "%v", err)
				assert.True(t, strings.HasPrefix(err.Error(), "crawl: "), err.Error())
			})
		}
	}
}

// TestRunFromKilledGreenlet: Run called by a greenlet of another hub is
// interrupted by a kill of that greenlet, promptly, and leaves nothing
// running (goleak checks at the end).
func TestRunFromKilledGreenlet(t *testing.T) {
	_, base := startSite(t, site.Config{Latency: 50 * time.Millisecond})
	h := hub.MustNew()
	defer func() { require.NoError(t, h.Stop(context.Background())) }()
	busy := make(chan struct{})
	var once sync.Once
	g := spawn.Spawn(hub.NewContext(t.Context(), h), func(ctx context.Context) (crawl.Summary, error) {
		cfg := config(base, testPolicy)
		cfg.Concurrency = 10
		cfg.ProgressEvery = 20 * time.Millisecond
		cfg.Progress = func(p crawl.Progress) {
			if p.Done >= 20 {
				once.Do(func() { close(busy) })
			}
		}
		return crawl.Run(ctx, cfg)
	})
	<-busy
	start := time.Now()
	require.NoError(t, g.Kill(context.Background(), nil))
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.True(t, g.Killed())
}
