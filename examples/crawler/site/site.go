// Package site serves a generated web site for the crawler example, so the
// crawler runs on a machine with no network: a few thousand interlinked pages
// on 127.0.0.1, with 404s, redirects (a redirect cycle, a self-redirect and an
// endless chain among them), an off-site redirect, a server error, non-HTML files, malformed
// HTML, a slow page, a huge page, links in every relative and absolute form,
// and trap links (in comments, scripts, attributes that are not href, non-HTML
// bodies) that a crawler using a real HTML parser never follows.
//
// The site knows its own link graph, so a test can compute exactly which URLs
// a crawler with a given policy must fetch (Reachable) and check, from the
// server's side, that each was fetched exactly once (Hits).
package site

import (
	"context"
	"errors"
	"fmt"
	"html"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultPages     = 3000
	DefaultSlowDelay = 300 * time.Millisecond
	DefaultHugeSize  = 2 << 20
)

// Config shapes a generated site. The zero value is usable: DefaultPages
// pages, no latency, a DefaultSlowDelay slow page and a DefaultHugeSize huge
// page.
type Config struct {
	// Pages is the number of generated pages /p/0.html ... (<= 0: DefaultPages).
	Pages int
	// Latency is added to every response, redirects and 404s included (the
	// network and server time a real site would have).
	Latency time.Duration
	// SlowDelay is the extra delay of /special/slow.html (0: DefaultSlowDelay).
	SlowDelay time.Duration
	// HugeSize is the size in bytes of /special/huge.html (<= 0: DefaultHugeSize).
	HugeSize int
	// Seed varies the generated link graph.
	Seed uint64
	// Clean leaves out everything but the generated pages: no 404s,
	// redirects, files, special pages or links to other hosts, so that a
	// crawl must end with Pages+1 HTML pages (the index too) and no error.
	// Benchmark harnesses that check exactly that use it.
	Clean bool
	// Realistic generates pages shaped like a real documentation site's
	// (see DefaultRealisticPages and RealisticMedianSize): a page-size
	// spread from a few KiB to past 1 MiB, hundreds of links on the index
	// pages, dense markup. Crawling it is parse-heavy. Pages defaults to
	// DefaultRealisticPages.
	Realistic bool
}

// Site is a generated site: an http.Handler plus, once started, its own
// server on a loopback address. Its methods are safe for concurrent use.
type Site struct {
	cfg Config

	mu   sync.Mutex
	hits map[string]int
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// New returns the site described by cfg. It starts nothing; use Start, or
// mount the site as an http.Handler.
func New(cfg Config) *Site {
	if cfg.Pages <= 0 {
		cfg.Pages = DefaultPages
		if cfg.Realistic {
			cfg.Pages = DefaultRealisticPages
		}
	}
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = DefaultSlowDelay
	}
	if cfg.HugeSize <= 0 {
		cfg.HugeSize = DefaultHugeSize
	}
	return &Site{cfg: cfg, hits: make(map[string]int)}
}

// Config returns the site's configuration with defaults filled in.
func (s *Site) Config() Config { return s.cfg }

// ErrStarted is returned by Start on a site already started.
var ErrStarted = errors.New("site: already started")

// Start listens on addr (such as "127.0.0.1:0") and serves the site in the
// background until Close. It returns the site's base URL, "http://host:port".
func (s *Site) Start(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", ErrStarted
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("site: listen: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return "http://" + ln.Addr().String(), nil
}

// URL returns the base URL of a started site, or "" before Start.
func (s *Site) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops a started site's server, closing every connection, and waits
// for its serving goroutine to end. Close on a site never started does
// nothing.
func (s *Site) Close() error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	return err
}

// Serve runs a clean site (Config.Clean) of DefaultPages pages with the
// given latency on addr until ctx ends (the shape of the bench harness's
// crawl site). It calls ready once, when the site accepts connections, with
// the number of HTML pages a crawl with DefaultPolicy finds; a crawl finds
// no error there.
func Serve(ctx context.Context, addr string, latency time.Duration, ready func(pages int)) error {
	return serve(ctx, Config{Latency: latency, Clean: true}, addr, ready)
}

// ServeRealistic is Serve for a clean realistic site (Config.Realistic) of
// DefaultRealisticPages pages.
func ServeRealistic(ctx context.Context, addr string, latency time.Duration, ready func(pages int)) error {
	return serve(ctx, Config{Latency: latency, Clean: true, Realistic: true}, addr, ready)
}

