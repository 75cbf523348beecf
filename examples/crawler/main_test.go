package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	for lines.Scan() {
	}
	err = cmd.Wait()
	took := time.Since(sent)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 130, exit.ExitCode())
	assert.Less(t, took, 2*time.Second, "stops promptly")
	assert.Contains(t, out.String(), "stopped: interrupted")
	assert.Contains(t, out.String(), "pages/s")
}
