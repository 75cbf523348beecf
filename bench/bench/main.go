// Command bench runs gevent-go's side-by-side benchmarks: every workload on
// gevent-go and on its peers (raw goroutines, errgroup, conc, ants, pond,
// gnet, the standard library, Python gevent), in one run, interleaved, each
// variant in its own process, and writes JSON lines, a Markdown table and
// one chart per workload.
//
// Usage, from bench/ (or bench/run.sh from the repository root):
//
//	go run ./bench                 # full run, under 10 minutes on 2 cores
//	go run ./bench -quick          # CI-sized smoke run, under a minute
//	go run ./bench -only 'spawn_join,echo/gnet' -reps 5
//	go run ./bench -list           # workloads and variants, with what is missing
//	go run ./bench -report results/latest   # re-summarize a run
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/bench/variants"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == harness.ChildArg {
		os.Exit(harness.ChildMain(variants.Reg, os.Args[2:]))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		quick      = flag.Bool("quick", false, "CI-sized smoke run: small sizes, one rep, one echo configuration")
		only       = flag.String("only", "", "comma-separated globs: workload, variant, or workload/variant (references are always added)")
		reps       = flag.Int("reps", 0, "samples per variant, interleaved (default 3, or 1 with -quick)")
		outRoot    = flag.String("out", "results", "directory for the run's results (a timestamped subdirectory)")
		python     = flag.String("python", "/usr/bin/python3", "python3 with python3-gevent (Debian's system python)")
		idleMin    = flag.Float64("idle-min", 75, "before a sample, wait for this idle percentage...")
		idleWait   = flag.Duration("idle-wait", 0, "...for at most this long (default 3s, or 0 with -quick)")
		idleBudget = flag.Duration("idle-budget", 0, "at most this much waiting for idle in the whole run (default 90s, or 0 with -quick)")
		echoWindow = flag.Duration("echo-window", 0, "echo and http: measured window per sample (default 3s, or 500ms with -quick; wrk rounds to whole seconds)")
		echoDrain  = flag.Duration("echo-drain", 2*time.Second, "echo: time in-flight echoes get after the window")
		wrk        = flag.String("wrk", "wrk", "http: the wrk load generator (Debian: apt-get install -y wrk)")
		pin        = flag.Bool("pin", false, "echo and crawl: server on CPU 0, client on CPU 1 (taskset)")
		budget     = flag.Duration("budget", 0, "start no sample after this; the rest are reported skipped (default 9m, or 55s with -quick)")
		timeout    = flag.Duration("sample-timeout", 2*time.Minute, "kill a sample's process after this")
		list       = flag.Bool("list", false, "list workloads and variants and exit")
		report     = flag.String("report", "", "re-summarize DIR/samples.jsonl into DIR (tables and charts) and exit")
		snapshot   = flag.Bool("snapshot", false, "also copy the tables and charts to ./RESULTS.md and ./charts/ (the committed snapshot)")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	filter, err := harness.ParseFilter(*only)
	if err != nil {
		return err
	}
	if *list {
		return listVariants(os.Stdout, filter)
	}
	def := func(d *time.Duration, full, q time.Duration) {
		if *d == 0 {
			*d = map[bool]time.Duration{false: full, true: q}[*quick]
		}
	}
	def(idleWait, 3*time.Second, 0)
	def(idleBudget, 90*time.Second, 0)
	def(echoWindow, 3*time.Second, 500*time.Millisecond)
	def(budget, 9*time.Minute, 55*time.Second)
	if *reps == 0 {
		*reps = map[bool]int{false: 3, true: 1}[*quick]
	}
	if *reps < 1 {
		return errors.New("-reps must be at least 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := harness.Config{
		Reg: variants.Reg, Filter: filter, Quick: *quick, Reps: *reps, Exe: exe, Python: *python,
		IdleMin: *idleMin, IdleWait: *idleWait, IdleBudget: *idleBudget, EchoWindow: *echoWindow, EchoDrain: *echoDrain, Pin: *pin,
		Budget: *budget, SampleTimeout: *timeout, Noise: harness.DefaultNoise, Log: os.Stderr,
	}
	if *report != "" {
		return reReport(cfg, *report, *snapshot)
	}
	cfg.Env = harness.Env{Time: time.Now(), Quick: *quick, Reps: *reps, Args: os.Args[1:], Commit: gitCommit()}
	harness.DescribeMachine(&cfg.Env)
	cfg.Env.Python, cfg.PythonErr = checkPython(*python)
	if cfg.PythonErr != "" {
		fmt.Fprintln(os.Stderr, "bench: python gevent variants skipped:", cfg.PythonErr)
		cfg.Env.Python = cfg.PythonErr
	}
	if path, err := exec.LookPath(*wrk); err == nil {
		cfg.Wrk = path
	} else {
		cfg.WrkErr = fmt.Sprintf("no wrk load generator (%v): apt-get install -y wrk", err)
		fmt.Fprintln(os.Stderr, "bench: http variants skipped:", cfg.WrkErr)
	}
	if *pin {
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("-pin needs taskset (util-linux)")
		}
		cfg.Env.Note = "Echo and crawl servers pinned to CPU 0, their clients to CPU 1."
	}
	cfg.OutDir = filepath.Join(*outRoot, cfg.Env.Time.UTC().Format("20060102-150405"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	sections, err := harness.Run(ctx, cfg)
	if err != nil {
		return err
	}
	latest := filepath.Join(*outRoot, "latest")
	os.Remove(latest)
	os.Symlink(filepath.Base(cfg.OutDir), latest)
	if err := printResults(cfg.OutDir); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: %d workloads in %v; results in %s\n", len(sections), time.Since(start).Round(time.Second), cfg.OutDir)
	if *snapshot {
		return writeSnapshot(cfg.OutDir, sections)
	}
	return nil
}

func listVariants(w io.Writer, f harness.Filter) error {
	for _, sel := range variants.Reg.Select(f) {
		fmt.Fprintf(w, "%s (reference %s): %s\n", sel.Workload.Name, sel.Workload.Ref, sel.Workload.Title)
		for _, v := range sel.Variants {
			status := v.Desc
			if v.Missing != "" {
				status = "NOT AVAILABLE: " + v.Missing
			} else if sel.Workload.Kind == harness.Crawl && sel.Workload.Site == nil {
				status += " [NOT AVAILABLE: " + sel.Workload.SiteMissing + "]"
			}
			ours := ""
			if v.Ours {
				ours = " (ours)"
			}
			fmt.Fprintf(w, "  %-24s %-14s %s%s\n", v.Name, v.Lang, status, ours)
		}
	}
	return nil
}

// checkPython returns the interpreter's gevent versions, or why it cannot
// run the gevent variants.
func checkPython(py string) (version, unavailable string) {
	out, err := exec.Command(py, "-c",
		"import sys, gevent, greenlet; print('CPython %s, gevent %s, greenlet %s' % (sys.version.split()[0], gevent.__version__, greenlet.__version__))").CombinedOutput()
	if err != nil {
		return "", fmt.Sprintf("%s cannot import gevent (apt-get install -y python3-gevent): %v: %s",
			py, err, strings.TrimSpace(lastLine(string(out))))
	}
	return strings.TrimSpace(string(out)), ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func reReport(cfg harness.Config, dir string, snapshot bool) error {
	f, err := os.Open(filepath.Join(dir, "samples.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	env, samples, err := harness.ReadSamples(f)
	if err != nil {
		return err
	}
	cfg.Env, cfg.OutDir = env, dir
	sections, err := cfg.Report(samples)
	if err != nil {
		return err
	}
	if err := printResults(dir); err != nil {
		return err
	}
	if snapshot {
		return writeSnapshot(dir, sections)
	}
	return nil
}

func printResults(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}

var chartLink = regexp.MustCompile(`\]\(([a-z_]+\.png)\)`)

// writeSnapshot copies a run's tables to ./RESULTS.md and its charts to
// ./charts/, the copy kept in git.
func writeSnapshot(dir string, sections []harness.Section) error {
	if err := os.MkdirAll("charts", 0o755); err != nil {
		return err
	}
	for _, s := range sections {
		if s.Chart == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, s.Chart))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join("charts", s.Chart), b, 0o644); err != nil {
			return err
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		return err
	}
	md = chartLink.ReplaceAll(md, []byte("](charts/$1)"))
	if err := os.WriteFile("RESULTS.md", md, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: snapshot written to RESULTS.md and charts/")
	return nil
}
