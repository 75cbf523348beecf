package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The runner re-executes the test binary for its child processes, so the
// test registry must exist in the child too: TestMain hands ChildArg runs
// to ChildMain.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ChildArg {
		os.Exit(ChildMain(testReg, os.Args[2:]))
	}
	os.Exit(m.Run())
}

var testReg = buildTestReg()

const testPages = 6

func buildTestReg() *Registry {
	r := NewRegistry()
	r.AddWorkload(Workload{Name: "m", Title: "Count.", Kind: Micro, Size: 1000, QuickSize: 200, Warmup: true,
		Ref: "ref", Primary: "ns_per_op", Ratios: []string{"ns_per_op"}, Columns: []string{"ns_per_op", "rss_bytes_per_task", "peak_rss_kb"}})
	r.AddWorkload(Workload{Name: "e", Title: "Echo.", Kind: Echo, QuickEchoGrid: []EchoConfig{{Conns: 4, Size: 64}},
		Ref: "std", Primary: "msgs_per_s", Ratios: []string{"msgs_per_s"}, Columns: []string{"msgs_per_s", "p99_us"}})
	r.AddWorkload(Workload{Name: "h", Title: "HTTP.", Kind: HTTP, QuickEchoGrid: []EchoConfig{{Conns: 4}},
		Ref: "std", Primary: "req_per_s", Ratios: []string{"req_per_s"}, Columns: []string{"req_per_s", "p99_us", "server_us_per_req"}})
	r.AddWorkload(Workload{Name: "c", Title: "Crawl.", Kind: Crawl, Latency: time.Millisecond, Concurrency: 2, Site: testSite,
		Ref: "bfs", Primary: "pages_per_s", Ratios: []string{"pages_per_s"}, Columns: []string{"pages_per_s", "pages"}})
	count := func(b *B) error {
		var n atomic.Int64
		for range b.N {
			n.Add(1)
		}
		if n.Load() != int64(b.N) {
			return errors.New("miscounted")
		}
		return nil
	}
	for _, v := range []Variant{
		{Workload: "m", Name: "ref", Lang: LangGo, Micro: count},
		{Workload: "m", Name: "ours", Lang: LangGo, Ours: true, Micro: func(b *B) error {
			b.SetOps(2 * b.N)
			return count(b)
		}},
		{Workload: "m", Name: "bad", Lang: LangGo, Micro: func(b *B) error { return fmt.Errorf("counted %d, want %d", b.N-1, b.N) }},
		{Workload: "m", Name: "panics", Lang: LangGo, Micro: func(b *B) error { panic("boom") }},
		{Workload: "m", Name: "parks", Lang: LangGo, Micro: func(b *B) error {
			hold := make([][]byte, b.N)
			for i := range hold {
				hold[i] = make([]byte, 8192)
				for j := range hold[i] {
					hold[i][j] = 1 // touch, so it is resident
				}
			}
			b.Parked()
			return nil
		}},
		{Workload: "m", Name: "later", Lang: LangGo, Ours: true, Missing: "package x not merged yet"},
		{Workload: "m", Name: "py", Lang: LangPython, Python: &Python{Name: "py", Script: pyOK}},
		{Workload: "m", Name: "py_bad", Lang: LangPython, Python: &Python{Name: "py_bad", Script: pyBad}},
		{Workload: "e", Name: "std", Lang: LangGo, Server: testEchoServer},
		{Workload: "e", Name: "dies", Lang: LangGo, Server: func(context.Context, string) error { return errors.New("cannot listen") }},
		{Workload: "h", Name: "std", Lang: LangGo, Server: testHTTPServer(http.StatusOK)},
		{Workload: "h", Name: "errs", Lang: LangGo, Server: testHTTPServer(http.StatusInternalServerError)},
		{Workload: "c", Name: "bfs", Lang: LangGo, Crawl: testCrawl(false)},
		{Workload: "c", Name: "skips", Lang: LangGo, Crawl: testCrawl(true)},
	} {
		r.Add(v)
	}
	return r
}

const pyOK = `import json, sys
assert sys.argv[1:] == ["micro", "m", "py", "200", "1"], sys.argv
print(json.dumps({"ok": True, "ops": 200, "wall_ns": 400000, "metrics": {"peak_rss_kb": 9000}}))`

const pyBad = `import json
print(json.dumps({"ok": False, "error": "sum 1, want 2"}))
raise SystemExit(1)`

