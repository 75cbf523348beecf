package crawl

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config is what a crawl does. Start with DefaultConfig and set Start.
type Config struct {
	// Start is the absolute http or https URL the crawl begins at.
	Start string
	// Concurrency is the number of requests in flight at most (the pool's
	// size). It must be at least 1.
	Concurrency int
	// MaxPages bounds the number of URLs fetched (<= 0: no bound).
	MaxPages int
	// MaxDepth bounds the number of links followed from Start (< 0: no
	// bound). Following a redirect does not add depth.
	MaxDepth int
	// MaxRedirects bounds the consecutive redirects followed from one link;
	// past it the redirect counts as an error (ErrTooManyRedirects).
	MaxRedirects int
	// SameHost, when set, follows only links to Start's host (and port).
	// Only http and https links are ever followed.
	SameHost bool
	// Timeout bounds each request, body included (must be > 0).
	Timeout time.Duration
	// MaxBody is the number of body bytes read and parsed per page (must be
	// > 0); a longer body is cut there and reported in Summary.Truncated.
	MaxBody int64
	// UserAgent is sent with every request.
	UserAgent string
	// Progress, if not nil, is called every ProgressEvery during the crawl
	// and once at its end. It runs inside the crawl (on a greenlet for Run),
	// so it must not block for long.
	Progress func(Progress)
	// ProgressEvery is the progress period (<= 0: one second).
	ProgressEvery time.Duration
}

// DefaultConfig returns the defaults of the crawler example: 50 requests in
// flight, no page or depth bound, 10 redirects, same host only, 10 s per
// request, 1 MiB per body.
func DefaultConfig() Config {
	return Config{
		Concurrency:  50,
		MaxPages:     0,
		MaxDepth:     -1,
		MaxRedirects: 10,
		SameHost:     true,
		Timeout:      10 * time.Second,
		MaxBody:      1 << 20,
		UserAgent:    "gevent-go-crawler/1.0 (+https://github.com/gevent-go/gevent)",
	}
}

// ErrConfig is matched (errors.Is) by every error about a bad Config.
var ErrConfig = errors.New("crawl: bad config")

// ErrTooManyRedirects is the error recorded for a redirect past
// Config.MaxRedirects.
var ErrTooManyRedirects = errors.New("crawl: too many redirects")

// check validates c and returns the parsed, normalized start URL.
func (c *Config) check() (*url.URL, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.Concurrency < 1:
		return nil, bad("concurrency %d < 1", c.Concurrency)
	case c.Timeout <= 0:
		return nil, bad("timeout %v <= 0", c.Timeout)
	case c.MaxBody <= 0:
		return nil, bad("max body %d <= 0", c.MaxBody)
	case c.MaxRedirects < 0:
		return nil, bad("max redirects %d < 0", c.MaxRedirects)
	}
	u, err := url.Parse(c.Start)
	if err != nil {
		return nil, bad("start URL: %v", err)
	}
	n, ok := Normalize(u)
	if !ok {
		return nil, bad("start URL %q is not an absolute http(s) URL", c.Start)
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = time.Second
	}
	return n, nil
}
