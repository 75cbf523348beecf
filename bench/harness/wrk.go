package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// WrkLoad is one wrk run: Conns connections (one request in flight each)
// over Threads threads against http://Addr/ for Window.
type WrkLoad struct {
	Wrk     string // the wrk binary
	Addr    string
	Conns   int
	Threads int
	Window  time.Duration
}

// WrkResult is what wrk reported.
type WrkResult struct {
	Requests     int64
	Seconds      float64
	ReqPerSec    float64
	P50, P99     time.Duration
	SocketErrors int64 // connect, read, write and timeout errors
	Non2xx       int64
}

// Check fails a run with socket errors, non-2xx responses or no requests:
// the server did wrong work, so its speed means nothing.
func (r WrkResult) Check() error {
	if r.Requests == 0 || r.SocketErrors > 0 || r.Non2xx > 0 {
		return fmt.Errorf("wrk: %d requests, %d socket errors, %d non-2xx responses", r.Requests, r.SocketErrors, r.Non2xx)
	}
	return nil
}

// Metrics are the sample's figures.
func (r WrkResult) Metrics() map[string]float64 {
	return map[string]float64{
		"req_per_s": r.ReqPerSec,
		"p50_us":    float64(r.P50) / 1e3,
		"p99_us":    float64(r.P99) / 1e3,
	}
}

// RunWrk runs wrk and parses its report.
func RunWrk(ctx context.Context, l WrkLoad) (WrkResult, error) {
	secs := max(1, int(l.Window.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, l.Wrk, "-t"+strconv.Itoa(min(l.Threads, l.Conns)), "-c"+strconv.Itoa(l.Conns),
		"-d"+strconv.Itoa(secs)+"s", "--timeout", "10s", "--latency", "http://"+l.Addr+"/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %v: %s", err, tail(string(out), 400))
	}
	return ParseWrk(string(out))
}

// ParseWrk reads wrk's text report (with --latency).
func ParseWrk(out string) (WrkResult, error) {
	var r WrkResult
	var haveRate, haveTotal bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.P50 = parseWrkDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.P99 = parseWrkDuration(f[1])
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			// "123456 requests in 3.00s, 15.78MB read"
			n, err1 := strconv.ParseInt(f[0], 10, 64)
			d, err2 := time.ParseDuration(strings.TrimSuffix(f[3], ","))
			if err1 == nil && err2 == nil {
				r.Requests, r.Seconds, haveTotal = n, d.Seconds(), true
			}
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			r.ReqPerSec, haveRate = v, err == nil
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			// "Socket errors: connect 0, read 12, write 0, timeout 3"
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				r.SocketErrors += n
			}
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Non2xx, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	if !haveRate || !haveTotal || r.P50 == 0 || r.P99 == 0 {
		return r, errors.New("wrk: unexpected report: " + tail(out, 400))
	}
	return r, nil
}

// parseWrkDuration reads wrk's latencies: "812.00us", "1.53ms", "2.01s".
func parseWrkDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0
	}
	return d
}
