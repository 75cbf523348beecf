package main

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/examples/internal/childtest"
)

// TestMain doubles as the command when a test runs it as a child process
// (to send it a real SIGTERM).
func TestMain(m *testing.M) { childtest.Main(m, "UDPECHO_TEST_ARGS", main) }

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return childtest.Run(t, cli, args...)
}

func TestCheck(t *testing.T) {
	code, out, errOut := runCLI(t, "-clients", "5", "-count", "50", "-max-handlers", "3")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, errOut, "udpecho: serving on 127.0.0.1:")
	assert.Contains(t, errOut, "udpecho: stopped gracefully")
	assert.Contains(t, out, "check: 5 clients x 50 datagrams: 250 echoed and verified")
	assert.Contains(t, out, ", 0 wrong")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-count", "0"}, {"-timeout", "0s"}, {"-no-such-flag"}} {
		code, _, errOut := runCLI(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
}

// "udpecho -serve" in a child process echoes, and SIGTERM stops it.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	child := childtest.Start(t, "UDPECHO_TEST_ARGS", "-serve", "udpecho: serving on ")
	c, err := net.Dial("udp", child.Addr)
	require.NoError(t, err)
	defer c.Close()
	buf := make([]byte, 64)
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, 5, "no echo")
		_, err = c.Write([]byte("ping"))
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
		n, err := c.Read(buf)
		if err == nil {
			assert.Equal(t, "ping", string(buf[:n]))
			break
		}
	}
	rest := child.Stop(t, syscall.SIGTERM)
	assert.Contains(t, rest, "terminated: stopping")
	assert.Contains(t, rest, "udpecho: stopped gracefully")
}
