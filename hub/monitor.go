package hub

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BlockedReport describes a greenlet that held a run token past the monitor's
// threshold without reaching a cooperative point.
type BlockedReport struct {
	// Greenlet is the offender; Name and ID are copied from it.
	Greenlet *G
	Name     string
	ID       uint64
	// Blocked is how long it had held the token when reported.
	Blocked time.Duration
	// Stack is the offending greenlet's stack, from the frame it is blocked
	// in down to its own function (the scheduler's frames below are left
	// out).
	Stack string
	// Hint names the likely cause when the stack shows a known trap (a hub
	// call with a ctx that carries no greenlet, time.Sleep, a bare channel
	// operation, ...) and its cure; empty otherwise.
	Hint string
	// Waits is set, with Greenlet nil, for the other kind of report: every
	// greenlet of the hub has been parked, for ten thresholds, on a wait
	// that only another greenlet of the hub could end (no timer, socket,
	// offload or ctx deadline is pending), so unless a plain goroutine ends
	// one, nothing ever will: gevent's LoopExit, reported rather than
	// raised (Go cannot see the plain goroutines that might still end a
	// wait). It lists each parked greenlet and its wait; Blocked is how
	// long the hub has been in that state. It is reported once per stall.
	Waits []string
}

func (r BlockedReport) String() string {
	if r.Greenlet == nil {
		return fmt.Sprintf("hub: every greenlet has been parked for %v on a wait only another greenlet could end (gevent's LoopExit):\n\t%s",
			r.Blocked.Round(time.Millisecond), strings.Join(r.Waits, "\n\t"))
	}
	s := fmt.Sprintf("hub: greenlet %q (id %d) appears to be blocked: it has held a run token for %v without a cooperative point",
		r.Name, r.ID, r.Blocked.Round(time.Millisecond))
	if r.Hint != "" {
		s += "\nhint: " + r.Hint
	}
	return s + "\n" + r.Stack
}

// traps are the known causes of a stall, in the order they are looked for
// in a stalled greenlet's stack: the first frame prefix found gives the hint.
var traps = []struct{ frames, hint string }{
	{"github.com/gevent-go/gevent/hub.", "a hub call made with a ctx that carries no greenlet (context.Background()?) blocks the plain Go way: pass the greenlet's ctx"},
	{"net/http.", "a standard-library HTTP call blocks the plain Go way: after monkey.PatchAll only requests made with a greenlet's ctx are cooperative (http.NewRequestWithContext(ctx, ...))"},
	{"net.", "a standard-library network call blocks the plain Go way: use package netpoll or monkey's ctx-taking replacements, or hub.Blocking"},
	{"time.Sleep", "time.Sleep holds the run token: use hub.Sleep(ctx, d)"},
	{"runtime.chanrecv", "a bare channel receive holds the run token: use hub.Queue or hub.Channel, or wrap it in hub.Blocking"},
	{"runtime.chansend", "a bare channel send holds the run token: use hub.Queue or hub.Channel, or wrap it in hub.Blocking"},
	{"runtime.selectgo", "a select on channels holds the run token: use hub primitives, or wrap it in hub.Blocking"},
	{"sync.", "a sync package lock or wait holds the run token: use hub.Lock, hub.Semaphore or hub.Event, or wrap it in hub.Blocking"},
	{"syscall.", "a blocking system call holds the run token: run it through hub.Blocking or hub.Offload"},
}

// compactStack is a stack on one line for a log: its function names, the
// blocking frame first, without the runtime's parking frames.
func compactStack(stack string) string {
	var fs []string
	for _, line := range strings.Split(stack, "\n") {
		if line == "" || strings.HasPrefix(line, "\t") {
			continue
		}
		switch line {
		case "runtime.gopark", "runtime.goparkunlock", "runtime.park_m", "runtime.mcall":
			continue
		}
		fs = append(fs, line)
	}
	return strings.Join(fs, " < ")
}

// hintFor returns the hint for a stalled greenlet's stack (see traps). A
// greenlet that is not parked in the runtime (its top frame is not a
// blocking one) is computing, whatever package it is in: that stall is a
// long computation.
func hintFor(stack string) string {
	if stack == "" {
		return ""
	}
	top, _, _ := strings.Cut(stack, "\n")
	if !blockedIn(top) {
		return computing
	}
	for _, t := range traps {
		for _, line := range strings.Split(stack, "\n") {
			// (The hub's own tests are frames of package hub too.)
			if strings.HasPrefix(line, t.frames) && !strings.Contains(line, ".Test") {
				return t.hint
			}
		}
	}
	return "blocked in the runtime: run the blocking call through hub.Blocking or hub.Offload"
}

