package main

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/examples/internal/childtest"
)

// TestMain doubles as the command when a test runs it as a child process
// (to send it a real SIGTERM).
func TestMain(m *testing.M) { childtest.Main(m, "HTTPSERVER_TEST_ARGS", main) }

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return childtest.Run(t, cli, args...)
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
	child := childtest.Start(t, "HTTPSERVER_TEST_ARGS", "-serve -grace 2s", "httpserver: serving on ")
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	for _, want := range []string{"1", "2"} {
		resp, err := client.Get("http://" + child.Addr + "/hit")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, strings.TrimSpace(string(b)))
	}
	tr.CloseIdleConnections()
	rest := child.Stop(t, syscall.SIGTERM)
	assert.Contains(t, rest, "terminated: stopping")
	assert.Contains(t, rest, "stopped gracefully")
}
