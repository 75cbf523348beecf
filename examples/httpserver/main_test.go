package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/internal/leaktest"
	"github.com/gevent-go/gevent/netpoll"
)

// TestMain doubles as the command when a test runs it as a child process
// (to send it a real SIGTERM).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("HTTPSERVER_TEST_ARGS"); ok {
		os.Args = append([]string{"httpserver"}, strings.Fields(args)...)
		main()
		return
	}
	leaktest.Main(m, netpoll.Shutdown)
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// With no flags it serves, loads itself, and finds every hit counted by
// handlers that share the counter without a lock.
func TestLoad(t *testing.T) {
	code, out, errOut := runCLI(t, "-clients", "8", "-requests", "30", "-sleep", "20")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, errOut, "httpserver: serving on 127.0.0.1:")
	assert.Contains(t, errOut, "httpserver: stopped gracefully")
	assert.Contains(t, out, "load: 8 clients x 30 requests: 240 in")
	assert.Contains(t, out, ", 0 errors")
	assert.Contains(t, out, "counter: 248 hits, want 248")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-clients", "0"}, {"-no-such-flag"}} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
}

// "httpserver -serve" in a child process: it serves, then SIGTERM (caught
// by hub.WaitSignal in its main greenlet) stops it gracefully, exit 0.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HTTPSERVER_TEST_ARGS=-serve -grace 2s")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	addr := ""
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "httpserver: serving on "); ok {
			addr = strings.Fields(a)[0]
			break
		}
	}
	require.NotEmpty(t, addr)
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	for _, want := range []string{"1", "2"} {
		resp, err := client.Get("http://" + addr + "/hit")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, strings.TrimSpace(string(b)))
	}
	tr.CloseIdleConnections()

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	require.NoError(t, cmd.Wait(), rest.String())
	assert.Contains(t, rest.String(), "terminated: stopping")
	assert.Contains(t, rest.String(), "stopped gracefully")
}