const computing = "no blocking call in the stack: a long computation holds the run token; run it through hub.Offload, or reach a cooperative point (hub.Yield) in its loop"

// blockedIn reports whether a stack's top frame is one where a goroutine
// waits (parked by the runtime, or in a system call) rather than computes.
func blockedIn(top string) bool {
	for _, p := range []string{"runtime.gopark", "runtime.goparkunlock", "runtime.notetsleep", "runtime.futex", "runtime.usleep",
		"syscall.", "internal/runtime/syscall.", "internal/syscall/"} {
		if strings.HasPrefix(top, p) {
			return true
		}
	}
	return false
}

// monitor watches the run tokens: a token whose holder has not changed for the
// threshold is reported once per stall. It runs only while the hub has had
// greenlets and has not been stopped.
type monitor struct {
	h *Hub
	// The monitor samples each driver's grant count (driver.grants, bumped
	// under hub.mu at every resume) and times how long it has stayed
	// unchanged, so a switch costs no clock read. A stall is seen at most
	// one sampling period late.
	// started is set, under mu, when the goroutine starts; it is never
	// cleared, so it doubles as the lock-free fast path of ensure. The
	// goroutine runs while started && !stopped.
	started atomic.Bool
	mu      sync.Mutex
	stopped bool
	stopCh  chan struct{}
	doneCh  chan struct{}
}

func (m *monitor) init(h *Hub) {
	m.h = h
}

// ensure starts the monitor goroutine if it is enabled and not running.
func (m *monitor) ensure() {
	if m.h.cfg.threshold <= 0 || m.started.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started.Load() || m.stopped {
		return
	}
	m.started.Store(true)
	m.stopCh = make(chan struct{})
	m.doneCh = make(chan struct{})
	go m.loop(m.stopCh, m.doneCh)
}

// stop ends the monitor goroutine and waits for it, until ctx is done (it
// may be in the middle of a report).
func (m *monitor) stop(ctx context.Context) error {
	m.mu.Lock()
	running := m.started.Load() && !m.stopped
	m.stopped = true
	done := m.doneCh
	if running {
		close(m.stopCh)
	}
	m.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hub: stop: the blocking monitor is still reporting: %w", context.Cause(ctx))
	}
}

func (m *monitor) loop(stop, done chan struct{}) {
	defer close(done)
	th := m.h.cfg.threshold
	period := th / 4
	if period < time.Millisecond {
		period = time.Millisecond
	}
	t := time.NewTicker(period)
	defer t.Stop()
	n := len(m.h.drivers)
	reported := make([]uint64, n)
	lastSeq := make([]uint64, n)
	seenAt := make([]time.Time, n) // when lastSeq was first sampled
	// The loop-exit check: the hub's switch count, since when it has not
	// moved, and the count last reported.
	var stillSw, stuckReported uint64
	var stillAt time.Time
	for {
		var now time.Time
		select {
		case <-stop:
			return
		case now = <-t.C:
		}
		m.h.mu.Lock()
		sw := m.h.switches
		m.h.mu.Unlock()
		if sw != stillSw || stillAt.IsZero() {
			stillSw, stillAt = sw, now
		} else if idle := now.Sub(stillAt); idle >= loopExitAfter*th && sw != stuckReported {
			if waits := m.h.stuckWaits(); waits != nil {
				stuckReported = sw
				m.report(BlockedReport{Blocked: idle, Waits: waits})
			}
		}
		for slot := range n {
			m.h.mu.Lock()
			seq, g := m.h.drivers[slot].grants, m.h.drivers[slot].holder
			m.h.mu.Unlock()
			if seq != lastSeq[slot] {
				lastSeq[slot], seenAt[slot] = seq, now
				continue
			}
			held := now.Sub(seenAt[slot])
			if g == nil || seq == reported[slot] || held < th {
				continue
			}
			stack, ok := m.h.runningStack()
			if !ok && held < 4*th {
				// Granted, but its coroutine is not running yet (its driver
				// has not been scheduled on a loaded machine): the greenlet
				// is not at fault, unless that lasts (then the stall is
				// reported even without its stack).
				continue
			}
			reported[slot] = seq
			r := BlockedReport{Greenlet: g, Name: g.Name(), ID: g.id, Blocked: held, Stack: stack, Hint: hintFor(stack)}
			m.report(r)
		}
	}
}

