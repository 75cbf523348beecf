package hub

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// timers is a hub's single timer heap. One runtime timer, armed for the
// earliest entry, drives it. Due entries fire in deadline order, ties in the
// order they were added: a firing runs entirely under mu, so two firings
// never interleave, and the greenlets one firing wakes are queued together,
// in order, under one hub lock.
type timers struct {
	hub     *Hub
	mu      sync.Mutex
	h       timerHeap
	seq     uint64
	epoch   time.Time
	rt      *time.Timer
	armedAt int64 // deadline the runtime timer is armed for; 0 if unarmed
	// due mirrors armedAt for poll, which reads it without the lock.
	due     atomic.Int64
	stopped bool
	batch   []timedWake // scratch for fire, reused
	wake    []*driver   // scratch for flush, reused
}

// timedWake is a sleeper's wake-up settled by fire, to be queued by flush.
type timedWake struct {
	w   *Waiter
	gen uint32
}

type timerEntry struct {
	when int64 // nanoseconds since epoch
	seq  uint64
	fn   func()
	w    *Waiter // woken instead of calling fn: a Sleep needs no closure
	idx  int
}

type timerHeap []*timerEntry

func (t timerHeap) Len() int { return len(t) }
func (t timerHeap) Less(i, j int) bool {
	if t[i].when != t[j].when {
		return t[i].when < t[j].when
	}
	return t[i].seq < t[j].seq
}
func (t timerHeap) Swap(i, j int) {
	t[i], t[j] = t[j], t[i]
	t[i].idx = i
	t[j].idx = j
}
func (t *timerHeap) Push(x any) {
	e := x.(*timerEntry)
	e.idx = len(*t)
	*t = append(*t, e)
}
func (t *timerHeap) Pop() any {
	old := *t
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*t = old[:len(old)-1]
	e.idx = -1
	return e
}

func (t *timers) init(h *Hub) {
	t.hub = h
	t.epoch = time.Now()
}

// add schedules e (its fn, or a wake-up of its w) to fire after d. fn runs
// under the timers' lock and must not block or add timers.
func (t *timers) add(e *timerEntry, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	e.when, e.seq = int64(time.Since(t.epoch)+d), t.seq
	heap.Push(&t.h, e)
	if e.idx == 0 {
		t.armLocked()
	}
}

// remove cancels e; it reports whether e had not fired yet.
func (t *timers) remove(e *timerEntry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.idx < 0 {
		return false
	}
	heap.Remove(&t.h, e.idx)
	return true
}

func (t *timers) armLocked() {
	if t.stopped || len(t.h) == 0 {
		return
	}
	when := t.h[0].when
	if t.armedAt != 0 && t.armedAt <= when {
		return
	}
	d := time.Duration(when) - time.Since(t.epoch)
	t.armedAt = when
	t.due.Store(when)
	if t.rt == nil {
		t.rt = time.AfterFunc(d, t.fire)
	} else {
		t.rt.Reset(d)
	}
}

// fire wakes every due entry, in deadline order. Sleepers' wake-ups are
// settled here and queued as one batch; an entry with a fn (a SpawnLater)
// first flushes the batch, so order holds across both kinds.
func (t *timers) fire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armedAt = 0
	t.due.Store(0)
	now := int64(time.Since(t.epoch))
	for len(t.h) > 0 && t.h[0].when <= now {
		e := heap.Pop(&t.h).(*timerEntry)
		if e.w == nil {
			t.flush()
			e.fn()
			continue
		}
		if gen, ok := e.w.settle(timedOut); ok {
			t.batch = append(t.batch, timedWake{e.w, gen})
		}
	}
	t.flush()
	t.armLocked()
}

// pending reports whether any timer is set.
func (t *timers) pending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.h) > 0
}

// poll fires the due timers if the earliest is due: a busy driver's check,
// cheaper than a trip through the Go scheduler for the runtime timer.
func (t *timers) poll() {
	if due := t.due.Load(); due != 0 && int64(time.Since(t.epoch)) >= due {
		t.fire()
	}
}

// flush queues the batch's greenlets for a token, ahead of the ready queue.
func (t *timers) flush() {
	if len(t.batch) == 0 {
		return
	}
	h := t.hub
	h.mu.Lock()
	for _, tw := range t.batch {
		g := tw.w.g
		if !g.parkedOn(tw.w, tw.gen) {
			continue // still switching out: its driver queues it (see settleLocked)
		}
		g.parkW = nil
		if d := h.readyLocked(g, true); d != nil {
			t.wake = append(t.wake, d)
		}
	}
	h.mu.Unlock()
	clear(t.batch)
	t.batch = t.batch[:0]
	for _, d := range t.wake {
		h.wake(d)
	}
	clear(t.wake)
	t.wake = t.wake[:0]
}

func (t *timers) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	t.due.Store(0)
	if t.rt != nil {
		t.rt.Stop()
	}
}

// Sleep parks the calling greenlet for d. d == 0 is Yield (gevent's sleep(0));
// d < 0 returns ErrNegativeDuration. From a greenlet it is a cooperative point:
// other greenlets run meanwhile, and a kill lands here. Outside a greenlet it
// blocks the caller like time.Sleep. It returns nil after d, or ctx's cause
// if ctx is done first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d < 0 {
		return ErrNegativeDuration
	}
	if d == 0 {
		return Yield(ctx)
	}
	g := running(ctx)
	if g == nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	// A greenlet keeps one sleeper and reuses it: after the wait, the entry
	// is out of the heap (fired, or removed below) and the Waiter takes a
	// new generation.
	s := g.sleeper
	if s == nil {
		s = &sleeper{}
		s.w.g = g
		s.e.w = &s.w
		g.sleeper = s
	} else {
		s.w.rearm()
	}
	g.hub.tm.add(&s.e, d)
	err := s.w.Wait(ctx, "sleep")
	if err != nil {
		g.hub.tm.remove(&s.e)
	}
	g.checkKill()
	return err
}

// sleeper is a Sleep's waiter and timer entry, in one allocation.
type sleeper struct {
	w Waiter
	e timerEntry
}

// WithTimeout runs fn with a ctx that expires after d: gevent's
// with_timeout. If fn returns an error and this call's own deadline is what
// fired, the error is this call's *TimeoutError (it matches ErrTimeout and
// context.DeadlineExceeded); otherwise fn's value and error pass through
// unchanged, an outer deadline's included. So with nested timeouts, a
// *TimeoutError is this call's own exactly when the caller's ctx is not
// done (ctx.Err() == nil), and errors.As shows its After. fn runs on the caller's
// goroutine; WithTimeout blocks only as fn does, and a kill lands where fn
// makes its cooperative calls. d < 0 returns ErrNegativeDuration without
// calling fn.
func WithTimeout[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	if d < 0 {
		var zero T
		return zero, ErrNegativeDuration
	}
	te := &TimeoutError{After: d}
	tctx, cancel := context.WithTimeoutCause(ctx, d, te)
	defer cancel()
	v, err := fn(tctx)
	if err != nil && context.Cause(tctx) == error(te) && ctx.Err() == nil {
		return v, te
	}
	return v, err
}
