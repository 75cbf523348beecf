package variants

import (
	"fmt"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
)

// Reg holds every workload and variant of the harness. The workloads are
// registered while package variables are initialized, before any init
// function, so variant files may register in any order.
var Reg = newRegistry()

// Metric columns shared by the micro workloads.
var microColumns = []string{"ns_per_op", "allocs_per_op", "wall_ms", "peak_rss_kb"}

func newRegistry() *harness.Registry {
	r := harness.NewRegistry()
	r.AddWorkload(harness.Workload{
		Name:  "spawn_join",
		Title: "Spawn N trivial tasks (each increments a counter) and join them all; one untimed warm-up first.",
		Kind:  harness.Micro, Size: 200_000, QuickSize: 20_000, Warmup: true,
		Ref: "go_waitgroup", Primary: "ns_per_op", Ratios: []string{"ns_per_op"}, Columns: microColumns,
	})
	r.AddWorkload(harness.Workload{
		Name:  "switch",
		Title: "Two tasks alternating for N round trips; ns/op is per hand-off (2N), the order of turns is checked.",
		Kind:  harness.Micro, Size: 1_000_000, QuickSize: 100_000,
		Ref: "chan", Primary: "ns_per_op", Ratios: []string{"ns_per_op"}, Columns: microColumns,
	})
	r.AddWorkload(harness.Workload{
		Name:  "queue",
		Title: fmt.Sprintf("N ints from one producer to one consumer through a bounded queue (capacity %d); the sum is checked.", queueCap),
		Kind:  harness.Micro, Size: 1_000_000, QuickSize: 100_000,
		Ref: "chan_buffered", Primary: "ns_per_op", Ratios: []string{"ns_per_op"}, Columns: microColumns,
	})
	r.AddWorkload(harness.Workload{
		Name:  "pool_map",
		Title: fmt.Sprintf("Map a trivial function over N items with concurrency %d, results in input order (checked); one untimed warm-up first.", mapConc),
		Kind:  harness.Micro, Size: 200_000, QuickSize: 20_000, Warmup: true,
		Ref: "errgroup_limit100", Primary: "ns_per_op", Ratios: []string{"ns_per_op"}, Columns: microColumns,
	})
	r.AddWorkload(harness.Workload{
		Name:  "sleep_many",
		Title: fmt.Sprintf("N tasks each sleeping %v at once (each checks it slept that long); wall time and peak RSS.", sleepFor),
		Kind:  harness.Micro, Size: 100_000, QuickSize: 10_000,
		Ref: "go_sleep", Primary: "wall_ms", Ratios: []string{"wall_ms", "peak_rss_kb"},
		Columns: []string{"wall_ms", "peak_rss_kb", "allocs_per_op"},
	})
	r.AddWorkload(harness.Workload{
		Name:  "mem_parked",
		Title: "N tasks parked at once: resident memory growth per parked task (all are then woken and their wake-up checked).",
		Kind:  harness.Micro, Size: 100_000, QuickSize: 10_000,
		Ref: "go_chan", Primary: "rss_bytes_per_task", Ratios: []string{"rss_bytes_per_task"},
		Columns: []string{"rss_bytes_per_task", "wall_ms", "peak_rss_kb"},
	})
	r.AddWorkload(harness.Workload{
		Name: "echo",
		Title: "TCP echo on 127.0.0.1, closed loop (one message in flight per connection), every byte checked; " +
			"server and client in their own processes; server CPU in cores, p50/p99 round trip.",
		Kind:          harness.Echo,
		EchoGrid:      []harness.EchoConfig{{Conns: 100, Size: 64}, {Conns: 100, Size: 4096}, {Conns: 1000, Size: 64}, {Conns: 1000, Size: 4096}},
		QuickEchoGrid: []harness.EchoConfig{{Conns: 100, Size: 64}},
		Ref:           "gnet", Primary: "msgs_per_s", Ratios: []string{"msgs_per_s", "p99_us"},
		Columns: []string{"msgs_per_s", "mb_per_s", "p50_us", "p99_us", "server_cpu", "server_rss_kb"},
	})
	r.AddWorkload(harness.Workload{
		Name: "http",
		Title: "HTTP/1.1 keep-alive GET answered with a 13-byte text/plain body (TechEmpower's plaintext handler), " +
			"loaded by wrk (one request in flight per connection); any socket error or non-2xx response fails the sample; " +
			"server CPU per request.",
		Kind:          harness.HTTP,
		EchoGrid:      []harness.EchoConfig{{Conns: 100}, {Conns: 1000}},
		QuickEchoGrid: []harness.EchoConfig{{Conns: 100}},
		Ref:           "nethttp", Primary: "req_per_s", Ratios: []string{"req_per_s", "p99_us", "server_us_per_req"},
		Columns: []string{"req_per_s", "p50_us", "p99_us", "server_us_per_req", "server_cpu", "server_rss_kb"},
	})
	r.AddWorkload(harness.Workload{
		Name: "crawl",
		Title: fmt.Sprintf("Crawl the crawler example's embedded site (every response delayed %v) with concurrency %d; "+
			"every page must be fetched exactly once.", crawlLatency, crawlConc),
		Kind: harness.Crawl, Latency: crawlLatency, Concurrency: crawlConc,
		SiteMissing: "no crawl site registered (crawlsite.go registers examples/crawler's embedded site)",
		Ref:         "nethttp", Primary: "pages_per_s", Ratios: []string{"pages_per_s"},
		Columns: []string{"pages_per_s", "pages", "wall_ms", "peak_rss_kb"},
	})
	r.AddWorkload(harness.Workload{
		Name: "crawl_realistic",
		Title: fmt.Sprintf("Crawl the crawler example's embedded site in its realistic mode (600 pages with a real "+
			"documentation site's sizes: median 30 KiB, three past 1 MiB, 35 MiB in all; parse-heavy), every response "+
			"delayed %v, concurrency %d; every page must be fetched exactly once.", crawlLatency, crawlConc),
		Kind: harness.Crawl, Latency: crawlLatency, Concurrency: crawlConc,
		SiteMissing: "no crawl site registered (crawlsite.go registers examples/crawler's embedded site)",
		Ref:         "nethttp", Primary: "pages_per_s", Ratios: []string{"pages_per_s", "peak_rss_kb"},
		Columns: []string{"pages_per_s", "pages", "wall_ms", "peak_rss_kb"},
	})
	return r
}

