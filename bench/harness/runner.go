package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config is one harness run.
type Config struct {
	Reg    *Registry
	Filter Filter
	Quick  bool
	Reps   int
	// OutDir receives samples.jsonl, summary.jsonl, results.md and the
	// charts.
	OutDir string
	// Exe is the harness binary, re-executed for Go child processes.
	Exe string
	// Python is the interpreter for gevent variants; PythonErr, when set,
	// makes them unavailable with that reason.
	Python    string
	PythonErr string
	// IdleMin and IdleWait: before a sample, wait up to IdleWait for the
	// machine to be IdleMin percent idle. IdleBudget caps the total of
	// these waits in a run, so a machine that stays busy costs the run a
	// bounded time (its samples are then flagged noisy, not delayed).
	IdleMin    float64
	IdleWait   time.Duration
	IdleBudget time.Duration
	// EchoWindow and EchoDrain: the echo client's measured window and the
	// time in-flight echoes get after it.
	EchoWindow, EchoDrain time.Duration
	// Pin runs echo servers on CPU 0 and the client on CPU 1 (taskset).
	Pin bool
	// Wrk is the wrk binary that loads HTTP servers; WrkErr, when set,
	// makes the HTTP variants unavailable with that reason.
	Wrk, WrkErr string
	// Budget: no sample starts after it; the rest are recorded as skipped.
	Budget time.Duration
	// SampleTimeout bounds one child process.
	SampleTimeout time.Duration
	Noise         Noise
	Log           io.Writer
	Env           Env
}

