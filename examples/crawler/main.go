// Command crawler is a concurrent web crawler built the gevent way:
// monkey.PatchAll(), then a pool.Pool of greenlets fetching with net/http
// and parsing with a real HTML parser off the hub's run token.
//
// Usage:
//
//	crawler [flags] [start-url]
//
// With no start URL it serves an embedded generated site (a few thousand
// small pages with 404s, redirects, non-HTML files and malformed HTML, or,
// with -site realistic, 600 pages with a real documentation site's sizes)
// on 127.0.0.1 and crawls that, so it runs on a machine with no network. It
// prints a live progress line on a terminal (plain periodic lines
// otherwise) and a summary at the end. Ctrl-C stops it promptly and still
// prints the summary of what was done.
//
// Exit status: 0 when the crawl ran to its end (failed URLs other than the
// start URL are counted in the summary, not in the status), 1 when the start
// URL itself failed (or every redirect it led to did) or on an error of the
// crawler, 2 on bad usage, 130 when interrupted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/gevent-go/gevent/examples/crawler/site"
	"github.com/gevent-go/gevent/monkey"
	"golang.org/x/term"
)

func main() {
	// The gevent way: patch first thing. The crawl's own transport (for its
	// header limit) is made cooperative the way PatchAll makes the default
	// one, with monkey.WrapTransport; PatchAll covers the rest of net/http
	// and the resolver the dialer uses.
	monkey.PatchAll()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, a second one gets the default behaviour
		// (the process ends) in case the graceful stop takes too long.
		<-ctx.Done()
		stop()
	}()
	tty := term.IsTerminal(int(os.Stderr.Fd()))
	os.Exit(cli(ctx, os.Args[1:], os.Stdout, os.Stderr, tty))
}

// options are the command line, parsed.
type options struct {
	cfg      crawl.Config
	engine   string
	progress string
	visited  string
	json     string
	latency  time.Duration
	pages    int
	site     string
	seed     uint64
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{cfg: crawl.DefaultConfig()}
	fs := flag.NewFlagSet("crawler", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: crawler [flags] [start-url]\n\n"+
			"Crawls start-url's host, or, with no URL, an embedded generated site on 127.0.0.1.\n\n"+
			"Exit status: 0 when the crawl ran to its end (failed URLs are listed in the summary),\n"+
			"1 when the start URL itself failed or the crawler did, 2 on bad usage, 130 when interrupted.\n\nflags:\n")
		fs.PrintDefaults()
	}
	c := &o.cfg
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "requests in flight at most (the pool's size)")
	fs.IntVar(&c.Concurrency, "c", c.Concurrency, "short for -concurrency")
	fs.IntVar(&c.MaxPages, "max-pages", c.MaxPages, "fetch at most this many URLs (0: no limit)")
	fs.IntVar(&c.MaxDepth, "max-depth", c.MaxDepth, "follow at most this many links from the start URL (-1: no limit)")
	fs.IntVar(&c.MaxRedirects, "max-redirects", c.MaxRedirects, "consecutive redirects followed from one link")
	fs.BoolVar(&c.SameHost, "same-host", c.SameHost, "follow only links to the start URL's host and port")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "timeout of each request, body included")
	fs.Int64Var(&c.MaxBody, "max-body", c.MaxBody, "bytes of each page read and parsed; longer bodies are cut and reported")
	fs.Int64Var(&c.MaxHeaderBytes, "max-header-bytes", c.MaxHeaderBytes,
		"bytes of each response header at most (Chrome's limit); a longer header fails the request")
	fs.Int64Var(&c.BodyMemory, "body-memory", c.BodyMemory,
		"bytes of bodies held in memory at once across all requests (greenlets engine); past it pages are parsed as they stream")
	fs.StringVar(&c.UserAgent, "user-agent", c.UserAgent, "User-Agent header")
	fs.StringVar(&o.visited, "visited", "", "write the visited URLs, one per line, sorted, to `file` (- for stdout)")
	fs.StringVar(&o.json, "json", "", "write the summary as JSON to `file` (- for stdout)")
	fs.StringVar(&o.engine, "engine", "greenlets", "greenlets (the gevent way) or goroutines (the plain-Go baseline)")
	fs.StringVar(&o.progress, "progress", "auto", "auto (a bar on a terminal, lines otherwise), bar, lines or off")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "embedded site: latency added to every response")
	fs.IntVar(&o.pages, "pages", 0, "embedded site: number of generated pages (0: 3000, or 600 with -site realistic)")
	fs.StringVar(&o.site, "site", "small", "embedded site: small (small pages, latency-bound) or realistic (a real site's page sizes, parse-heavy)")
	fs.Uint64Var(&o.seed, "seed", 0, "embedded site: seed of the generated link graph")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		c.Start = fs.Arg(0)
	default:
		return nil, fmt.Errorf("crawler: one start URL at most, got %d", fs.NArg())
	}
	switch o.engine {
	case "greenlets", "goroutines":
	default:
		return nil, fmt.Errorf("crawler: unknown -engine %q (greenlets or goroutines)", o.engine)
	}
	switch o.site {
	case "small", "realistic":
	default:
		return nil, fmt.Errorf("crawler: unknown -site %q (small or realistic)", o.site)
	}
	switch o.progress {
	case "auto", "bar", "lines", "off":
	default:
		return nil, fmt.Errorf("crawler: unknown -progress %q (auto, bar, lines or off)", o.progress)
	}
	return o, nil
}

