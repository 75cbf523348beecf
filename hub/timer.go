package hub

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// timers is a hub's single timer heap. One runtime timer, armed for the
// earliest entry, drives it; entries due together fire in deadline order,
// ties in the order they were added.
type timers struct {
	mu      sync.Mutex
	h       timerHeap
	seq     uint64
	epoch   time.Time
	rt      *time.Timer
	armedAt int64 // deadline the runtime timer is armed for; 0 if unarmed
	stopped bool
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

func (t *timers) init() {
	t.epoch = time.Now()
}

// add schedules fn (or w.Wake, if w is not nil) to run after d on the
// timer's goroutine. fn must not block.
func (t *timers) add(d time.Duration, fn func(), w *Waiter) *timerEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	e := &timerEntry{when: int64(time.Since(t.epoch) + d), seq: t.seq, fn: fn, w: w}
	heap.Push(&t.h, e)
	if e.idx == 0 {
		t.armLocked()
	}
	return e
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
	if t.rt == nil {
		t.rt = time.AfterFunc(d, t.fire)
	} else {
		t.rt.Reset(d)
	}
}

func (t *timers) fire() {
	t.mu.Lock()
	t.armedAt = 0
	now := int64(time.Since(t.epoch))
	var due []*timerEntry
	for len(t.h) > 0 && t.h[0].when <= now {
		due = append(due, heap.Pop(&t.h).(*timerEntry))
	}
	t.armLocked()
	t.mu.Unlock()
	for _, e := range due {
		if e.w != nil {
			e.w.Wake()
		} else {
			e.fn()
		}
	}
}

func (t *timers) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
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
	w := &Waiter{g: g}
	e := g.hub.tm.add(d, nil, w)
	err := w.Wait(ctx, "sleep")
	if err != nil {
		g.hub.tm.remove(e)
	}
	g.checkKill()
	return err
}

// WithTimeout runs fn with a ctx that expires after d and reports whether
// this call's own timeout is what ended fn: timedOut is true only if fn
// returned an error and the deadline that fired was d, not an outer one
// (gevent's with_timeout, nested timeouts included). Then err is a
// *TimeoutError that matches ErrTimeout. An outer deadline's error passes
// through with timedOut false. fn runs on the caller's goroutine; WithTimeout
// blocks only as fn does. d < 0 returns ErrNegativeDuration without calling fn.
func WithTimeout[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error)) (v T, timedOut bool, err error) {
	if d < 0 {
		return v, false, ErrNegativeDuration
	}
	te := &TimeoutError{After: d}
	tctx, cancel := context.WithTimeoutCause(ctx, d, te)
	defer cancel()
	v, err = fn(tctx)
	if err != nil && context.Cause(tctx) == error(te) && ctx.Err() == nil {
		return v, true, te
	}
	return v, false, err
}