// Run measures every selected variant Reps times, interleaved, and writes
// the results. It returns the sections (rows per workload).
func Run(ctx context.Context, c Config) ([]Section, error) {
	if c.Log == nil {
		c.Log = io.Discard
	}
	if err := os.MkdirAll(c.OutDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(c.OutDir, "samples.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := NewJSONLWriter(f)
	c.Env.Kind = "env"
	if err := out.Write(c.Env); err != nil {
		return nil, err
	}
	sels := c.Reg.Select(c.Filter)
	var samples []Sample
	record := func(s Sample) error {
		s.Kind = "sample"
		if s.Time.IsZero() {
			s.Time = time.Now()
		}
		samples = append(samples, s)
		c.logSample(s)
		return out.Write(s)
	}
	// What cannot run is recorded once, up front.
	runnable := map[*Workload][]*Variant{}
	for _, sel := range sels {
		for _, v := range sel.Variants {
			if why := c.unavailable(sel.Workload, v); why != "" {
				if err := record(Sample{Workload: v.Workload, Variant: v.Name, Lang: v.Lang, Ours: v.Ours, Status: StatusUnavailable, Error: why}); err != nil {
					return nil, err
				}
				continue
			}
			runnable[sel.Workload] = append(runnable[sel.Workload], v)
		}
	}
	start := time.Now()
	idleLeft := c.IdleBudget
	for rep := range c.Reps {
		for _, sel := range sels {
			w := sel.Workload
			vs := rotate(runnable[w], rep)
			for _, cfg := range c.configs(w) {
				for _, v := range vs {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					var s Sample
					if c.Budget > 0 && time.Since(start) > c.Budget {
						s = Sample{Status: StatusSkipped, Error: fmt.Sprintf("time budget %v used up", c.Budget)}
					} else {
						t := time.Now()
						idle := c.preIdle(ctx, min(c.IdleWait, idleLeft))
						idleLeft -= time.Since(t)
						s = c.sample(ctx, w, v, cfg)
						s.PreIdlePct = idle
					}
					s.Workload, s.Variant, s.Lang, s.Ours, s.Rep = w.Name, v.Name, v.Lang, v.Ours, rep
					if w.Kind == Echo || w.Kind == HTTP {
						s.Config = cfg.Key()
					}
					if err := record(s); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return c.Report(samples)
}

// Report summarizes samples into sections and writes summary.jsonl,
// results.md and the charts into OutDir.
func (c Config) Report(samples []Sample) ([]Section, error) {
	var sections []Section
	sf, err := os.Create(filepath.Join(c.OutDir, "summary.jsonl"))
	if err != nil {
		return nil, err
	}
	defer sf.Close()
	sw := NewJSONLWriter(sf)
	for _, sel := range c.Reg.Select(c.Filter) {
		rows := BuildRows(sel.Workload, sel.Variants, samples)
		sec := Section{Workload: sel.Workload, Rows: rows}
		for _, r := range rows {
			if err := sw.Write(r); err != nil {
				return nil, err
			}
		}
		name := sel.Workload.Name + ".png"
		ok, err := WriteChart(filepath.Join(c.OutDir, name), sel.Workload, rows)
		if err != nil {
			return nil, fmt.Errorf("harness: chart %s: %w", name, err)
		}
		if ok {
			sec.Chart = name
		}
		sections = append(sections, sec)
	}
	mf, err := os.Create(filepath.Join(c.OutDir, "results.md"))
	if err != nil {
		return nil, err
	}
	defer mf.Close()
	return sections, WriteMarkdown(mf, c.Env, sections)
}

func (c Config) configs(w *Workload) []EchoConfig {
	if w.Kind != Echo && w.Kind != HTTP {
		return []EchoConfig{{}}
	}
	if c.Quick {
		return w.QuickEchoGrid
	}
	return w.EchoGrid
}

func (c Config) size(w *Workload) int {
	if c.Quick {
		return w.QuickSize
	}
	return w.Size
}

// unavailable says why v cannot run here, or "".
func (c Config) unavailable(w *Workload, v *Variant) string {
	switch {
	case v.Missing != "":
		return v.Missing
	case w.Kind == Crawl && w.Site == nil:
		return w.SiteMissing
	case v.Python != nil && c.PythonErr != "":
		return c.PythonErr
	case w.Kind == HTTP && c.WrkErr != "":
		return c.WrkErr
	}
	return ""
}

func rotate[T any](xs []T, k int) []T {
	if len(xs) == 0 {
		return nil
	}
	k %= len(xs)
	return append(append([]T(nil), xs[k:]...), xs[:k]...)
}

func (c Config) logSample(s Sample) {
	id := s.Workload + "/" + s.Variant
	if s.Config != "" {
		id += " " + s.Config
	}
	switch s.Status {
	case StatusOK:
		var parts []string
		for _, k := range []string{"ns_per_op", "wall_ms", "peak_rss_kb", "rss_bytes_per_task", "msgs_per_s", "req_per_s", "p99_us", "server_us_per_req", "pages_per_s"} {
			if v, ok := s.Metrics[k]; ok {
				parts = append(parts, Label(k)+"="+FormatNum(v))
			}
		}
		noisy := ""
		if s.Noisy {
			noisy = " NOISY"
		}
		fmt.Fprintf(c.Log, "rep %d  %-45s %s  (others %.2f cores, idle before %.0f%%)%s\n", s.Rep+1, id, strings.Join(parts, " "), s.OtherCores, s.PreIdlePct, noisy)
	default:
		fmt.Fprintf(c.Log, "rep %d  %-45s %s: %s\n", s.Rep+1, id, s.Status, s.Error)
	}
}

// proc is one child process being measured.
type proc struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// command builds the child process for v: the harness binary re-executed,
// or python3 with the variant's script.
func (c Config) command(ctx context.Context, v *Variant, cpu int, goArgs, pyArgs []string) *proc {
	var argv []string
	if v.Python != nil {
		argv = append([]string{c.Python, "-c", v.Python.Script}, pyArgs...)
	} else {
		argv = append([]string{c.Exe, ChildArg}, goArgs...)
	}
	return c.rawCommand(ctx, v.Env, cpu, argv)
}

func (c Config) rawCommand(ctx context.Context, env []string, cpu int, argv []string) *proc {
	if cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
	}
	p := &proc{cmd: exec.CommandContext(ctx, argv[0], argv[1:]...)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.WaitDelay = 2 * time.Second
	return p
}

// result parses the child's last stdout line.
func (p *proc) result(runErr error) (ChildResult, error) {
	lines := strings.Split(strings.TrimSpace(p.stdout.String()), "\n")
	last := lines[len(lines)-1]
	var r ChildResult
	if err := json.Unmarshal([]byte(last), &r); err != nil || (!r.OK && r.Error == "") {
		return r, fmt.Errorf("child gave no result (%v): %s", runErr, tail(p.stderr.String(), 400))
	}
	if !r.OK {
		return r, errors.New(r.Error)
	}
	return r, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// meter measures the machine around a sample.
type meter struct {
	cpu0 CPUTimes
	self float64
	t0   time.Time
}

func startMeter() meter {
	c, _ := ReadCPUTimes()
	return meter{cpu0: c, self: selfCPU(), t0: time.Now()}
}

// finish fills the sample's noise fields; ownCPU is what the measured
// children used.
func (m meter) finish(c Config, s *Sample, ownCPU float64) {
	wall := time.Since(m.t0).Seconds()
	cpu1, _ := ReadCPUTimes()
	own := ownCPU + selfCPU() - m.self
	s.WallSec = wall
	s.OtherCores = OtherCores(cpu1.Busy-m.cpu0.Busy, own, wall)
	s.NoiseValid, s.Noisy = c.Noise.Classify(s.OtherCores, wall)
}

// preIdle measures the machine's idle share before a sample, waiting up to
// wait for it to reach IdleMin.
func (c Config) preIdle(ctx context.Context, wait time.Duration) float64 {
	if wait > 0 {
		return WaitIdle(ctx, c.IdleMin, wait)
	}
	return MeasureIdle(ctx, 100*time.Millisecond)
}

func (c Config) sample(ctx context.Context, w *Workload, v *Variant, cfg EchoConfig) Sample {
	ctx, cancel := context.WithTimeout(ctx, c.SampleTimeout)
	defer cancel()
	var s Sample
	var err error
	switch w.Kind {
	case Micro:
		err = c.sampleMicro(ctx, w, v, &s)
	case Echo:
		err = c.sampleEcho(ctx, v, cfg, &s)
	case Crawl:
		err = c.sampleCrawl(ctx, w, v, &s)
	case HTTP:
		err = c.sampleHTTP(ctx, v, cfg, &s)
	}
	s.Status = StatusOK
	if err != nil {
		s.Status, s.Error, s.Metrics = StatusFailed, err.Error(), nil
	}
	return s
}

func (c Config) sampleMicro(ctx context.Context, w *Workload, v *Variant, s *Sample) error {
	n := c.size(w)
	s.N = n
	warm := "0"
	if w.Warmup {
		warm = "1"
	}
	p := c.command(ctx, v, -1,
		[]string{"micro", w.Name, v.Name, strconv.Itoa(n), warm},
		[]string{"micro", w.Name, v.Python.nameOr(), strconv.Itoa(n), warm})
	m := startMeter()
	runErr := p.cmd.Run()
	ru, _ := sysUsage(p.cmd.ProcessState)
	m.finish(c, s, rusageCPU(ru))
	r, err := p.result(runErr)
	if err != nil {
		return err
	}
	if r.Ops <= 0 || r.WallNS <= 0 {
		return fmt.Errorf("child reported ops=%d wall_ns=%d", r.Ops, r.WallNS)
	}
	s.Metrics = r.Metrics
	if s.Metrics == nil {
		s.Metrics = map[string]float64{}
	}
	s.Metrics["ns_per_op"] = float64(r.WallNS) / float64(r.Ops)
	s.Metrics["wall_ms"] = float64(r.WallNS) / 1e6
	if _, ok := s.Metrics["peak_rss_kb"]; !ok {
		return errors.New("child reported no peak_rss_kb")
	}
	return nil
}

func (py *Python) nameOr() string {
	if py == nil {
		return ""
	}
	return py.Name
}

func sysUsage(ps *os.ProcessState) (*syscall.Rusage, bool) {
	if ps == nil {
		return nil, false
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	return ru, ok
}

// server is a child server process: an echo server or a crawl site.
type server struct {
	p    *proc
	addr string
	done chan error
}

func (c Config) startServer(ctx context.Context, p *proc, addr string) (*server, error) {
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	sv := &server{p: p, addr: addr, done: make(chan error, 1)}
	go func() { sv.done <- p.cmd.Wait() }()
	// Ready when it accepts a connection.
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return sv, nil
		}
		select {
		case err := <-sv.done:
			sv.done <- err
			return nil, fmt.Errorf("server exited before listening (%v): %s", err, tail(p.stderr.String(), 400))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			sv.stop()
			return nil, fmt.Errorf("server not listening on %s after 15 s: %s", addr, tail(p.stderr.String(), 400))
		}
	}
}

// stop terminates the server and reports whether it had died on its own.
func (sv *server) stop() (crashed error) {
	select {
	case err := <-sv.done:
		return fmt.Errorf("server died during the sample (%v): %s", err, tail(sv.p.stderr.String(), 400))
	default:
	}
	sv.p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sv.done:
	case <-time.After(3 * time.Second):
		sv.p.cmd.Process.Kill()
		<-sv.done
	}
	return nil
}

// freeAddr returns a loopback address with a port that was free a moment
// ago: gnet cannot report the port it bound for port 0.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (c Config) cpus() (server, client int) {
	if c.Pin {
		return 0, 1
	}
	return -1, -1
}

func (c Config) sampleEcho(ctx context.Context, v *Variant, cfg EchoConfig, s *Sample) error {
	_, err := c.sampleServer(ctx, v, cfg, s, "echo_server", func(addr string) []string {
		return []string{"echo-client", addr, strconv.Itoa(cfg.Conns), strconv.Itoa(cfg.Size), c.EchoWindow.String(), c.EchoDrain.String()}
	})
	return err
}

// sampleHTTP serves v in its own process and loads it with wrk (run by a
// child of the harness, which turns wrk's report into a result).
func (c Config) sampleHTTP(ctx context.Context, v *Variant, cfg EchoConfig, s *Sample) error {
	threads := 2
	if c.Pin {
		threads = 1
	}
	run, err := c.sampleServer(ctx, v, cfg, s, "http_server", func(addr string) []string {
		return []string{"http-client", c.Wrk, addr, strconv.Itoa(cfg.Conns), strconv.Itoa(threads), c.EchoWindow.String()}
	})
	if err != nil {
		return err
	}
	s.Metrics["server_us_per_req"] = run.serverCPU / float64(run.res.Ops) * 1e6
	return nil
}

// sampleServer serves v in its own process (Python variants in mode
// pyMode), runs the harness child with clientArgs(addr) against it, and
// fills the sample with the client's metrics and both processes' CPU.
func (c Config) sampleServer(ctx context.Context, v *Variant, cfg EchoConfig, s *Sample, pyMode string, clientArgs func(addr string) []string) (clientRun, error) {
	addr, err := freeAddr()
	if err != nil {
		return clientRun{}, err
	}
	scpu, ccpu := c.cpus()
	sv, err := c.startServer(ctx, c.command(ctx, v, scpu,
		[]string{"echo-server", v.Workload, v.Name, addr}, []string{pyMode, addr}), addr)
	if err != nil {
		return clientRun{}, err
	}
	cl := c.rawCommand(ctx, nil, ccpu, append([]string{c.Exe, ChildArg}, clientArgs(addr)...))
	run, err := c.runClient(cl, sv, s)
	if err != nil {
		return run, err
	}
	wall := float64(run.res.WallNS) / 1e9
	s.N = cfg.Conns
	s.Metrics = run.res.Metrics
	s.Metrics["server_cpu"] = run.serverCPU / wall
	s.Metrics["client_cpu"] = run.clientCPU / wall
	s.Metrics["server_rss_kb"] = float64(run.serverRSSKB)
	return run, nil
}

// clientRun is what runClient measured.
type clientRun struct {
	res                  ChildResult
	clientCPU, serverCPU float64 // seconds while the client ran
	serverRSSKB          int64   // the server's peak RSS
}

// runClient runs a client process against a running server, fills the
// sample's noise figures (both processes count as measured), stops the
// server, and returns the client's result. A server that died during the
// run fails the sample.
func (c Config) runClient(cl *proc, sv *server, s *Sample) (clientRun, error) {
	pid := sv.p.cmd.Process.Pid
	srv0, _ := ProcCPU(pid)
	m := startMeter()
	runErr := cl.cmd.Run()
	srv1, _ := ProcCPU(pid)
	rss, _ := ProcStatusKB(pid, "VmHWM")
	ru, _ := sysUsage(cl.cmd.ProcessState)
	run := clientRun{clientCPU: rusageCPU(ru), serverCPU: srv1 - srv0, serverRSSKB: rss}
	m.finish(c, s, run.clientCPU+run.serverCPU)
	crashed := sv.stop()
	res, err := cl.result(runErr)
	if err != nil {
		return run, err
	}
	run.res = res
	return run, crashed
}

func (c Config) sampleCrawl(ctx context.Context, w *Workload, v *Variant, s *Sample) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	scpu, ccpu := c.cpus()
	site := c.rawCommand(ctx, nil, scpu, []string{c.Exe, ChildArg, "site", w.Name, addr, w.Latency.String()})
	pr, pw := io.Pipe()
	site.cmd.Stdout = pw
	sv, err := c.startServer(ctx, site, addr)
	if err != nil {
		pw.Close()
		return err
	}
	defer pw.Close()
	pages, err := readPages(pr)
	if err != nil {
		sv.stop()
		return err
	}
	go io.Copy(io.Discard, pr)
	root := "http://" + addr + "/"
	conc := strconv.Itoa(w.Concurrency)
	want := strconv.Itoa(pages)
	cl := c.command(ctx, v, ccpu, []string{"crawl", w.Name, v.Name, root, conc, want}, []string{"crawl", root, conc, want})
	run, err := c.runClient(cl, sv, s)
	if err != nil {
		return err
	}
	s.N = pages
	s.Metrics = run.res.Metrics
	s.Metrics["wall_ms"] = float64(run.res.WallNS) / 1e6
	return nil
}

// readPages reads the site's "ready pages=N" line.
func readPages(r io.Reader) (int, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("site: no ready line: %w", err)
	}
	var n int
	if _, err := fmt.Sscanf(line, "ready pages=%d", &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("site: bad ready line %q", line)
	}
	return n, nil
}

// DescribeMachine fills the machine part of an Env.
func DescribeMachine(e *Env) {
	e.GoVersion = runtime.Version()
	e.GOMAXPROCS = runtime.GOMAXPROCS(0)
	e.NumCPU = runtime.NumCPU()
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(b))
	}
}
