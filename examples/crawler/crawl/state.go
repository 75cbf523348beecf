package crawl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// job is one URL to fetch.
type job struct {
	u   *url.URL
	key string
}

type entryState uint8

const (
	beyond   entryState = iota // found past MaxDepth; fetched if a shorter way turns up
	queued                     // waiting to be fetched
	fetching                   // request in flight
	done                       // fetched
	dropped                    // never fetched: the crawl stopped first
)

// entry is what the crawl knows about one URL.
type entry struct {
	depth int // links followed from the start, by the shortest way known
	hops  int // consecutive redirects that led here
	state entryState
	out   []edge // where the URL led; kept only when MaxDepth bounds the crawl
	// via is the redirect that first led here (nil if a link did), so that
	// following via from a redirect walks back up its redirect chain.
	via *entry
	key string
}

// edge is a link or redirect out of a fetched URL.
type edge struct {
	u        *url.URL
	redirect bool
}

// state is the crawl's bookkeeping: which URLs are known, at which depth,
// and what happened. It has no lock of its own: the greenlet crawler touches
// it only from greenlets of one hub with one run token (gevent's guarantee:
// code between two cooperative points runs alone), the plain crawler under a
// mutex.
type state struct {
	cfg   Config
	start *url.URL
	began time.Time

	seen     map[string]*entry
	visited  []string // keys, in the order their fetch began
	pending  int      // jobs handed out and not yet finished or dropped
	fetched  int      // fetches begun
	finished int      // fetches finished
	dropped  int      // jobs handed out and never fetched: the crawl stopped first

	pages, files, redirects, notFound int
	bytes                             int64
	failures                          []Failure
	byKind                            map[string]int
	startErr                          string
	truncated                         []string
	stopped                           string
}

func newState(cfg Config) (*state, error) {
	start, err := cfg.check()
	if err != nil {
		return nil, err
	}
	return &state{cfg: cfg, start: start, began: time.Now(), seen: make(map[string]*entry), byKind: make(map[string]int)}, nil
}

// seed returns the start job.
func (s *state) seed() []job { return s.offer(s.start, 0, 0, nil, nil) }

// follows returns the normalized URL and key of u if the crawl follows it.
func (s *state) follows(u *url.URL) (*url.URL, string, bool) {
	n, ok := Normalize(u)
	if !ok || (s.cfg.SameHost && n.Host != s.start.Host) {
		return nil, "", false
	}
	return n, n.String(), true
}

// offer records a URL found at depth after hops consecutive redirects (the
// last one from via, nil for a link) and appends to out the jobs that are
// now due: the URL itself if it is new and within MaxDepth, or, if this is
// a shorter way to a URL already fetched, the URLs it led to that the
// shorter way brings into reach.
func (s *state) offer(u *url.URL, depth, hops int, via *entry, out []job) []job {
	n, key, ok := s.follows(u)
	if !ok {
		return out
	}
	within := s.cfg.MaxDepth < 0 || depth <= s.cfg.MaxDepth
	e := s.seen[key]
	if e == nil {
		e = &entry{depth: depth, hops: hops, via: via, key: key}
		s.seen[key] = e
		if !within {
			return out // remembered as beyond, in case a shorter way turns up
		}
		e.state = queued
		s.pending++
		return append(out, job{u: n, key: key})
	}
	if depth >= e.depth {
		return out
	}
	e.depth, e.hops = depth, hops
	switch e.state {
	case beyond:
		if within {
			e.state = queued
			s.pending++
			out = append(out, job{u: n, key: key})
		}
	case done:
		for _, ed := range e.out {
			if ed.redirect {
				out = s.offer(ed.u, depth, hops+1, e, out)
			} else {
				out = s.offer(ed.u, depth+1, 0, nil, out)
			}
		}
	}
	// queued or fetching: finish reads the depth when the page is in.
	return out
}

// limited reports whether MaxPages fetches have begun.
func (s *state) limited() bool { return s.cfg.MaxPages > 0 && s.fetched >= s.cfg.MaxPages }

