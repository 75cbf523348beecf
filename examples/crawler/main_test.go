package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/gevent-go/gevent/examples/crawler/site"
	"github.com/gevent-go/gevent/monkey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain doubles as the crawler itself when a test runs it as a child
// process (to send it a real SIGINT).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("CRAWLER_TEST_ARGS"); ok {
		os.Args = append([]string{"crawler"}, strings.Split(args, "\x1f")...)
		main()
		return
	}
	monkey.PatchAll() // as main does
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli(t.Context(), args, &out, &errOut, false)
	return code, out.String(), errOut.String()
}

func TestEmbeddedSiteJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "-pages", "200", "-latency", "1ms", "-json", "-", "-c", "20")
	require.Equal(t, 0, code, errOut)
	var sum crawl.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.Greater(t, sum.Pages, 200)
	assert.Equal(t, 20, sum.Concurrency)
	assert.Equal(t, "greenlets", sum.Engine)
	assert.Positive(t, sum.Errors)
	assert.Positive(t, sum.Bytes)
	assert.Positive(t, sum.PagesPerSec)
	assert.Empty(t, sum.Truncated, "the default body limit fits the 2 MiB page")
	assert.Contains(t, errOut, "no URL given: crawling the embedded small site")
	// JSON took stdout, so the text summary went to stderr.
	assert.Contains(t, errOut, "pages/s")
	assert.Contains(t, errOut, ": done\n")
}

func TestVisitedFileAndTextSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "visited.txt")
	code, out, errOut := runCLI(t, "-pages", "100", "-latency", "0", "-visited", path, "-progress", "lines",
		"-engine", "goroutines", "-max-pages", "80")
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	assert.Len(t, lines, 80)
	assert.True(t, slices.IsSorted(lines))
	assert.Equal(t, len(lines), len(slices.Compact(slices.Clone(lines))), "no URL twice")
	assert.Contains(t, out, "(goroutines, concurrency 50): stopped: max-pages")
	assert.Contains(t, out, "80 URLs fetched")
	assert.Contains(t, errOut, "crawler: 80 done", "the final plain progress line")
}

func TestStartURL(t *testing.T) {
	s := site.New(site.Config{Pages: 50})
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer s.Close()
	code, out, errOut := runCLI(t, "-visited", "-", "-max-depth", "1", base+"/p/10.html")
	require.Equal(t, 0, code, errOut)
	visited := strings.Fields(out)
	// The start page and the links on it, nothing else.
	assert.Contains(t, visited, base+"/p/10.html")
	assert.Contains(t, visited, base+"/p/11.html")
	assert.Less(t, len(visited), 12)
	assert.NotContains(t, errOut, "embedded site")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"http://a/", "http://b/"},
		{"-engine", "threads"},
		{"-progress", "loud"},
		{"-c", "0"},
		{"-timeout", "0s"},
		{"mailto:x@y"},
	} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
		assert.NotEmpty(t, errOut, args)
	}
	code, _, errOut := runCLI(t, "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "usage: crawler")
	assert.Contains(t, errOut, "1 when the start URL itself failed")
	assert.Contains(t, errOut, "-max-header-bytes")
	assert.Contains(t, errOut, "-body-memory")
}

// TestTextSummary: the summary breaks errors down by kind and names the
// failed URLs, the first ten with their reasons.
func TestTextSummary(t *testing.T) {
	js := filepath.Join(t.TempDir(), "sum.json")
	code, out, errOut := runCLI(t, "-pages", "300", "-latency", "0", "-progress", "off", "-json", js)
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	var sum crawl.Summary
	require.NoError(t, json.Unmarshal(b, &sum))
	require.Greater(t, sum.Errors, 10, "enough failures to be cut")
	assert.Contains(t, out, "  errors    "+strconv.Itoa(sum.Errors)+": ")
	for _, k := range []string{crawl.KindNotFound, crawl.KindServerError, crawl.KindTooManyRedirects, crawl.KindRedirectLoop} {
		assert.Positive(t, sum.ErrorsByKind[k], "the site has a %s", k)
	}
	for k, n := range sum.ErrorsByKind {
		assert.Regexp(t, `errors .*\b`+strconv.Itoa(n)+" "+strings.ReplaceAll(k, "_", " ")+`(,|\n)`, out, k)
	}
	var failed []string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "  failed    ") {
			failed = append(failed, l)
		}
	}
	require.Len(t, failed, 10)
	for i, l := range failed {
		assert.Equal(t, "  failed    "+sum.Failures[i].URL+": "+sum.Failures[i].Error+"\n", l)
	}
	assert.Contains(t, out, "... and "+strconv.Itoa(sum.Errors-10)+" more failed URLs")
}

// TestStartURLFails: the exit status is 1 when the start URL fails, 0 when
// only pages it leads to do.
func TestStartURLFails(t *testing.T) {
	s := site.New(site.Config{Pages: 20})
	base, err := s.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer s.Close()
	for _, tc := range []struct {
		start string
		code  int
		msg   string
	}{
		{base + "/p/999.html", 1, "crawler: the start URL failed: " + base + "/p/999.html: crawl: Not Found"},
		{base + "/special/cycle/self", 1, "redirect loop"},
		{"http://127.0.0.1:1/", 1, "connection refused"},
		{base + "/r/0", 0, ""},
	} {
		code, out, errOut := runCLI(t, "-progress", "off", tc.start)
		assert.Equal(t, tc.code, code, "%s: %s", tc.start, errOut)
		if tc.code != 0 {
			assert.Contains(t, errOut, tc.msg)
			assert.Contains(t, out, "the start URL failed: ")
		}
	}
}

// TestBarAfterInterrupt: the last bar of an interrupted crawl shows what
// was done of what was known, not 100% of a total shrunk to what was done.
func TestBarAfterInterrupt(t *testing.T) {
	var w bytes.Buffer
	r := newReporter("bar", &w)
	r.update(crawl.Progress{Done: 40, Queued: 160})
	r.update(crawl.Progress{Done: 50, Queued: 0, Dropped: 150}) // the final snapshot after Ctrl-C
	r.finish()
	out := w.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	assert.Contains(t, last, "50/200")
	assert.Contains(t, last, "25%")
	assert.NotContains(t, out, "100%")
}

// TestSIGINT runs the crawler as a child process on a slow embedded site,
// interrupts it, and expects a prompt exit with the summary of what it did.
func TestSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CRAWLER_TEST_ARGS="+strings.Join([]string{"-latency", "100ms", "-c", "5", "-progress", "lines"}, "\x1f"))
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	// Wait for the first progress line: the crawl is under way.
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "crawler: ") && strings.Contains(lines.Text(), " done, ") {
			break
		}
	}
	sent := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	last := ""
	for lines.Scan() {
		if strings.Contains(lines.Text(), " done, ") {
			last = lines.Text()
		}
	}
	err = cmd.Wait()
	took := time.Since(sent)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 130, exit.ExitCode())
	assert.Less(t, took, 2*time.Second, "stops promptly")
	assert.Contains(t, out.String(), "stopped: interrupted")
	// The last progress line counts the URLs known and never fetched.
	assert.Regexp(t, `^crawler: \d+ done, 0 queued, \d+ dropped, `, last)
	assert.Contains(t, out.String(), "pages/s")
}