func serve(ctx context.Context, cfg Config, addr string, ready func(pages int)) error {
	s := New(cfg)
	if _, err := s.Start(addr); err != nil {
		return err
	}
	if ready != nil {
		ready(s.Reachable(DefaultPolicy).Count(Page))
	}
	<-ctx.Done()
	return s.Close()
}

// Hits returns how many requests the site served for each request URI
// (path plus query), 404s included.
func (s *Site) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.hits))
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// ServeHTTP serves one request of the site, after the configured latency (cut
// short if the client goes away).
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.RequestURI()
	s.mu.Lock()
	s.hits[uri]++
	s.mu.Unlock()

	n := s.lookup(r.URL.Path)
	if !wait(r.Context(), s.cfg.Latency+n.delay) {
		return
	}
	host := r.Host
	if s.ln != nil {
		host = s.ln.Addr().String()
	}
	expand := func(v string) string { return strings.ReplaceAll(v, "{host}", host) }
	switch {
	case n.location != "":
		http.Redirect(w, r, expand(n.location), n.status)
		return
	case n.status == http.StatusNotFound:
		http.NotFound(w, r)
		return
	case n.status != http.StatusOK:
		http.Error(w, http.StatusText(n.status), n.status)
		return
	}
	w.Header().Set("Content-Type", n.ctype)
	if n.real != nil {
		_, _ = n.real.render(w)
		return
	}
	if n.raw != "" {
		_, _ = w.Write([]byte(expand(n.raw)))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><title>%s</title></head>\n<body>\n<h1>%s</h1>\n",
		html.EscapeString(n.title), html.EscapeString(n.title))
	writeLinks := func(ls []link) {
		for i, l := range ls {
			fmt.Fprintf(&b, "<p>%s <a href=\"%s\">link %d</a></p>\n", n.text[i%len(n.text)], html.EscapeString(expand(l.href)), i)
		}
	}
	writeLinks(n.links)
	b.WriteString(n.extra)
	if n.pad == 0 {
		b.WriteString("</body></html>\n")
		_, _ = w.Write([]byte(b.String()))
		return
	}
	// The huge page: the early links, padding up to the configured size, and
	// links at the very end that a crawler cutting the body never sees.
	_, _ = w.Write([]byte(b.String()))
	var tail strings.Builder
	writeLinksTo(&tail, n.late, expand)
	tail.WriteString("</body></html>\n")
	remaining := n.pad - b.Len() - tail.Len()
	chunk := []byte(strings.Repeat("<p>padding padding padding padding padding padding padding</p>\n", 64))
	for remaining > 0 {
		c := chunk[:min(len(chunk), remaining)]
		if _, err := w.Write(c); err != nil {
			return
		}
		remaining -= len(c)
	}
	_, _ = w.Write([]byte(tail.String()))
}

// Delay wraps h so that every response waits d first, the time a real
// network and server would take (cut short, with no response, if the
// client goes away).
func Delay(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait(r.Context(), d) {
			h.ServeHTTP(w, r)
		}
	})
}

// wait waits d, and reports false if ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func writeLinksTo(b *strings.Builder, ls []link, expand func(string) string) {
	for i, l := range ls {
		fmt.Fprintf(b, "<p><a href=\"%s\">late link %d</a></p>\n", html.EscapeString(expand(l.href)), i)
	}
}

// link is one href on a page and what a correct crawler makes of it.
type link struct {
	href   string // as written; "{host}" stands for the site's host:port
	target string // the request URI a correct crawler fetches; "" if it must not follow it
}

// node is what the site serves at one path.
type node struct {
	status   int
	ctype    string
	location string // redirect target ("{host}" expanded); status is the redirect code
	follow   string // the request URI of the redirect target a crawler follows; "" if off-site
	delay    time.Duration
	title    string
	text     []string
	links    []link // rendered as <a href> in order
	extra    string // raw markup after the links (traps)
	late     []link // links at the end of a padded (huge) page
	pad      int    // total size of a padded page
	raw      string // a body served verbatim instead of the rendered page
	// rawTargets are the request URIs a crawler takes from a raw HTML body.
	rawTargets []string
	// real, if not nil, is a realistic page, rendered instead; its links
	// are links too.
	real *realPage
}

const htmlType = "text/html; charset=utf-8"