func testEchoServer(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	context.AfterFunc(ctx, func() { ln.Close() })
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil
		}
		go func() { defer c.Close(); io.Copy(c, c) }()
	}
}

// testHTTPServer answers every request with status.
func testHTTPServer(status int) func(ctx context.Context, addr string) error {
	return func(ctx context.Context, addr string) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprint(w, "hi")
		})}
		context.AfterFunc(ctx, func() { srv.Close() })
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// testSite serves pages 0..testPages-1, each linking to the next two and
// back to the root, plus an off-site link that must not be followed.
func testSite(ctx context.Context, addr string, latency time.Duration, ready func(int)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := 0 // "/" is page 0
		if r.URL.Path != "/" {
			if _, err := fmt.Sscanf(r.URL.Path, "/p%d", &i); err != nil || i < 1 || i >= testPages {
				http.NotFound(w, r)
				return
			}
		}
		time.Sleep(latency)
		fmt.Fprintf(w, `<a href="%s">a</a> <a href="%s#x">b</a> <a href="/">root</a> <a href="http://example.invalid/">off</a>`,
			testLink((i+1)%testPages), testLink((i+2)%testPages))
	})}
	context.AfterFunc(ctx, func() { srv.Close() })
	ready(testPages)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func testLink(i int) string {
	if i == 0 {
		return "/"
	}
	return fmt.Sprintf("/p%d", i)
}

// testCrawl crawls breadth first, one page at a time; skip makes it miss
// the last page, which the harness must catch.
func testCrawl(skip bool) func(ctx context.Context, root string, conc int) (CrawlStats, error) {
	return func(ctx context.Context, root string, conc int) (CrawlStats, error) {
		var st CrawlStats
		seen := map[string]bool{"/": true}
		queue := []string{"/"}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if skip && p == fmt.Sprintf("/p%d", testPages-1) {
				continue
			}
			resp, err := http.Get(strings.TrimSuffix(root, "/") + p)
			if err != nil {
				st.Errors++
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			st.Pages++
			for _, part := range strings.Split(string(body), `href="`)[1:] {
				link, _, _ := strings.Cut(part, `"`)
				link, _, _ = strings.Cut(link, "#")
				if strings.HasPrefix(link, "/") && !seen[link] {
					seen[link] = true
					queue = append(queue, link)
				}
			}
		}
		return st, nil
	}
}

func testConfig(t *testing.T) Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	py, err := exec.LookPath("python3")
	pyErr := ""
	if err != nil {
		pyErr = "no python3"
	}
	wrk, err := exec.LookPath("wrk")
	wrkErr := ""
	if err != nil {
		wrkErr = "no wrk"
	}
	return Config{Reg: testReg, Quick: true, Reps: 2, OutDir: t.TempDir(), Exe: exe, Python: py, PythonErr: pyErr, Wrk: wrk, WrkErr: wrkErr,
		EchoWindow: 100 * time.Millisecond, EchoDrain: time.Second, SampleTimeout: 30 * time.Second,
		// Never drop a sample as noisy here: the machine is shared, and the
		// noise rule has its own test.
		Noise: Noise{MaxOtherCores: math.Inf(1)},
		Env:   Env{Time: time.Now(), Quick: true, Reps: 2}}
}

