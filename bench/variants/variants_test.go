package variants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/examples/crawler/site"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/netpoll"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Ignore what package init started: ants' default pool keeps its purge
	// goroutines even after gnet's init releases it.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// Small sizes: these tests check that every variant does its work and
// checks it, not how fast it is.
var testSize = map[string]int{
	"spawn_join": 3000, "switch": 3000, "queue": 10000, "pool_map": 3000, "sleep_many": 1000, "mem_parked": 1000,
}

func TestRegistryShape(t *testing.T) {
	for _, w := range Reg.Workloads() {
		ref := Reg.Lookup(w.Name, w.Ref)
		if ref == nil || ref.Missing != "" || ref.Ours {
			t.Errorf("%s: reference %q must be a registered peer, got %+v", w.Name, w.Ref, ref)
		}
		if !slices.Contains(w.Columns, w.Primary) || !slices.Contains(w.Ratios, w.Primary) {
			t.Errorf("%s: primary metric %q must be a column with a ratio", w.Name, w.Primary)
		}
		ours := 0
		for _, v := range Reg.Variants(w.Name) {
			if v.Ours {
				ours++
			}
			if v.Missing != "" && !strings.Contains(v.Missing, "not merged") {
				t.Errorf("%s: a slot must say what is missing: %q", v.Key(), v.Missing)
			}
		}
		if ours == 0 {
			t.Errorf("%s: no gevent-go variant or slot", w.Name)
		}
	}
}

