package hub

import (
	"bytes"
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
	// Stack is the offending goroutine's stack (from a goroutine profile), or
	// empty if it could not be found.
	Stack string
}

func (r BlockedReport) String() string {
	return fmt.Sprintf("hub: greenlet %q (id %d) appears to be blocked: it has held a run token for %v without a cooperative point\n%s",
		r.Name, r.ID, r.Blocked.Round(time.Millisecond), r.Stack)
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

func (m *monitor) stop() {
	m.mu.Lock()
	running := m.started.Load() && !m.stopped
	m.stopped = true
	m.mu.Unlock()
	if running {
		close(m.stopCh)
		<-m.doneCh
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
	for {
		var now time.Time
		select {
		case <-stop:
			return
		case now = <-t.C:
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
			if !ok {
				// Granted, but its coroutine is not running yet (its driver
				// has not been scheduled on a loaded machine): the greenlet
				// is not at fault.
				continue
			}
			reported[slot] = seq
			r := BlockedReport{Greenlet: g, Name: g.Name(), ID: g.id, Blocked: held, Stack: stack}
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
	m.h.cfg.logger.Warn("hub: greenlet appears to be blocked",
		"greenlet", r.Name, "id", r.ID, "blocked", r.Blocked, "stack", r.Stack)
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
		if strings.HasSuffix(f.Function, "hub.(*Hub).execute.func2") || strings.HasSuffix(f.Function, "hub.(*Hub).execute") {
			break
		}
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			break
		}
	}
	return b.String()
}
