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
	// The default fits real sites, whose index pages can exceed 1 MiB.
	MaxBody int64
	// MaxHeaderBytes bounds the response header of each request (must be
	// > 0; net/http's own default is 10 MB, which lets a hostile server make
	// every request in flight hold that much). A longer header fails the
	// request.
	MaxHeaderBytes int64
	// BodyMemory bounds the body bytes Run buffers at once across all the
	// requests in flight (must be > 0). Run reads each page into memory
	// while it waits on the network and parses it off the hub's run token;
	// a page that finds the budget spent is parsed as it streams instead,
	// so the budget bounds memory without ever making a fetch wait for
	// another. RunPlain, which parses as it reads, buffers nothing, but
	// each of its requests in flight holds a parser's buffer (up to twice
	// the longest token, at most 2 x MaxBody): plain Go's memory grows
	// with Concurrency.
	BodyMemory int64
	// UserAgent is sent with every request.
	UserAgent string
	// Progress, if not nil, is called every ProgressEvery during the crawl
	// and once at its end. It runs inside the crawl (on a greenlet for Run),
	// so it must not block for long.
	Progress func(Progress)
	// ProgressEvery is the progress period (<= 0: one second).
	ProgressEvery time.Duration
}

// Defaults of DefaultConfig.
const (
	// DefaultMaxBody fits the largest pages of real documentation sites
	// (index pages of 1-3 MiB) with room to spare.
	DefaultMaxBody = 8 << 20
	// DefaultMaxHeaderBytes is the response header limit of Chrome (256
	// KiB), far above what real sites send (a few KiB).
	DefaultMaxHeaderBytes = 256 << 10
	// DefaultBodyMemory bounds the bodies Run holds at once: 200 requests
	// in flight of a real site's median page (50 KiB) fit in it.
	DefaultBodyMemory = 32 << 20
)

// DefaultConfig returns the defaults of the crawler example: 50 requests in
// flight, no page or depth bound, 10 redirects, same host only, 10 s per
// request, DefaultMaxBody per body, DefaultMaxHeaderBytes per header and
// DefaultBodyMemory of bodies buffered at once.
func DefaultConfig() Config {
	return Config{
		Concurrency:    50,
		MaxPages:       0,
		MaxDepth:       -1,
		MaxRedirects:   10,
		SameHost:       true,
		Timeout:        10 * time.Second,
		MaxBody:        DefaultMaxBody,
		MaxHeaderBytes: DefaultMaxHeaderBytes,
		BodyMemory:     DefaultBodyMemory,
		UserAgent:      "gevent-go-crawler/1.0 (+https://github.com/gevent-go/gevent)",
	}
}

// ErrConfig is matched (errors.Is) by every error about a bad Config.
var ErrConfig = errors.New("crawl: bad config")

// ErrTooManyRedirects is the error recorded for a redirect past
// Config.MaxRedirects.
var ErrTooManyRedirects = errors.New("crawl: too many redirects")

// ErrRedirectLoop is the error recorded for a redirect back to a URL of the
// redirect chain that led to it (a self-redirect included): the message
// names the loop's URLs.
var ErrRedirectLoop = errors.New("crawl: redirect loop")

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
	case c.MaxHeaderBytes <= 0:
		return nil, bad("max header bytes %d <= 0", c.MaxHeaderBytes)
	case c.BodyMemory <= 0:
		return nil, bad("body memory %d <= 0", c.BodyMemory)
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