func TestGoMicroVariants(t *testing.T) {
	for _, w := range Reg.Workloads() {
		if w.Kind != harness.Micro {
			continue
		}
		for _, v := range Reg.Variants(w.Name) {
			if v.Micro == nil {
				continue
			}
			t.Run(v.Key(), func(t *testing.T) {
				b := &harness.B{N: testSize[w.Name]}
				if err := v.Micro(b); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestChecksFailOnWrongWork(t *testing.T) {
	if checkCount("x", 9, 10) == nil || checkCount("x", 10, 10) != nil {
		t.Error("checkCount")
	}
	if checkSum(15, 5) != nil || checkSum(14, 5) == nil {
		t.Error("checkSum")
	}
	out := []int{1, 3, 5}
	if checkMapped(out) != nil {
		t.Error("checkMapped rejects a good map")
	}
	out[1], out[2] = out[2], out[1] // right values, wrong order
	if checkMapped(out) == nil {
		t.Error("checkMapped accepts a reordered map")
	}
	if checkSlept(10, 1, 10) == nil || checkSlept(9, 0, 10) == nil || checkSlept(10, 0, 10) != nil {
		t.Error("checkSlept")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a port another process opens
	}
}

func driveEcho(t *testing.T, addr string) {
	t.Helper()
	for _, size := range []int{64, 4096} {
		r, err := harness.RunEchoLoad(context.Background(), harness.EchoLoad{Addr: addr, Conns: 8, Size: size,
			Window: 100 * time.Millisecond, Drain: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Check(); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}

func TestGoEchoServers(t *testing.T) { testServers(t, "echo", driveEcho) }

// testServers runs each of workload's Go servers, drives it, and stops it.
func testServers(t *testing.T, workload string, drive func(t *testing.T, addr string)) {
	for _, v := range Reg.Variants(workload) {
		if v.Server == nil {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- v.Server(ctx, addr) }()
			waitListening(t, addr)
			drive(t, addr)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("server: %v", err)
			}
		})
	}
}

// driveHTTP checks a server answers keep-alive GETs with the hello body,
// from several connections at once.
func driveHTTP(t *testing.T, addr string) {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 20 {
				resp, err := client.Get("http://" + addr + "/")
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(b) != "Hello, World!" {
					errs <- fmt.Errorf("status %d body %q err %v", resp.StatusCode, b, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestGoHTTPServers(t *testing.T) { testServers(t, "http", driveHTTP) }

// The wrk client of the harness, against net/http, where wrk is installed.
func TestWrkClient(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skipf("no wrk (apt-get install -y wrk): %v", err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- netHTTPServer(ctx, addr) }()
	waitListening(t, addr)
	r, err := harness.RunWrk(context.Background(), harness.WrkLoad{Wrk: wrk, Addr: addr, Conns: 4, Threads: 1, Window: time.Second})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
}

// testSite serves a small site: n pages in a ring with skips, fragments, a
// duplicate link and an off-site link that must not be followed.
func testSite(t *testing.T, n int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p"))
		if r.URL.Path == "/" {
			i, err = 0, nil
		}
		if err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		link := func(j int) string {
			if j%n == 0 {
				return "/"
			}
			return fmt.Sprintf("p%d", j%n) // relative
		}
		fmt.Fprintf(w, `<html><a href="%s">x</a><a href="%s#top">y</a><a href="%s">dup</a><a href="http://example.invalid/p1">off</a></html>`,
			link(i+1), link(i+3), link(i+1))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPCrawl(t *testing.T) {
	srv := testSite(t, 40)
	st, err := httpCrawl(context.Background(), srv.URL+"/", 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.CheckCrawl(st, 40); err != nil {
		t.Fatal(err)
	}
	if harness.CheckCrawl(st, 41) == nil {
		t.Fatal("CheckCrawl accepts a wrong page count")
	}
}

// TestCrawlVariants: every Go crawler of both crawl workloads fetches every
// page of a small clean site of that workload's mode, and no error.
func TestCrawlVariants(t *testing.T) {
	t.Cleanup(func() {
		// The netpoll variant sets the dial function and starts netpoll's
		// shared gnet engine: undo both before the leak check.
		monkey.SetDialFunc(nil)
		if err := netpoll.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	for _, w := range crawlWorkloads {
		s := site.New(site.Config{Pages: 60, Clean: true, Realistic: w == "crawl_realistic"})
		base, err := s.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		want := s.Reachable(site.DefaultPolicy).Count(site.Page)
		for _, v := range Reg.Variants(w) {
			if v.Crawl == nil {
				continue
			}
			t.Run(v.Key(), func(t *testing.T) {
				st, err := v.Crawl(t.Context(), base+"/", 8)
				if err == nil {
					err = harness.CheckCrawl(st, want)
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Python gevent variants: run only where the system python3 has gevent.

const python = "/usr/bin/python3"

func needGevent(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import gevent").Run(); err != nil {
		t.Skipf("%s cannot import gevent (apt-get install -y python3-gevent): %v", python, err)
	}
}

func runPy(t *testing.T, args ...string) (harness.ChildResult, error) {
	t.Helper()
	out, err := exec.Command(python, append([]string{"-c", geventScript}, args...)...).Output()
	var r harness.ChildResult
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		return r, fmt.Errorf("no JSON result (%v): %q", err, out)
	}
	if !r.OK {
		return r, errors.New(r.Error)
	}
	return r, nil
}

func TestPythonMicroVariants(t *testing.T) {
	needGevent(t)
	for _, w := range Reg.Workloads() {
		if w.Kind != harness.Micro {
			continue
		}
		for _, v := range Reg.Variants(w.Name) {
			if v.Python == nil {
				continue
			}
			t.Run(v.Key(), func(t *testing.T) {
				n := min(testSize[w.Name], 2000)
				r, err := runPy(t, "micro", w.Name, v.Python.Name, strconv.Itoa(n), "1")
				if err != nil {
					t.Fatal(err)
				}
				if r.Ops < n || r.WallNS <= 0 || r.Metrics["peak_rss_kb"] <= 0 {
					t.Fatalf("result %+v", r)
				}
				if w.Name == "mem_parked" && r.Metrics["rss_bytes_per_task"] <= 0 {
					t.Fatalf("no parked memory figure: %+v", r)
				}
			})
		}
	}
	if _, err := runPy(t, "micro", "switch", "no_such_variant", "10", "0"); err == nil || !strings.Contains(err.Error(), "no python variant") {
		t.Fatalf("unknown variant: %v", err)
	}
}

func TestPythonEchoServer(t *testing.T) {
	needGevent(t)
	addr := freeAddr(t)
	cmd := exec.Command(python, "-c", geventScript, "echo_server", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitListening(t, addr)
	driveEcho(t, addr)
}

func TestPythonHTTPServer(t *testing.T) {
	needGevent(t)
	addr := freeAddr(t)
	cmd := exec.Command(python, "-c", geventScript, "http_server", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitListening(t, addr)
	driveHTTP(t, addr)
}

func TestPythonCrawl(t *testing.T) {
	needGevent(t)
	srv := testSite(t, 30)
	r, err := runPy(t, "crawl", srv.URL+"/", "4", "30")
	if err != nil {
		t.Fatal(err)
	}
	if r.Ops != 30 || r.Metrics["pages_per_s"] <= 0 {
		t.Fatalf("result %+v", r)
	}
	if _, err := runPy(t, "crawl", srv.URL+"/", "4", "31"); err == nil || !strings.Contains(err.Error(), "30 pages (want 31)") {
		t.Fatalf("a wrong page count must fail: %v", err)
	}
}