// Workload parameters.
const (
	queueCap     = 100
	mapConc      = 100
	sleepFor     = 10 * time.Millisecond
	crawlLatency = 20 * time.Millisecond
	crawlConc    = 50
)

// goMicro registers a Go micro variant.
func goMicro(workload, name, desc string, f func(b *harness.B) error, env ...string) {
	Reg.Add(harness.Variant{Workload: workload, Name: name, Lang: harness.LangGo, Desc: desc, Micro: f, Env: env})
}

// oursMicro registers one of gevent-go's own micro variants.
func oursMicro(workload, name, desc string, f func(b *harness.B) error, env ...string) {
	Reg.Add(harness.Variant{Workload: workload, Name: name, Lang: harness.LangGo, Ours: true, Desc: desc, Micro: f, Env: env})
}

// p1 runs a variant's process with GOMAXPROCS=1.
const p1 = "GOMAXPROCS=1"

// checkCount fails unless a counter reached want.
func checkCount(what string, got, want int64) error {
	if got != want {
		return fmt.Errorf("%s: counted %d, want %d", what, got, want)
	}
	return nil
}

// mapFn is the trivial function of pool_map.
func mapFn(i int) int { return 2*i + 1 }

// checkMapped fails unless out[i] == mapFn(i) for every i.
func checkMapped(out []int) error {
	for i, v := range out {
		if v != mapFn(i) {
			return fmt.Errorf("pool_map: out[%d] = %d, want %d", i, v, mapFn(i))
		}
	}
	return nil
}

// checkSum fails unless sum is 1 + 2 + ... + n.
func checkSum(sum int64, n int) error {
	want := int64(n) * int64(n+1) / 2
	if sum != want {
		return fmt.Errorf("queue: sum %d, want %d", sum, want)
	}
	return nil
}