func (s *Site) lookup(path string) node {
	n := s.cfg.Pages
	switch {
	case path == "/" && s.cfg.Realistic:
		return s.realisticIndex()
	case path == "/":
		return s.index()
	case strings.HasPrefix(path, "/p/") && strings.HasSuffix(path, ".html"):
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/p/"), ".html"))
		if err != nil || i < 0 || i >= n || "/p/"+strconv.Itoa(i)+".html" != path {
			return node{status: http.StatusNotFound}
		}
		if s.cfg.Realistic {
			return s.realisticPage(i)
		}
		return s.page(i)
	case strings.HasPrefix(path, "/r/"):
		j, err := strconv.Atoi(strings.TrimPrefix(path, "/r/"))
		if err != nil || j < 0 || j >= redirects {
			return node{status: http.StatusNotFound}
		}
		codes := []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}
		target := pagePath((j * 7919) % n)
		return node{status: codes[j%len(codes)], location: target, follow: target}
	case strings.HasPrefix(path, "/files/"):
		j, ext, ok := strings.Cut(strings.TrimPrefix(path, "/files/"), ".")
		k, err := strconv.Atoi(j)
		if !ok || err != nil || k < 0 || k >= files || ext != fileExts[k%len(fileExts)] || j != strconv.Itoa(k) {
			return node{status: http.StatusNotFound}
		}
		// Bodies that look like markup, so a crawler that parses non-HTML
		// would find the trap.
		return node{status: http.StatusOK, ctype: fileTypes[ext], raw: `<a href="/trap/file.html">not html</a>` + strings.Repeat("\x00\x01binary", 64)}
	case strings.HasPrefix(path, "/trap/"):
		// Served so that a crawler that follows a trap is caught by the
		// visited set, not just by a 404 it might hide.
		return node{status: http.StatusOK, ctype: htmlType, title: "trap", text: []string{"a correct crawler never gets here"}}
	case strings.HasPrefix(path, "/special/"):
		return s.special(path)
	}
	return node{status: http.StatusNotFound}
}

// Sizes of the generated families of URLs.
const (
	redirects = 40 // /r/0 ... /r/39
	files     = 60 // /files/0.pdf ... /files/59.zip
	missing   = 50 // /p/N.html ... /p/N+49.html, all 404
)

var fileTypes = map[string]string{
	"pdf":  "application/pdf",
	"png":  "image/png",
	"json": "application/json",
	"txt":  "text/plain; charset=utf-8",
	"zip":  "application/zip",
}

var fileExts = []string{"pdf", "png", "json", "txt", "zip"}

func pagePath(i int) string { return "/p/" + strconv.Itoa(i) + ".html" }

var words = strings.Fields(`green thread hub greenlet spawn join kill pool queue event semaphore
lock timeout sleep yield socket server crawler page link parser cooperative scheduler token
monkey patch loop gnet ants channel pipe local value array process thread`)

func paragraphs(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		ws := make([]string, 20+r.IntN(40))
		for j := range ws {
			ws[j] = words[r.IntN(len(words))]
		}
		out[i] = strings.Join(ws, " ")
	}
	return out
}

func (s *Site) index() node {
	r := rand.New(rand.NewPCG(s.cfg.Seed, 1<<62))
	ls := []link{{href: "/p/0.html", target: "/p/0.html"}}
	if !s.cfg.Clean {
		ls = append(ls, link{href: "special/index.html", target: "/special/index.html"})
	}
	for range 8 {
		k := r.IntN(s.cfg.Pages)
		ls = append(ls, link{href: pagePath(k), target: pagePath(k)})
	}
	return node{status: http.StatusOK, ctype: htmlType, title: "gevent-go crawler test site", text: paragraphs(r, 3), links: ls}
}

// page is generated page i: a link to page i+1 (so every page is reachable),
// four links to random pages, each written in one of many equivalent forms,
// and now and then a 404, a redirect, a file, a link that must not be
// followed, or a trap hidden where a regex would find it.
func (s *Site) page(i int) node {
	n := s.cfg.Pages
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)))
	var ls []link
	if i+1 < n {
		ls = append(ls, pageLink(r, i+1))
	}
	for range 4 {
		ls = append(ls, pageLink(r, r.IntN(n)))
	}
	if s.cfg.Clean {
		return node{status: http.StatusOK, ctype: htmlType, title: "page " + strconv.Itoa(i), text: paragraphs(r, 4), links: ls}
	}
	switch x := r.IntN(100); {
	case x < 3:
		p := pagePath(n + r.IntN(missing))
		ls = append(ls, link{href: p, target: p})
	case x < 6:
		p := "/r/" + strconv.Itoa(r.IntN(redirects))
		ls = append(ls, link{href: p, target: p})
	case x < 9:
		k := r.IntN(files)
		p := "/files/" + strconv.Itoa(k) + "." + fileExts[k%len(fileExts)]
		ls = append(ls, link{href: "../files/" + strconv.Itoa(k) + "." + fileExts[k%len(fileExts)], target: p})
	}
	if r.IntN(100) < 8 {
		j := junk[r.IntN(len(junk))]
		if j.target == "self" {
			j.target = pagePath(i)
		}
		ls = append(ls, j)
	}
	var extra string
	if r.IntN(100) < 4 {
		extra = traps[r.IntN(len(traps))]
	}
	return node{status: http.StatusOK, ctype: htmlType, title: "page " + strconv.Itoa(i), text: paragraphs(r, 4), links: ls, extra: extra}
}

