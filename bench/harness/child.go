package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// ChildArg is the hidden first argument that makes the harness binary a
// child process running one variant (or a server, or the echo client).
const ChildArg = "__child"

// ChildResult is the last line a child prints on stdout, Go and Python
// alike: the work's size and time, or why it failed. Micro and crawl
// children report their own peak RSS (VmHWM) as "peak_rss_kb": the
// ru_maxrss a parent gets from wait4 is useless here, because Linux folds the
// parent's RSS into it when the child, sharing the parent's memory after a
// vfork-style clone, calls execve.
type ChildResult struct {
	OK      bool               `json:"ok"`
	Error   string             `json:"error,omitempty"`
	Ops     int                `json:"ops,omitempty"`
	WallNS  int64              `json:"wall_ns,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// ChildMain runs the child mode named by args (the arguments after
// ChildArg) and returns the process exit code. Modes:
//
//	micro WORKLOAD VARIANT N WARMUP
//	echo-server WORKLOAD VARIANT ADDR
//	echo-client ADDR CONNS SIZE WINDOW DRAIN
//	http-client WRK ADDR CONNS THREADS WINDOW
//	site WORKLOAD ADDR LATENCY
//	crawl WORKLOAD VARIANT ROOT CONC EXPECTED
func ChildMain(reg *Registry, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	res, err := child(ctx, reg, args)
	if err != nil {
		res = ChildResult{Error: err.Error()}
	}
	if res == nil {
		return 0 // a server: nothing to report
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if !res.(ChildResult).OK {
		return 1
	}
	return 0
}

func child(ctx context.Context, reg *Registry, args []string) (any, error) {
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("harness: child mode %v: want %d arguments", args, n-1)
		}
		return nil
	}
	if len(args) == 0 {
		return nil, errors.New("harness: child: no mode")
	}
	// variant checks the argument count and finds the Go variant named by
	// args[1:3] that has the body this mode runs.
	variant := func(nargs int, kind string, has func(*Variant) bool) (*Variant, error) {
		if err := need(nargs); err != nil {
			return nil, err
		}
		v := reg.Lookup(args[1], args[2])
		if v == nil || v.Missing != "" || !has(v) {
			return nil, fmt.Errorf("harness: child: no runnable Go %s %s/%s", kind, args[1], args[2])
		}
		return v, nil
	}
	switch args[0] {
	case "micro":
		v, err := variant(5, "micro variant", func(v *Variant) bool { return v.Micro != nil })
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(args[3])
		if err != nil {
			return nil, err
		}
		return runMicro(v, n, args[4] == "1"), nil
	case "echo-server":
		v, err := variant(4, "echo server", func(v *Variant) bool { return v.Server != nil })
		if err != nil {
			return nil, err
		}
		if err := v.Server(ctx, args[3]); err != nil && ctx.Err() == nil {
			return nil, err
		}
		return nil, nil
	case "echo-client":
		if err := need(6); err != nil {
			return nil, err
		}
		l := EchoLoad{Addr: args[1]}
		var err1, err2, err3, err4 error
		l.Conns, err1 = strconv.Atoi(args[2])
		l.Size, err2 = strconv.Atoi(args[3])
		l.Window, err3 = time.ParseDuration(args[4])
		l.Drain, err4 = time.ParseDuration(args[5])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		t0 := time.Now()
		r, err := RunEchoLoad(ctx, l)
		if err != nil {
			return nil, err
		}
		if err := r.Check(); err != nil {
			return ChildResult{Error: err.Error()}, nil
		}
		return ChildResult{OK: true, Ops: int(r.Msgs), WallNS: int64(time.Since(t0)), Metrics: r.Metrics()}, nil
	case "http-client":
		if err := need(6); err != nil {
			return nil, err
		}
		l := WrkLoad{Wrk: args[1], Addr: args[2]}
		var err1, err2, err3 error
		l.Conns, err1 = strconv.Atoi(args[3])
		l.Threads, err2 = strconv.Atoi(args[4])
		l.Window, err3 = time.ParseDuration(args[5])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		r, err := RunWrk(ctx, l)
		if err != nil {
			return ChildResult{Error: err.Error()}, nil
		}
		if err := r.Check(); err != nil {
			return ChildResult{Error: err.Error()}, nil
		}
		return ChildResult{OK: true, Ops: int(r.Requests), WallNS: int64(r.Seconds * 1e9), Metrics: r.Metrics()}, nil
	case "site":
		if err := need(4); err != nil {
			return nil, err
		}
		w := reg.Workload(args[1])
		if w == nil || w.Site == nil {
			return nil, fmt.Errorf("harness: child: workload %s has no site", args[1])
		}
		lat, err := time.ParseDuration(args[3])
		if err != nil {
			return nil, err
		}
		err = w.Site(ctx, args[2], lat, func(pages int) { fmt.Printf("ready pages=%d\n", pages) })
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		return nil, nil
	case "crawl":
		v, err := variant(6, "crawler", func(v *Variant) bool { return v.Crawl != nil })
		if err != nil {
			return nil, err
		}
		conc, err1 := strconv.Atoi(args[4])
		want, err2 := strconv.Atoi(args[5])
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		t0 := time.Now()
		st, err := v.Crawl(ctx, args[3], conc)
		wall := time.Since(t0)
		if err == nil {
			err = CheckCrawl(st, want)
		}
		if err != nil {
			return ChildResult{Error: err.Error()}, nil
		}
		return ChildResult{OK: true, Ops: st.Pages, WallNS: int64(wall), Metrics: map[string]float64{
			"pages_per_s": float64(st.Pages) / wall.Seconds(), "pages": float64(st.Pages), "peak_rss_kb": peakRSSKB()}}, nil
	}
	return nil, fmt.Errorf("harness: unknown child mode %q", args[0])
}

// CheckCrawl fails a crawl that missed pages, fetched too many, or saw
// errors.
func CheckCrawl(st CrawlStats, want int) error {
	if st.Errors > 0 || st.Pages != want {
		return fmt.Errorf("crawl: %d pages (want %d), %d errors", st.Pages, want, st.Errors)
	}
	return nil
}

// runMicro times one Go micro variant in this process.
func runMicro(v *Variant, n int, warmup bool) ChildResult {
	if warmup {
		if err := call(v.Micro, &B{N: n, ops: n}); err != nil {
			return ChildResult{Error: "warm-up: " + err.Error()}
		}
	}
	// Return freed memory (the warm-up's, the runtime's start-up garbage) to
	// the OS first, so that the resident growth is the variant's own.
	debug.FreeOSMemory()
	rss0 := selfRSSBytes()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b := &B{N: n, ops: n, rss: selfRSSBytes}
	b.start = time.Now()
	err := call(v.Micro, b)
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	if err != nil {
		return ChildResult{Error: err.Error()}
	}
	wall := b.end.Sub(b.start)
	res := ChildResult{OK: true, Ops: b.ops, WallNS: int64(wall), Metrics: map[string]float64{
		"allocs_per_op": float64(m1.Mallocs-m0.Mallocs) / float64(b.ops),
		"peak_rss_kb":   peakRSSKB(),
	}}
	if b.parkedRSS > 0 {
		res.Metrics["rss_bytes_per_task"] = float64(b.parkedRSS-rss0) / float64(n)
	}
	return res
}

// peakRSSKB is this process's peak resident set (VmHWM), in kB.
func peakRSSKB() float64 {
	kb, _ := ProcStatusKB(0, "VmHWM")
	return float64(kb)
}

// call runs a variant, turning a panic into an error: a crashed variant
// fails its sample like one that did wrong work.
func call(f func(*B) error, b *B) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f(b)
}