func (m *monitor) report(r BlockedReport) {
	if f := m.h.cfg.onBlocked; f != nil {
		defer func() {
			if p := recover(); p != nil {
				m.h.cfg.logger.Error("hub: blocking monitor report handler panicked", "panic", p)
			}
		}()
		f(r)
		return
	}
	if r.Greenlet == nil {
		m.h.cfg.logger.Warn("hub: every greenlet is parked on a wait only another greenlet could end (gevent's LoopExit)",
			"for", r.Blocked.Round(time.Millisecond), "waits", strings.Join(r.Waits, "; "))
		return
	}
	m.h.cfg.logger.Warn("hub: greenlet appears to be blocked",
		"greenlet", r.Name, "id", r.ID, "blocked", r.Blocked.Round(time.Millisecond), "hint", r.Hint, "at", compactStack(r.Stack))
}

// loopExitAfter is how many monitor thresholds a hub must stay still before
// a loop-exit report: a plain goroutine may still end one of the waits (a
// Queue it feeds, say), which the hub cannot see, so the report waits a
// while rather than fire on every pause.
const loopExitAfter = 10

// stuckWaits returns the waits of the hub's greenlets if every one of them
// is parked on a wait that only another greenlet of the hub could end (see
// BlockedReport.Waits), else nil. It walks the registry, so the monitor
// calls it only once the hub has been still for a threshold.
func (h *Hub) stuckWaits() []string {
	if h.tm.pending() {
		return nil // a sleeper or a SpawnLater will run
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count == 0 || h.readyQ.n+h.timerQ.n+h.capQ.n > 0 {
		return nil
	}
	for i := range h.drivers {
		if h.drivers[i].holder != nil {
			return nil
		}
	}
	var waits []string
	for g := h.liveHead; g != nil; g = g.liveNext {
		// Woken from outside the hub's greenlets: a Blocking or Offload
		// call, a socket, a ctx with a deadline or cancel of its own.
		if g.State() != StateParked || !g.killable || g.watched ||
			g.reason == "offload" || strings.HasPrefix(g.reason, "netpoll") {
			return nil
		}
		waits = append(waits, fmt.Sprintf("%s (id %d) on %s", g.Name(), g.id, g.reason))
	}
	return waits
}

// runningStack finds, in a goroutine profile, the stack of the hub's
// greenlet that is running user code: a coroutine of this hub (its drivers'
// profiler label, which coroutines inherit) inside execute and not switched
// out. Parked greenlets share a few stacks, so the profile's records stay few
// however many there are. ok is false if no greenlet of the hub is running.
// The text profile drops runtime frames, which are the interesting ones for a
// stall (runtime.chanrecv1, a syscall), so the record's program counters are
// symbolized here in full; frames below the greenlet's function (the hub's
// and iter.Pull's) are left out.
func (h *Hub) runningStack() (stack string, ok bool) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return "", false
	}
	label := fmt.Sprintf("%q:%q", hubLabel, h.id)
	var found []string
	var unlabelled []string
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		if !strings.Contains(rec, "hub.(*Hub).execute") || strings.Contains(rec, "hub.(*G).switchOut") {
			continue
		}
		s := symbolize(rec)
		if strings.Contains(rec, label) {
			found = append(found, s)
		} else if !strings.Contains(rec, "# labels:") {
			// User code reset the coroutine's labels (pprof.Do with a
			// label-free ctx does): keep it as a fallback.
			unlabelled = append(unlabelled, s)
		}
	}
	if len(found) == 0 && len(unlabelled) == 1 {
		found = unlabelled
	}
	return strings.Join(found, "\n"), len(found) > 0
}

// symbolize turns a goroutine-profile record into a stack, from the top
// frame down to the greenlet's own function.
func symbolize(rec string) string {
	head, _, _ := strings.Cut(strings.TrimSpace(rec), "\n")
	_, addrs, ok := strings.Cut(head, " @ ")
	if !ok {
		return strings.TrimSpace(rec)
	}
	var pcs []uintptr
	for _, a := range strings.Fields(addrs) {
		if pc, err := strconv.ParseUint(a, 0, 64); err == nil {
			pcs = append(pcs, uintptr(pc))
		}
	}
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "github.com/gevent-go/gevent/hub.(*Hub).execute") ||
			f.Function == "github.com/gevent-go/gevent/hub.taskRunner.Run" {
			break
		}
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return b.String()
}