// begin is called before fetching j. It reports false if the crawl must not
// fetch it (MaxPages reached); the job is then dropped.
func (s *state) begin(j job) bool {
	e := s.seen[j.key]
	if s.limited() {
		s.stopped = StopMaxPages
		s.drop(j)
		return false
	}
	e.state = fetching
	s.fetched++
	return true
}

// abandon drops every URL handed out and never fetched: called once the
// crawl's workers have all stopped.
func (s *state) abandon() {
	for _, e := range s.seen {
		if e.state == queued || e.state == fetching {
			e.state = dropped
			s.pending--
			s.dropped++
		}
	}
}

// drop gives up a job that was handed out and will not be fetched.
func (s *state) drop(j job) {
	if e := s.seen[j.key]; e.state == queued || e.state == fetching {
		e.state = dropped
		s.pending--
		s.dropped++
	}
}

// finish records what fetching j gave and returns the jobs it leads to.
func (s *state) finish(j job, r result) []job {
	e := s.seen[j.key]
	e.state = done
	s.pending--
	s.finished++
	s.visited = append(s.visited, j.key)
	s.bytes += r.bytes
	if r.truncated {
		s.truncated = append(s.truncated, j.key)
	}
	keep := s.cfg.MaxDepth >= 0
	var out []job
	switch {
	case r.err != nil:
		s.fail(e, r.status, r.err)
	case r.status >= 300 && r.status < 400:
		s.redirects++
		switch loop := s.loop(e, r.location); {
		case r.location == nil:
			s.fail(e, r.status, errors.New("crawl: redirect without a Location"))
		case loop != "":
			s.fail(e, r.status, fmt.Errorf("%w: %s", ErrRedirectLoop, loop))
		case e.hops+1 > s.cfg.MaxRedirects:
			s.fail(e, r.status, fmt.Errorf("%w (%d)", ErrTooManyRedirects, s.cfg.MaxRedirects))
		default:
			out = s.offer(r.location, e.depth, e.hops+1, e, out)
			if keep {
				e.out = append(e.out, edge{u: r.location, redirect: true})
			}
		}
	case r.status < 200 || r.status > 299:
		if r.status == http.StatusNotFound {
			s.notFound++
		}
		s.fail(e, r.status, fmt.Errorf("crawl: %s", http.StatusText(r.status)))
	case !r.html:
		s.files++
	default:
		s.pages++
		for _, l := range r.links {
			out = s.offer(l, e.depth+1, 0, nil, out)
			if keep {
				e.out = append(e.out, edge{u: l})
			}
		}
	}
	return out
}

// loop returns, if a redirect from e to target closes a loop (target is e
// or a URL of the redirect chain that led to e), the loop's URLs as
// "a -> b -> a"; "" otherwise. The chain is the one by which each URL was
// first found.
func (s *state) loop(e *entry, target *url.URL) string {
	if target == nil {
		return ""
	}
	_, key, ok := s.follows(target)
	if !ok || s.seen[key] == nil {
		return ""
	}
	var path []string // e, the redirect that led to e, ..., back to target
	for x := e; x != nil; x = x.via {
		path = append(path, x.key)
		if x.key == key {
			slices.Reverse(path)
			return strings.Join(append(path, key), " -> ")
		}
	}
	return ""
}

func (s *state) fail(e *entry, status int, err error) {
	kind := failureKind(status, err)
	s.failures = append(s.failures, Failure{URL: e.key, Status: status, Kind: kind, Error: err.Error()})
	s.byKind[kind]++
	if e.depth == 0 && s.startErr == "" {
		// Depth 0 is the start URL and the redirects it led to.
		s.startErr = e.key + ": " + err.Error()
	}
}

// Progress is a snapshot of a running crawl.
type Progress struct {
	Done    int           // fetches completed
	Pages   int           // HTML pages fetched
	Queued  int           // URLs waiting or in flight
	Dropped int           // URLs found and never fetched: the crawl stopped first
	Errors  int           // failures so far
	Bytes   int64         // body bytes read
	Elapsed time.Duration // since the crawl began
}

