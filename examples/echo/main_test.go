package main

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gevent-go/gevent/examples/echo/echo"
	"github.com/gevent-go/gevent/examples/echo/internal/echotest"
	"github.com/gevent-go/gevent/examples/internal/childtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain doubles as the echo command when a test runs it as a child
// process (to send it a real SIGTERM).
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("ECHO_TEST_ARGS"); ok {
		os.Args = append([]string{"echo"}, strings.Fields(args)...)
		main()
		return
	}
	if spec, ok := os.LookupEnv("ECHO_FLOOD"); ok {
		flood(spec) // the flooding clients of TestFloodedServer
		return
	}
	echotest.Main(m)
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return childtest.Run(t, cli, args...)
}

// With no mode flag it serves, loads its own server, and stops it.
func TestServerAndLoad(t *testing.T) {
	code, out, errOut := runCLI(t, "-duration", "300ms", "-conns", "8", "-size", "256")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "echo: serving on 127.0.0.1:")
	assert.Contains(t, errOut, "echo: stopped gracefully")
	assert.Contains(t, out, "load: 8 connections, 256-byte messages")
	assert.Contains(t, out, "msgs/s")
	assert.Contains(t, out, "MB/s")
	assert.Contains(t, out, "p99.9")
	assert.Contains(t, out, " 0 mismatched, 0 errors")
}

// -stdlib serves on the standard library's net; -idle-timeout and the
// inbound flags are accepted.
func TestServerFlags(t *testing.T) {
	code, out, errOut := runCLI(t, "-stdlib", "-idle-timeout", "5s", "-inbound-cap", "65536", "-inbound-budget", "1048576", "-sockbuf", "65536",
		"-duration", "200ms", "-conns", "4", "-size", "128")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, ", stdlib)")
	assert.Contains(t, out, " 0 mismatched, 0 errors")
	code, _, errOut = runCLI(t, "-duration", "100ms", "-conns", "2")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, ", gnet)")
}

func TestLoadJSONAgainstServer(t *testing.T) {
	s, err := echo.Start(t.Context(), echo.ServerConfig{Addr: "127.0.0.1:0", PoolSize: 4})
	require.NoError(t, err)
	defer s.Stop(t.Context())
	code, out, errOut := runCLI(t, "-load", "-addr", s.Addr().String(), "-duration", "200ms", "-conns", "3", "-json")
	require.Equal(t, 0, code, errOut)
	var res echo.LoadResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, 3, res.Conns)
	assert.Positive(t, res.Msgs)
	assert.Zero(t, res.Mismatches)
	assert.Zero(t, res.Errors)
	assert.NotContains(t, errOut, "serving", "-load starts no server")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-serve", "-load"},
		{"-load"},
		{"extra"},
		{"-no-such-flag"},
		{"-size", "4", "-duration", "10ms"},
	} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
}

// TestSIGTERM runs "echo -serve" as a child process, talks to it, then
// stops it with SIGTERM: it exits 0 after a graceful stop.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	child := childtest.Start(t, "ECHO_TEST_ARGS", "-serve -grace 2s", "echo: serving on ")
	c, err := net.Dial("tcp", child.Addr)
	require.NoError(t, err)
	_, err = c.Write([]byte("ping"))
	require.NoError(t, err)
	got := make([]byte, 4)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(got))
	require.NoError(t, c.Close())

	rest := child.Stop(t, syscall.SIGTERM)
	assert.Contains(t, rest, "echo: stopped gracefully")
}
