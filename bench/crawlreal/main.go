// Command crawlreal measures the crawler example on a real site served
// locally: it serves a directory of HTML (a documentation tree such as
// Debian's python3-doc, /usr/share/doc/python3.11/html) or proxies an origin
// (nginx serving one), adding a fixed latency to every response, and runs
// the crawler binary against it with each engine in turn, interleaved,
// several times. It prints pages/s, CPU per page and peak RSS per run, and
// per rep the ratio of each variant to the plain-Go engine, with the median
// and min-max over reps. Every variant must fetch the same set of URLs.
//
//	go build -o /tmp/crawler ./examples/crawler
//	cd bench && go run ./crawlreal -crawler /tmp/crawler -dir /usr/share/doc/python3.11/html -reps 15
//
// With -before, a second crawler binary (an older build, say) runs too, with
// its greenlets engine. To measure behind nginx instead of Go's file server
// (apt-get install nginx-light), serve the tree with nginx on a loopback
// port and pass -origin http://127.0.0.1:PORT.
//
// Peak RSS comes from GNU time (/usr/bin/time, Debian's "time" package),
// which forks before it runs the crawler, so the figure is the crawler's own
// (a child started by Go's os/exec would report the parent's RSS folded in).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gevent-go/gevent/examples/crawler/site"
)

type variant struct {
	name string
	bin  string
	args []string
}

type sample struct {
	pagesPerSec float64
	pages       int
	cpuPerPage  time.Duration
	rssKB       int
	visited     string
}

func main() {
	dir := flag.String("dir", "", "serve this directory (its index.html is the start page)")
	origin := flag.String("origin", "", "or proxy this origin URL (such as nginx serving the tree)")
	start := flag.String("start", "/index.html", "start path on the site")
	latency := flag.Duration("latency", 20*time.Millisecond, "latency added to every response")
	conc := flag.Int("c", 50, "crawl concurrency")
	reps := flag.Int("reps", 5, "interleaved repetitions")
	crawler := flag.String("crawler", "", "crawler binary (go build ./examples/crawler)")
	before := flag.String("before", "", "optional second crawler binary, run with its greenlets engine as the variant \"before\"")
	extra := flag.String("args", "", "extra crawler flags, space-separated")
	flag.Parse()
	if *crawler == "" || (*dir == "") == (*origin == "") {
		fmt.Fprintln(os.Stderr, "crawlreal: need -crawler and one of -dir or -origin")
		os.Exit(2)
	}
	var h http.Handler
	if *dir != "" {
		h = http.FileServer(http.Dir(*dir))
	} else {
		u, err := url.Parse(*origin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "crawlreal:", err)
			os.Exit(2)
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = &http.Transport{MaxIdleConnsPerHost: 4 * *conc}
		h = rp
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crawlreal:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: site.Delay(*latency, h)}
	go srv.Serve(ln)
	defer srv.Close()
	root := "http://" + ln.Addr().String() + *start

	common := append([]string{"-c", strconv.Itoa(*conc), "-progress", "off"}, strings.Fields(*extra)...)
	vs := []variant{
		{"goroutines", *crawler, append([]string{"-engine", "goroutines"}, common...)},
		{"greenlets", *crawler, append([]string{"-engine", "greenlets"}, common...)},
	}
	if *before != "" {
		vs = append(vs, variant{"before", *before, append([]string{"-engine", "greenlets"}, common...)})
	}
	tmp, err := os.MkdirTemp("", "crawlreal")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crawlreal:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("crawl of %s (%v latency, concurrency %d, %d reps, interleaved)\n", root, *latency, *conc, *reps)
	results := map[string][]sample{}
	for rep := range *reps {
		for k := range vs {
			v := vs[(k+rep)%len(vs)] // rotate the order per rep
			s, err := run(tmp, v, root)
			if err != nil {
				fmt.Fprintf(os.Stderr, "crawlreal: %s: %v\n", v.name, err)
				os.Exit(1)
			}
			fmt.Printf("rep %d %-10s %6d pages %8.1f pages/s %7.0f us CPU/page %7d KB peak RSS\n",
				rep, v.name, s.pages, s.pagesPerSec, float64(s.cpuPerPage.Microseconds()), s.rssKB)
			results[v.name] = append(results[v.name], s)
		}
	}
	ref := results["goroutines"]
	for _, v := range vs {
		ss := results[v.name]
		var rates, ratios, rss, cpu []float64
		for i, s := range ss {
			if s.visited != ref[0].visited {
				fmt.Fprintf(os.Stderr, "crawlreal: %s rep %d fetched a different set of URLs than goroutines rep 0\n", v.name, i)
				os.Exit(1)
			}
			rates = append(rates, s.pagesPerSec)
			ratios = append(ratios, s.pagesPerSec/ref[i].pagesPerSec)
			rss = append(rss, float64(s.rssKB))
			cpu = append(cpu, float64(s.cpuPerPage.Microseconds()))
		}
		fmt.Printf("%-10s pages/s %s  x goroutines %s  CPU/page us %s  peak RSS MB %s\n", v.name,
			mm(rates, "%.0f", 1), mm(ratios, "%.2f", 1), mm(cpu, "%.0f", 1), mm(rss, "%.0f", 1.0/1024))
	}
}

// mm formats the median (min-max) of xs, each scaled.
func mm(xs []float64, f string, scale float64) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf(f+" ("+f+"-"+f+")", s[len(s)/2]*scale, s[0]*scale, s[len(s)-1]*scale)
}

// run crawls root with one variant under GNU time.
func run(tmp string, v variant, root string) (sample, error) {
	js, vf := filepath.Join(tmp, "sum.json"), filepath.Join(tmp, "visited.txt")
	args := append([]string{"-f", "%M %U %S", "-o", filepath.Join(tmp, "time.txt"), v.bin}, v.args...)
	args = append(args, "-json", js, "-visited", vf, root)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/time", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, out.String())
	}
	var sum struct {
		Pages       int     `json:"pages"`
		PagesPerSec float64 `json:"pages_per_sec"`
		Errors      int     `json:"errors"`
	}
	b, err := os.ReadFile(js)
	if err != nil {
		return sample{}, err
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return sample{}, err
	}
	tb, err := os.ReadFile(filepath.Join(tmp, "time.txt"))
	if err != nil {
		return sample{}, err
	}
	var rss int
	var user, sys float64
	if _, err := fmt.Sscanf(string(tb), "%d %f %f", &rss, &user, &sys); err != nil {
		return sample{}, fmt.Errorf("time output %q: %v", tb, err)
	}
	visited, err := os.ReadFile(vf)
	if err != nil {
		return sample{}, err
	}
	return sample{pagesPerSec: sum.PagesPerSec, pages: sum.Pages, rssKB: rss, visited: string(visited),
		cpuPerPage: time.Duration((user + sys) / float64(max(sum.Pages, 1)) * 1e9)}, nil
}
