// Package childtest runs a server example as a child process of its own
// test binary, so that its test can stop it with a real signal.
package childtest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gevent-go/gevent/internal/leaktest"
	"github.com/gevent-go/gevent/netpoll"
)

// Main is an example's TestMain. In the child (env set), it runs main with
// env's words as arguments; otherwise it runs the tests, with netpoll's
// shutdown and the goroutine-leak check after them.
func Main(m *testing.M, env string, main func()) {
	if args, ok := os.LookupEnv(env); ok {
		os.Args = append([]string{os.Args[0]}, strings.Fields(args)...)
		main()
		return
	}
	leaktest.Main(m, netpoll.Shutdown)
}

// Child is the example running as a child process.
type Child struct {
	cmd  *exec.Cmd
	rest chan string // its stderr after the ready line, once it closes it
	// Addr is the address the child said it serves on.
	Addr string
}

// Start runs the test binary as the example with args (through env), and
// waits for its stderr line that starts with ready, followed by the
// address.
func Start(t *testing.T, env, args, ready string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+args)
	return StartCmd(t, cmd, ready)
}

// StartCmd is Start for a command the test makes itself (the example built
// on its own, say). From the ready line on, the child's stderr is read in
// the background, so that a child that logs much never blocks on it.
func StartCmd(t *testing.T, cmd *exec.Cmd, ready string) *Child {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &Child{cmd: cmd, rest: make(chan string, 1)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), ready); ok {
			c.Addr = strings.Fields(a)[0]
			go func() {
				var rest strings.Builder
				for lines.Scan() {
					rest.WriteString(lines.Text() + "\n")
				}
				c.rest <- rest.String()
			}()
			return c
		}
	}
	t.Fatalf("the child never said %q", ready)
	return nil
}

// Stop sends sig, waits for the child to exit with status 0, and returns
// what it wrote on stderr since the ready line.
func (c *Child) Stop(t *testing.T, sig os.Signal) string {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	rest := <-c.rest // the child has closed its stderr: Wait may close ours
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, rest)
	}
	return rest
}

// CLI is an example's command body: args without the program name, output
// to stdout and stderr, and the exit status it returns.
type CLI func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Run runs cli in the test's process with args, and returns its exit
// status, stdout and stderr.
func Run(t *testing.T, cli CLI, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}
