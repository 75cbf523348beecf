package httpserver_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
)

// wrkScript checks every response wrk gets (status and body) and prints how
// many were wrong.
const wrkScript = `
wrk.method = "POST"
wrk.body = "hello wrk"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or body ~= "echo: hello wrk" then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write("bad=" .. total .. "\n")
end
`

// A real load generator, wrk, against the server: keep-alive POSTs from 50
// connections for a second, every response checked by wrk's script, and
// the handlers counting them in a plain shared variable.
func TestWrk(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skipf("no wrk (apt-get install -y wrk; .ci/run installs it): %v", err)
	}
	handled := 0
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := hub.Yield(r.Context()); err != nil { // let the others run
			return
		}
		handled++
		fmt.Fprintf(w, "echo: %s", b)
	}))
	script := filepath.Join(t.TempDir(), "check.lua")
	require.NoError(t, os.WriteFile(script, []byte(wrkScript), 0o644))
	out, err := exec.Command(wrk, "-t2", "-c50", "-d1s", "--timeout", "10s", "-s", script, ts.url+"/").CombinedOutput()
	require.NoError(t, err, "%s", out)
	report := string(out)
	assert.NotContains(t, report, "Socket errors", report)
	assert.NotContains(t, report, "Non-2xx", report)
	assert.Contains(t, report, "bad=0\n", report)
	m := regexp.MustCompile(`(\d+) requests in`).FindStringSubmatch(report)
	require.Len(t, m, 2, report)
	requests, _ := strconv.Atoi(m[1])
	assert.Positive(t, requests)
	ts.inHub(t, func() { assert.GreaterOrEqual(t, handled, requests, "every response wrk counted was handled") })
}