// pageLink links to page k (from a page under /p/) in a random one of many
// equivalent forms; all resolve to /p/k.html once the fragment is dropped.
func pageLink(r *rand.Rand, k int) link {
	p := pagePath(k)
	base := strconv.Itoa(k) + ".html"
	forms := []string{
		p,
		base,
		"./" + base,
		"../p/" + base,
		"http://{host}" + p,
		"//{host}" + p,
		p + "#section-3",
		"HTTP://{host}" + p,
		" " + p + "\n",
		"/p/../p/./" + base,
		base + "#",
	}
	return link{href: forms[r.IntN(len(forms))], target: p}
}

// junk are links a crawler must not fetch (other schemes, other hosts, other
// ports), or that point back at the page itself ("self").
var junk = []link{
	{href: "mailto:someone@example.com"},
	{href: "javascript:void(0)"},
	{href: "tel:+15550100"},
	{href: "ftp://127.0.0.1/pub/file.txt"},
	{href: "http://127.0.0.1:1/offsite.html"},
	{href: "data:text/html,<a href=/trap/data.html>x</a>"},
	{href: "#top", target: "self"},
	{href: "", target: "self"},
}

// traps hide hrefs where only a real HTML parser knows they are not links.
var traps = []string{
	"<!-- <a href=\"/trap/comment.html\">old link</a> -->\n",
	"<script>var s = '<a href=\"/trap/script.html\">';</script>\n",
	"<style>/* <a href=\"/trap/style.html\"> */</style>\n",
	"<textarea><a href=\"/trap/textarea.html\">text</a></textarea>\n",
	"<a data-href=\"/trap/attr.html\">not an href</a><img src=\"/trap/img.png\">\n",
}

// special serves /special/...: the hand-made hard cases.
func (s *Site) special(path string) node {
	leaf := func(title string) node {
		return node{status: http.StatusOK, ctype: htmlType, title: title, text: []string{"a leaf page"}}
	}
	switch path {
	case "/special/index.html":
		var ls []link
		for _, p := range specials {
			ls = append(ls, link{href: strings.TrimPrefix(p, "/special/"), target: p})
		}
		return node{status: http.StatusOK, ctype: htmlType, title: "special cases", text: []string{"the hard cases"}, links: ls,
			extra: strings.Join(traps, "")}
	case "/special/cycle/a":
		return node{status: http.StatusFound, location: "/special/cycle/b", follow: "/special/cycle/b"}
	case "/special/cycle/b":
		return node{status: http.StatusFound, location: "/special/cycle/a", follow: "/special/cycle/a"}
	case "/special/cycle/self":
		return node{status: http.StatusMovedPermanently, location: "/special/cycle/self", follow: "/special/cycle/self"}
	case "/special/offsite":
		return node{status: http.StatusFound, location: "http://127.0.0.1:1/away.html"}
	case "/special/error":
		return node{status: http.StatusInternalServerError}
	case "/special/slow.html":
		n := leaf("slow")
		n.delay = s.cfg.SlowDelay
		n.links = []link{{href: "ok/slow-0.html", target: "/special/ok/slow-0.html"}}
		return n
	case "/special/huge.html":
		n := leaf("huge")
		n.links = []link{{href: "ok/huge-head.html", target: "/special/ok/huge-head.html"}}
		n.late = []link{{href: "ok/huge-tail.html", target: "/special/ok/huge-tail.html"}}
		n.pad = s.cfg.HugeSize
		return n
	case "/special/fake.html":
		return node{status: http.StatusOK, ctype: "application/octet-stream", raw: `<html><a href="/trap/fake.html">x</a></html>`}
	case "/special/page.php":
		n := leaf("php")
		n.links = []link{{href: "ok/php-0.html", target: "/special/ok/php-0.html"}}
		return n
	case "/special/dir/":
		n := leaf("directory")
		n.links = []link{{href: "../ok/dir-0.html", target: "/special/ok/dir-0.html"}, {href: "sub/", target: "/special/dir/sub/"}}
		return n
	case "/special/dir/sub/":
		return leaf("subdirectory")
	case "/special/page.xhtml":
		return node{status: http.StatusOK, ctype: "application/xhtml+xml",
			raw:        `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><a href="ok/xhtml-0.html">x</a></body></html>`,
			rawTargets: []string{"/special/ok/xhtml-0.html"}}
	}
	if m, ok := malformed[path]; ok {
		return node{status: http.StatusOK, ctype: htmlType, raw: m.raw, rawTargets: m.targets}
	}
	if strings.HasPrefix(path, "/special/chain/") {
		// An endless chain of distinct redirects: only a redirect limit ends it.
		k, err := strconv.Atoi(strings.TrimPrefix(path, "/special/chain/"))
		if err != nil || k < 0 || strconv.Itoa(k) != strings.TrimPrefix(path, "/special/chain/") {
			return node{status: http.StatusNotFound}
		}
		next := "/special/chain/" + strconv.Itoa(k+1)
		return node{status: http.StatusFound, location: next, follow: next}
	}
	if strings.HasPrefix(path, "/special/ok/") && strings.HasSuffix(path, ".html") ||
		path == "/special/based/leaf.html" {
		return leaf(path)
	}
	return node{status: http.StatusNotFound}
}

