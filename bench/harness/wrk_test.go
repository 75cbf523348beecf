package harness

import (
	"testing"
	"time"
)

const wrkReport = `Running 1s test @ http://127.0.0.1:18080/
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   702.48us    1.39ms  20.28ms   90.89%
    Req/Sec    18.92k     6.13k   30.90k    65.00%
  Latency Distribution
     50%  189.00us
     75%  670.00us
     90%    1.93ms
     99%    6.84ms
  37641 requests in 1.00s, 4.13MB read
Requests/sec:  37518.76
Transfer/sec:      4.11MB
`

func TestParseWrk(t *testing.T) {
	r, err := ParseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := WrkResult{Requests: 37641, Seconds: 1, ReqPerSec: 37518.76, P50: 189 * time.Microsecond, P99: 6840 * time.Microsecond}
	if r != want {
		t.Fatalf("got %+v, want %+v", r, want)
	}
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	if m["req_per_s"] != 37518.76 || m["p50_us"] != 189 || m["p99_us"] != 6840 {
		t.Fatalf("metrics %v", m)
	}

	bad, err := ParseWrk(wrkReport[:len(wrkReport)-50] + "  Socket errors: connect 1, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec:  10.00\n")
	if err != nil {
		t.Fatal(err)
	}
	if bad.SocketErrors != 6 || bad.Non2xx != 7 || bad.Check() == nil {
		t.Fatalf("errors not counted or accepted: %+v", bad)
	}
	if _, err := ParseWrk("wrk: command not found"); err == nil {
		t.Fatal("a report without figures parsed")
	}
}
