package site

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Kind is what a crawler gets when it fetches one URL of the site.
type Kind int

// The kinds of URLs a crawl meets.
const (
	// Page is an HTML (or XHTML) 2xx response, parsed for links.
	Page Kind = iota
	// File is a 2xx response that is not HTML: fetched, never parsed.
	File
	// Redirect is a 3xx response whose target is followed when it is on the
	// site and within the redirect limit.
	Redirect
	// TooManyRedirects is a 3xx response past the policy's redirect limit.
	TooManyRedirects
	// RedirectLoop is a 3xx response back to a URL of the redirect chain
	// that led to it (itself included): an error, never followed.
	RedirectLoop
	// NotFound is a 404.
	NotFound
	// ServerError is a 5xx.
	ServerError
	// Timeout is a response slower than the policy's per-request timeout.
	Timeout
)

var kindNames = [...]string{"page", "file", "redirect", "too-many-redirects", "redirect-loop", "not-found", "server-error", "timeout"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Policy is the part of a crawler's configuration that decides which URLs it
// fetches.
type Policy struct {
	// MaxDepth bounds the number of links followed from "/" (< 0: no bound).
	// Following a redirect does not add depth.
	MaxDepth int
	// MaxRedirects bounds the consecutive redirects followed from one link.
	MaxRedirects int
	// MaxBody is the number of body bytes parsed for links (<= 0: all). The
	// generated pages are a few KiB, realistic ones up to 2.6 MiB, and
	// /special/huge.html is Config.HugeSize.
	MaxBody int64
	// Timeout fails a response slower than it (0: none).
	Timeout time.Duration
}

// DefaultPolicy is the crawler example's default: no depth bound, 10
// redirects, 8 MiB bodies, 10 s per request.
var DefaultPolicy = Policy{MaxDepth: -1, MaxRedirects: 10, MaxBody: 8 << 20, Timeout: 10 * time.Second}

// Expected maps the request URI (path plus query) of every URL a correct
// crawler starting at "/" fetches to what it gets there. Off-site URLs are
// never in it.
type Expected map[string]Kind

// Count returns how many URLs are of kind k.
func (e Expected) Count(k Kind) int {
	n := 0
	for _, v := range e {
		if v == k {
			n++
		}
	}
	return n
}

// Reachable computes, from the site's own link graph rather than from its
// HTML, the URLs a crawler with policy p fetches starting at "/", each once.
// Depths are shortest-path depths (a 0-1 breadth-first search: a link costs
// 1, a redirect 0), which is what a crawler gets that lowers a URL's depth
// when it finds a shorter way to it. A redirect back to a URL of the
// redirect chain by which it was first found is a RedirectLoop.
func (s *Site) Reachable(p Policy) Expected {
	type item struct {
		uri         string
		depth, hops int
	}
	out := Expected{}
	depth := map[string]int{"/": 0}
	via := map[string]string{} // the redirect by which a URL was first found
	inChain := func(uri, target string) bool {
		for x, ok := uri, true; ok; x, ok = via[x] {
			if x == target {
				return true
			}
		}
		return false
	}
	dq := []item{{uri: "/"}} // a deque: redirects go to the front, links to the back
	for len(dq) > 0 {
		it := dq[0]
		dq = dq[1:]
		if it.depth > depth[it.uri] {
			continue // a shorter way was found after this one was queued
		}
		path, _, _ := strings.Cut(it.uri, "?")
		n := s.lookup(path)
		kind, targets := s.classify(n, p)
		switch {
		case kind == Redirect && n.follow != "" && inChain(it.uri, n.follow):
			kind, targets = RedirectLoop, nil
		case kind == Redirect && n.follow != "" && it.hops+1 > p.MaxRedirects:
			kind, targets = TooManyRedirects, nil
		}
		out[it.uri] = kind
		for _, t := range targets {
			next := item{uri: t, depth: it.depth + 1}
			if kind == Redirect {
				next.depth, next.hops = it.depth, it.hops+1
			}
			if p.MaxDepth >= 0 && next.depth > p.MaxDepth {
				continue
			}
			d, known := depth[t]
			if known && d <= next.depth {
				continue
			}
			if !known && kind == Redirect {
				via[t] = it.uri
			}
			depth[t] = next.depth
			if kind == Redirect {
				dq = append([]item{next}, dq...)
			} else {
				dq = append(dq, next)
			}
		}
	}
	return out
}

// classify says what fetching n gives under p, and which request URIs a
// crawler follows from it.
func (s *Site) classify(n node, p Policy) (Kind, []string) {
	if p.Timeout > 0 && s.cfg.Latency+n.delay >= p.Timeout {
		return Timeout, nil
	}
	switch {
	case n.location != "":
		if n.follow == "" {
			return Redirect, nil
		}
		return Redirect, []string{n.follow}
	case n.status == http.StatusNotFound:
		return NotFound, nil
	case n.status >= 500:
		return ServerError, nil
	case n.ctype != htmlType && n.ctype != "application/xhtml+xml":
		return File, nil
	case n.raw != "":
		return Page, n.rawTargets
	case n.real != nil && p.MaxBody > 0:
		// A crawler cutting the body sees the links whose tag ends within
		// the first MaxBody bytes.
		ends, _ := n.real.render(io.Discard)
		var ts []string
		for i, l := range n.links {
			if int64(ends[i]) <= p.MaxBody {
				ts = append(ts, l.target)
			}
		}
		return Page, ts
	}
	var ts []string
	for _, l := range n.links {
		if l.target != "" {
			ts = append(ts, l.target)
		}
	}
	if p.MaxBody <= 0 || int64(n.pad) <= p.MaxBody {
		for _, l := range n.late {
			ts = append(ts, l.target)
		}
	}
	return Page, ts
}