func TestRunEndToEnd(t *testing.T) {
	c := testConfig(t)
	sections, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(c.OutDir, "samples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env, samples, err := ReadSamples(f)
	if err != nil {
		t.Fatal(err)
	}
	if env.Kind != "env" || env.Reps != 2 {
		t.Errorf("env line %+v", env)
	}
	status := map[string][]Status{}
	errs := map[string]string{}
	reps := map[string][]int{}
	for _, s := range samples {
		k := s.Workload + "/" + s.Variant
		status[k] = append(status[k], s.Status)
		reps[k] = append(reps[k], s.Rep)
		if s.Error != "" {
			errs[k] = s.Error
		}
		if s.Status == StatusOK && (s.PreIdlePct < 0 || s.PreIdlePct > 100 || s.WallSec <= 0) {
			t.Errorf("%s: noise fields %+v", k, s)
		}
	}
	ok2 := []Status{StatusOK, StatusOK}
	failed2 := []Status{StatusFailed, StatusFailed}
	want := map[string][]Status{
		"m/ref": ok2, "m/ours": ok2, "m/parks": ok2, "m/bad": failed2, "m/panics": failed2,
		"m/later": {StatusUnavailable},
		"e/std":   ok2, "e/dies": failed2,
		"c/bfs": ok2, "c/skips": failed2,
	}
	if c.PythonErr == "" {
		want["m/py"], want["m/py_bad"] = ok2, failed2
	}
	if c.WrkErr == "" {
		want["h/std"], want["h/errs"] = ok2, failed2
	} else {
		want["h/std"], want["h/errs"] = []Status{StatusUnavailable}, []Status{StatusUnavailable}
	}
	for k, w := range want {
		if !slices.Equal(status[k], w) {
			t.Errorf("%s: statuses %v, want %v (error %q)", k, status[k], w, errs[k])
		}
	}
	if !slices.Equal(reps["m/ref"], []int{0, 1}) {
		t.Errorf("reps %v", reps["m/ref"])
	}
	for k, sub := range map[string]string{
		"m/bad": "counted 199, want 200", "m/panics": "panic: boom", "m/later": "not merged",
		"e/dies": "server exited before listening", "c/skips": fmt.Sprintf("crawl: %d pages (want %d)", testPages-1, testPages),
	} {
		if !strings.Contains(errs[k], sub) {
			t.Errorf("%s: error %q lacks %q", k, errs[k], sub)
		}
	}
	if c.PythonErr == "" && !strings.Contains(errs["m/py_bad"], "sum 1, want 2") {
		t.Errorf("python failure reason lost: %q", errs["m/py_bad"])
	}
	rows := map[string]Row{}
	for _, s := range sections {
		for _, r := range s.Rows {
			rows[r.Workload+"/"+r.Variant] = r
		}
	}
	// ours divides by 2N operations, so it is about half the reference's
	// ns/op; pairs exist for both reps.
	if r := rows["m/ours"].Ratios["ns_per_op"]; r.N != 2 || r.Median <= 0 {
		t.Errorf("ours ratio %+v", r)
	}
	if m := rows["m/parks"].Metrics["rss_bytes_per_task"]; m.N != 2 || m.Median < 4096 {
		t.Errorf("parks RSS per task %+v, want >= 4 KiB of the 8 KiB each holds", m)
	}
	if m := rows["m/parks"].Metrics["peak_rss_kb"]; m.N != 2 || m.Min < 200*8 {
		t.Errorf("parks peak RSS %+v kB, want at least the 1600 kB it touched", m)
	}
	if m := rows["c/bfs"].Metrics["pages"]; m.Median != testPages {
		t.Errorf("crawl pages %+v", m)
	}
	if m := rows["e/std"].Metrics["msgs_per_s"]; m.N != 2 || m.Median <= 0 {
		t.Errorf("echo msgs/s %+v", m)
	}
	if c.WrkErr == "" {
		if m := rows["h/std"].Metrics["server_us_per_req"]; m.N != 2 || m.Median <= 0 {
			t.Errorf("http server CPU per request %+v", m)
		}
		if !strings.Contains(errs["h/errs"], "non-2xx") {
			t.Errorf("h/errs: error %q lacks non-2xx", errs["h/errs"])
		}
	}
	for _, name := range []string{"results.md", "summary.jsonl", "m.png", "e.png", "c.png"} {
		if fi, err := os.Stat(filepath.Join(c.OutDir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written (%v)", name, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(c.OutDir, "results.md"))
	if !strings.Contains(string(md), "| not available |") || !strings.Contains(string(md), "| FAILED |") {
		t.Errorf("results.md lacks the unavailable and failed rows:\n%s", md)
	}
}

func TestRunBudgetSkips(t *testing.T) {
	c := testConfig(t)
	c.Reps = 1
	c.Budget = time.Nanosecond
	c.Filter = Filter{"m/ref"}
	sections, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(sections) != 1 || len(sections[0].Rows) != 1 {
		t.Fatalf("sections %+v", sections)
	}
	if r := sections[0].Rows[0]; r.Status != StatusSkipped || r.Metrics != nil || !strings.Contains(r.Note, "time budget") {
		t.Fatalf("row %+v, want skipped without numbers", r)
	}
}

func TestRotate(t *testing.T) {
	xs := []int{1, 2, 3}
	for k, want := range [][]int{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 2, 3}} {
		if got := rotate(xs, k); !slices.Equal(got, want) {
			t.Errorf("rotate(%d) = %v, want %v", k, got, want)
		}
	}
	if rotate([]int(nil), 1) != nil {
		t.Error("rotate of nothing")
	}
}