// cli runs the crawler with args and returns the exit status. tty says
// whether stderr is a terminal.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), "flag provided but not defined") {
			fmt.Fprintln(stderr, err)
		}
		return 2
	}
	if o.cfg.Start == "" {
		s := site.New(site.Config{Pages: o.pages, Latency: o.latency, Seed: o.seed, Realistic: o.site == "realistic"})
		u, err := s.Start("127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(stderr, "crawler:", err)
			return 1
		}
		defer s.Close()
		o.cfg.Start = u + "/"
		fmt.Fprintf(stderr, "crawler: no URL given: crawling the embedded %s site at %s (%d generated pages, %v latency)\n",
			o.site, o.cfg.Start, s.Config().Pages, o.latency)
	}

	mode := o.progress
	if mode == "auto" {
		mode = "lines"
		if tty {
			mode = "bar"
		}
	}
	rep := newReporter(mode, stderr)
	o.cfg.Progress = rep.update
	if mode == "bar" {
		o.cfg.ProgressEvery = 100 * time.Millisecond
	}

	run := crawl.Run
	if o.engine == "goroutines" {
		run = crawl.RunPlain
	}
	sum, err := run(ctx, o.cfg)
	rep.finish()
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, crawl.ErrConfig) {
			return 2
		}
		return 1
	}
	if err := writeOutputs(o, sum, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "crawler:", err)
		return 1
	}
	if sum.Stopped == crawl.StopInterrupted {
		return 130
	}
	if sum.StartError != "" {
		fmt.Fprintln(stderr, "crawler: the start URL failed:", sum.StartError)
		return 1
	}
	return 0
}

// writeOutputs writes the visited list, the JSON summary and the text
// summary. The text summary goes to stdout unless stdout carries the list
// or the JSON, which then stay machine-readable.
func writeOutputs(o *options, sum crawl.Summary, stdout, stderr io.Writer) error {
	text := stdout
	if o.visited == "-" || o.json == "-" {
		text = stderr
	}
	write := func(dest string, fn func(io.Writer) error) error {
		if dest == "" {
			return nil
		}
		if dest == "-" {
			return fn(stdout)
		}
		f, err := os.Create(dest)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	err := write(o.visited, func(w io.Writer) error {
		for _, u := range sum.Visited {
			if _, err := fmt.Fprintln(w, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = write(o.json, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	})
	if err != nil {
		return err
	}
	printSummary(text, sum)
	return nil
}

// shownFailures is how many failed URLs the text summary names; -json
// lists them all.
const shownFailures = 10

// kindOrder is the order of the error kinds in the text summary.
var kindOrder = []string{crawl.KindNotFound, crawl.KindServerError, crawl.KindHTTPError, crawl.KindTimeout,
	crawl.KindTooManyRedirects, crawl.KindRedirectLoop, crawl.KindRefused, crawl.KindOther}

func printSummary(w io.Writer, s crawl.Summary) {
	status := "done"
	if s.Stopped != "" {
		status = "stopped: " + s.Stopped
	}
	fmt.Fprintf(w, "crawl of %s (%s, concurrency %d): %s\n", s.Start, s.Engine, s.Concurrency, status)
	fmt.Fprintf(w, "  pages     %d HTML pages (%d URLs fetched: %d non-HTML, %d redirects)\n", s.Pages, s.Fetched, s.Files, s.Redirects)
	var kinds []string
	for _, k := range kindOrder {
		if n := s.ErrorsByKind[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, strings.ReplaceAll(k, "_", " ")))
		}
	}
	if len(kinds) > 0 {
		fmt.Fprintf(w, "  errors    %d: %s\n", s.Errors, strings.Join(kinds, ", "))
	} else {
		fmt.Fprintf(w, "  errors    %d\n", s.Errors)
	}
	fmt.Fprintf(w, "  bytes     %d (%.1f MiB)\n", s.Bytes, float64(s.Bytes)/(1<<20))
	fmt.Fprintf(w, "  seconds   %.2f\n", s.Seconds)
	fmt.Fprintf(w, "  pages/s   %.1f\n", s.PagesPerSec)
	for _, u := range s.Truncated {
		fmt.Fprintf(w, "  truncated %s (body cut at the -max-body limit)\n", u)
	}
	for i, f := range s.Failures {
		if i == shownFailures {
			fmt.Fprintf(w, "  ... and %d more failed URLs (-json lists them all)\n", len(s.Failures)-shownFailures)
			break
		}
		fmt.Fprintf(w, "  failed    %s: %s\n", f.URL, f.Error)
	}
	if s.StartError != "" {
		fmt.Fprintf(w, "  the start URL failed: %s\n", s.StartError)
	}
}
