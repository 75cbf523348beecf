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
	// seq counts the grants of each token slot. The hot path only bumps it;
	// the monitor samples it and times how long it has stayed unchanged, so
	// a switch costs no clock read. A stall is seen at most one sampling
	// period late.
	seq []atomic.Uint64
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
	m.seq = make([]atomic.Uint64, h.cfg.parallelism)
}

// granted records a token hand-off; called under hub.mu.
func (m *monitor) granted(slot int) {
	if m.h.cfg.threshold <= 0 {
		return
	}
	m.seq[slot].Add(1)
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
	reported := make([]uint64, len(m.seq))
	lastSeq := make([]uint64, len(m.seq))
	seenAt := make([]time.Time, len(m.seq)) // when lastSeq was first sampled
	for {
		var now time.Time
		select {
		case <-stop:
			return
		case now = <-t.C:
		}
		for slot := range m.seq {
			seq := m.seq[slot].Load()
			if seq != lastSeq[slot] {
				lastSeq[slot], seenAt[slot] = seq, now
				continue
			}
			held := now.Sub(seenAt[slot])
			if seq == 0 || seq == reported[slot] || held < th {
				continue
			}
			m.h.mu.Lock()
			g := m.h.holders[slot]
			var w *worker
			if g != nil {
				w = g.worker.Load()
			}
			m.h.mu.Unlock()
			if g == nil || m.seq[slot].Load() != seq {
				continue
			}
			if w == nil {
				continue // granted, but its worker has not started yet: not its stall
			}
			stack := stackOf(w.id)
			if waitingForToken(stack) {
				// Granted, but its goroutine has not been scheduled to take the
				// token yet (a loaded machine): the greenlet is not at fault.
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

// waitingForToken reports whether a worker's stack shows it still parked on
// its wake channel, at one of the hub's own hand-off points.
func waitingForToken(stack string) bool {
	for _, line := range strings.Split(stack, "\n") {
		if line == "" || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "runtime.") {
			continue
		}
		for _, f := range []string{"hub.(*Hub).park", "hub.Yield", "hub.(*Hub).reacquire"} {
			if strings.HasSuffix(line, f) {
				return true
			}
		}
		return false
	}
	return false
}

// stackOf finds the stack of the worker goroutine labelled id in a goroutine
// profile. The profile's text form drops runtime frames, which are the
// interesting ones for a stall (runtime.chanrecv1, a syscall), so the record's
// program counters are symbolized here in full.
func stackOf(id string) string {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		return ""
	}
	label := fmt.Sprintf("%q:%q", workerLabel, id)
	for _, rec := range strings.Split(buf.String(), "\n\n") {
		// Goroutines the greenlet started inherit the worker's label; the
		// worker itself is the one running runWorker.
		if !strings.Contains(rec, label) || !strings.Contains(rec, "hub.(*Hub).runWorker") {
			continue
		}
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
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
			if !more {
				break
			}
		}
		return b.String()
	}
	return ""
}

// Offload runs fn on a separate goroutine, off the run token, and waits for
// it cooperatively: gevent's threadpool. Use it for calls that block in ways
// the hub cannot see (a syscall, a cgo call, a mutex, an unpatched library).
// fn gets ctx and should return when ctx is done. If the calling greenlet is
// killed or ctx ends first, Offload returns at once (the kill lands here) and
// fn's eventual result is discarded; fn keeps running until it returns.
// Called outside a greenlet, Offload simply calls fn.
func Offload[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	g := running(ctx)
	if g == nil {
		return fn(ctx)
	}
	g.checkKill()
	w := &Waiter{g: g}
	type result struct {
		v   T
		err error
	}
	res := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.err = newPanicError(p)
			}
			res <- r
			w.Wake()
		}()
		r.v, r.err = fn(ctx)
	}()
	if err := w.Wait(ctx, "offload"); err != nil {
		g.checkKill()
		var zero T
		return zero, err
	}
	r := <-res
	return r.v, r.err
}