// specials are linked from /special/index.html.
var specials = []string{
	"/special/cycle/a",
	"/special/cycle/self",
	"/special/chain/0",
	"/special/offsite",
	"/special/error",
	"/special/slow.html",
	"/special/huge.html",
	"/special/fake.html",
	"/special/page.php",
	"/special/dir/",
	"/special/page.xhtml",
	"/special/malformed/0.html",
	"/special/malformed/1.html",
	"/special/malformed/2.html",
	"/special/malformed/3.html",
	"/special/malformed/4.html",
	"/special/missing.html",
}

// malformedPage is a hand-written broken page and the request URIs a
// correct crawler takes from it.
type malformedPage struct {
	raw     string
	targets []string
}

var malformed = map[string]malformedPage{
	// No html, head or body; unclosed tags; unquoted and upper-case
	// attributes; an entity in an href.
	"/special/malformed/0.html": {
		raw: `<title>broken</title><p>text <b>bold <i>both</b> still
<a href=/special/ok/0-0.html>unquoted</a>
<A HREF='/special/ok/0-1.html'>upper case</A>
<a href="/special/ok/0-2.html?a=1&amp;b=2">entity</a>
<a>no href</a><a href>empty attribute</a>`,
		targets: []string{"/special/ok/0-0.html", "/special/ok/0-1.html", "/special/ok/0-2.html?a=1&b=2", "/special/malformed/0.html"},
	},
	// The body ends inside a tag: that tag is dropped, as browsers do.
	"/special/malformed/1.html": {
		raw:     `<html><body><a href="/special/ok/1-0.html">fine</a><a href="/special/ok/1-1.ht`,
		targets: []string{"/special/ok/1-0.html"},
	},
	// Mis-nested tables and divs; a duplicate href (the first one counts).
	"/special/malformed/2.html": {
		raw: `<table><tr><td><a href="/special/ok/2-0.html"><div></td></tr>
<tr><td><a href="/special/ok/2-1.html" href="/trap/second-href.html">dup</a></div></table></table></div>
<p <a href="/trap/in-attr-name.html">`,
		targets: []string{"/special/ok/2-0.html", "/special/ok/2-1.html"},
	},
	// Binary noise, NUL bytes and invalid UTF-8 around a link.
	"/special/malformed/3.html": {
		raw:     "\x00\xff\xfe<<<>>>\x80\x81 <a href=\"/special/ok/3-0.html\">after noise</a> \xc3\x28 </a></a></div>",
		targets: []string{"/special/ok/3-0.html"},
	},
	// A <base href> changes what relative links resolve against.
	"/special/malformed/4.html": {
		raw:     `<html><head><base href="/special/based/"></head><body><a href="leaf.html">based</a></body></html>`,
		targets: []string{"/special/based/leaf.html"},
	},
}