// PagesPerSec is the rate of HTML pages so far.
func (p Progress) PagesPerSec() float64 { return rate(p.Pages, p.Elapsed) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func (s *state) progress() Progress {
	return Progress{
		Done: s.finished, Pages: s.pages, Queued: s.pending, Dropped: s.dropped,
		Errors: len(s.failures), Bytes: s.bytes, Elapsed: time.Since(s.began),
	}
}

// Reasons a crawl stopped before it ran out of URLs (Summary.Stopped).
const (
	StopMaxPages    = "max-pages"
	StopInterrupted = "interrupted"
)

// Kinds of failures (Failure.Kind, Summary.ErrorsByKind).
const (
	KindNotFound         = "not_found"          // 404
	KindServerError      = "server_error"       // 5xx
	KindHTTPError        = "http_error"         // any other status that is not 2xx or 3xx
	KindTimeout          = "timeout"            // no complete response within Config.Timeout
	KindTooManyRedirects = "too_many_redirects" // ErrTooManyRedirects
	KindRedirectLoop     = "redirect_loop"      // ErrRedirectLoop
	KindRefused          = "refused"            // the connection was refused
	KindOther            = "other"              // anything else: a reset, a bad response, a header too long, ...
)

// failureKind classifies a failure.
func failureKind(status int, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRedirectLoop):
		return KindRedirectLoop
	case errors.Is(err, ErrTooManyRedirects):
		return KindTooManyRedirects
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case status == http.StatusNotFound:
		return KindNotFound
	case status >= 500:
		return KindServerError
	case status >= 400 || status > 0 && status < 200:
		return KindHTTPError
	}
	return KindOther
}

// Failure is one URL that did not give a usable response.
type Failure struct {
	URL    string `json:"url"`
	Status int    `json:"status,omitempty"` // the HTTP status, 0 if there was no response
	Kind   string `json:"kind"`             // one of the Kind constants
	Error  string `json:"error"`
}

// Summary is what a crawl did.
type Summary struct {
	Start       string `json:"start"`
	Engine      string `json:"engine"`
	Concurrency int    `json:"concurrency"`
	Fetched     int    `json:"fetched"`   // requests completed (= len(Visited)); an interrupted one is not counted
	Pages       int    `json:"pages"`     // HTML pages fetched and parsed
	Files       int    `json:"non_html"`  // non-HTML responses, not parsed
	Redirects   int    `json:"redirects"` // 3xx responses
	NotFound    int    `json:"not_found"` // 404s (also counted in Errors)
	Errors      int    `json:"errors"`    // = len(Failures)
	// ErrorsByKind counts Failures by Kind.
	ErrorsByKind map[string]int `json:"errors_by_kind"`
	// StartError, when not empty, says why the start URL itself (or a
	// redirect it led to) failed: the URL and the error.
	StartError  string  `json:"start_error,omitempty"`
	Bytes       int64   `json:"bytes"` // body bytes read
	Seconds     float64 `json:"seconds"`
	PagesPerSec float64 `json:"pages_per_sec"`
	// Stopped says why the crawl ended early ("max-pages", "interrupted"),
	// empty if it ran out of URLs.
	Stopped   string    `json:"stopped,omitempty"`
	Truncated []string  `json:"truncated"` // URLs whose body was cut at MaxBody
	Failures  []Failure `json:"failures"`
	Visited   []string  `json:"-"` // every URL whose fetch completed, sorted
}

func (s *state) summary(engine string) Summary {
	el := time.Since(s.began)
	visited := slices.Clone(s.visited)
	slices.Sort(visited)
	return Summary{
		Start: s.start.String(), Engine: engine, Concurrency: s.cfg.Concurrency,
		Fetched: s.finished, Pages: s.pages, Files: s.files, Redirects: s.redirects,
		NotFound: s.notFound, Errors: len(s.failures), ErrorsByKind: maps.Clone(s.byKind), StartError: s.startErr, Bytes: s.bytes,
		Seconds: el.Seconds(), PagesPerSec: rate(s.pages, el), Stopped: s.stopped,
		Truncated: append([]string{}, s.truncated...), Failures: append([]Failure{}, s.failures...), Visited: visited,
	}
}
