package crawl

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/monkey"
)

// result is what fetching one URL gave.
type result struct {
	status    int
	html      bool       // the Content-Type is HTML or XHTML
	location  *url.URL   // a redirect's resolved target
	links     []*url.URL // a page's resolved links
	bytes     int64      // body bytes read
	truncated bool       // the body went past MaxBody and was cut
	err       error      // the request failed (no response, or reading it failed)
}

// page reports whether the response is a page to parse: a 2xx HTML body.
func (r *result) page() bool { return r.html && r.status >= 200 && r.status <= 299 }

// drainLimit is how much of a body that is not parsed (an error page, a
// redirect, a file) is read, so that its connection can be reused.
const drainLimit = 64 << 10

// get sends one GET request for u with the config's user agent. It never
// follows a redirect itself: the crawl does, so that every URL is fetched
// once. On success the caller owns resp.Body; r has the status, the
// redirect target and whether the body is HTML.
func get(ctx context.Context, client *http.Client, cfg *Config, u *url.URL) (resp *http.Response, r result) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, result{err: fmt.Errorf("crawl: request: %w", err)}
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
	resp, err = client.Do(req)
	if err != nil {
		return nil, result{err: err}
	}
	r.status = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc, err := resp.Location(); err == nil {
			r.location = loc
		}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	r.html = mt == "text/html" || mt == "application/xhtml+xml"
	return resp, r
}

// drain reads up to drainLimit of a body that is not parsed.
func drain(body io.Reader) error {
	if _, err := io.Copy(io.Discard, io.LimitReader(body, drainLimit)); err != nil {
		return fmt.Errorf("crawl: reading body: %w", err)
	}
	return nil
}

// readLinks parses the first max bytes of an HTML body for links, and
// reads one byte more to tell whether the body went past max.
func readLinks(u *url.URL, body io.Reader, max int64) (links []*url.URL, truncated bool, err error) {
	links, err = ExtractLinks(u, io.LimitReader(body, max))
	if err != nil {
		return links, false, fmt.Errorf("crawl: reading body: %w", err)
	}
	var one [1]byte
	n, _ := io.ReadFull(body, one[:])
	return links, n > 0, nil
}

// fetch fetches u under the config's timeout: it drains a body that is not
// a page, and has parse read a page's body (reads of body time out with
// the request; parse runs under ctx).
func fetch(ctx context.Context, client *http.Client, cfg *Config, u *url.URL,
	parse func(body io.Reader) (links []*url.URL, truncated bool, err error)) (r result) {
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	resp, r := get(rctx, client, cfg, u)
	if resp == nil {
		return r
	}
	defer resp.Body.Close()
	body := &countingReader{r: resp.Body}
	defer func() { r.bytes = body.n }()
	if !r.page() {
		r.err = drain(body)
		return r
	}
	r.links, r.truncated, r.err = parse(body)
	return r
}

// fetchStreaming fetches u the plain-Go way: the calling goroutine waits
// for the response and parses the body as it reads it.
func fetchStreaming(ctx context.Context, client *http.Client, cfg *Config, u *url.URL) result {
	return fetch(ctx, client, cfg, u, func(body io.Reader) ([]*url.URL, bool, error) {
		return readLinks(u, body, cfg.MaxBody)
	})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// newClient returns the client a crawl uses: an http.Transport of its own,
// with the config's response header limit and as many idle connections
// per host as requests in flight (net/http's default of 2 would close and
// redial most of them), dialing through monkey.Dial (so SetDialFunc
// chooses the dialer, as for the patched default transport), and no
// redirect following: the crawl follows redirects itself. cooperative
// wraps the transport with monkey.WrapTransport, so that a greenlet waiting
// for a response or reading a body parks only itself.
func newClient(cfg *Config, cooperative bool) *http.Client {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			// The transport dials on a goroutine of its own: hide the
			// greenlet, so the dial blocks the plain Go way.
			return monkey.Dial(hub.Detach(ctx), network, addr)
		},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(100, cfg.Concurrency),
		MaxIdleConnsPerHost:    cfg.Concurrency,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: cfg.MaxHeaderBytes,
	}
	var rt http.RoundTripper = t
	if cooperative {
		rt = monkey.WrapTransport(t)
	}
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
