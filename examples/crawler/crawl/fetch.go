package crawl

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// result is what fetching one URL gave.
type result struct {
	status    int
	html      bool
	location  *url.URL   // a redirect's resolved target
	links     []*url.URL // a page's resolved links
	bytes     int64      // body bytes read
	truncated bool       // the body went past MaxBody and was cut
	err       error      // the request failed (no response, or reading it failed)
}

// drainLimit is how much of a body that is not parsed (an error page, a
// redirect, a file) is read, so that its connection can be reused.
const drainLimit = 64 << 10

// fetch makes one GET request for u under the config's timeout, user agent
// and body limit. It never follows a redirect itself: the crawl does, so that
// every URL is fetched once.
func fetch(ctx context.Context, client *http.Client, cfg *Config, u *url.URL) (r result) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return result{err: fmt.Errorf("crawl: request: %w", err)}
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	body := &countingReader{r: resp.Body}
	defer func() { r.bytes = body.n }()

	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc, err := resp.Location(); err == nil {
			r.location = loc
		}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	r.html = mt == "text/html" || mt == "application/xhtml+xml"
	if resp.StatusCode < 200 || resp.StatusCode > 299 || !r.html {
		if _, err := io.Copy(io.Discard, io.LimitReader(body, drainLimit)); err != nil {
			r.err = fmt.Errorf("crawl: reading body: %w", err)
		}
		return r
	}
	r.links, err = ExtractLinks(u, io.LimitReader(body, cfg.MaxBody))
	if err != nil {
		r.err = fmt.Errorf("crawl: reading body: %w", err)
		return r
	}
	// One byte more tells whether the body went past the limit.
	var one [1]byte
	if n, _ := body.Read(one[:]); n > 0 {
		r.truncated = true
	}
	return r
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

// newClient returns the client both crawlers use: net/http's default
// transport (made cooperative for greenlets by monkey.PatchAll), and no
// redirect following: the crawl follows redirects itself.
func newClient() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
