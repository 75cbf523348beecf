package pool

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/gevent-go/gevent/internal/glocal"
	"github.com/gevent-go/gevent/internal/ring"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// Source is what Map, IMap and IMapUnordered read their items from: a slice
// of any slice type, an iterator of any func type shaped like iter.Seq (a
// func literal too), or one shaped like iter.Seq2[T, error], whose first
// non-nil error ends the input. A nil iterator is an empty input.
type Source[T any] interface {
	~[]T | ~func(yield func(T) bool) | ~func(yield func(T, error) bool)
}

// input is a Source in one of its three shapes; slice reports which.
type input[T any] struct {
	slice bool
	items []T
	seq   iter.Seq[T]
	seq2  iter.Seq2[T, error]
}

// inputOf reads in's shape. The unnamed types need no reflection; a named
// slice or func type is converted to its unnamed shape, which shares its
// backing array or code.
func inputOf[T any, S Source[T]](in S) input[T] {
	switch in := any(in).(type) {
	case []T:
		return input[T]{slice: true, items: in}
	case iter.Seq[T]:
		return input[T]{seq: in}
	case func(func(T) bool):
		return input[T]{seq: in}
	case iter.Seq2[T, error]:
		return input[T]{seq2: in}
	case func(func(T, error) bool):
		return input[T]{seq2: in}
	}
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Slice {
		return input[T]{slice: true, items: v.Convert(reflect.TypeFor[[]T]()).Interface().([]T)}
	}
	if v.Type().In(0).NumIn() == 1 {
		return input[T]{seq: v.Convert(reflect.TypeFor[iter.Seq[T]]()).Interface().(iter.Seq[T])}
	}
	return input[T]{seq2: v.Convert(reflect.TypeFor[iter.Seq2[T, error]]()).Interface().(iter.Seq2[T, error])}
}

// A MapOption configures IMap and IMapUnordered.
type MapOption interface{ applyMap(*mapOptions) error }

type mapOptionFunc func(*mapOptions) error

func (f mapOptionFunc) applyMap(o *mapOptions) error { return f(o) }

type mapOptions struct{ maxUnread int }

// MaxUnread caps at n the number of items started and not yet read by the
// loop body (gevent's maxsize): a slow reader throttles the workers and the
// reading of the input. The default is no cap. n < 1 is a programming error:
// IMap and IMapUnordered, which return no error, panic when given it.
func MaxUnread(n int) MapOption {
	return mapOptionFunc(func(o *mapOptions) error {
		if n < 1 {
			return fmt.Errorf("pool: MaxUnread(%d): must be at least 1", n)
		}
		o.maxUnread = n
		return nil
	})
}

// Map calls fn for every item of in, in members of s, and returns the
// results in input order: gevent's pool.map. At most the pool's size of
// items run at once, and they start in input order. The first error (by
// completion) stops the map: Map kills the items still running, waits until
// they are dead, and returns that error; a panic in fn comes back as a
// *hub.PanicError, and an error from an iter.Seq2 input as an error wrapping
// it. If ctx ends, or the pool is killed, Map stops the same way and returns
// an error matching the cause. Map blocks until every item is done; from a
// greenlet it is a cooperative point, and a kill of the caller stops the map
// the same way and lands once the workers are dead. fn gets a ctx cancelled
// when the map stops. The input is read on the caller's goroutine, as it
// iterates.
//
// Items do not get a greenlet each: a few worker greenlets, members of s,
// each run item after item (see the package documentation). Map panics if fn
// is nil.
func Map[T, R any, S Source[T]](ctx context.Context, s Spawner, in S, fn func(ctx context.Context, item T) (R, error)) ([]R, error) {
	e := newEngine(ctx, s, fn, collect, mapOptions{})
	defer e.shutdown(ctx)
	if !e.feed(ctx, inputOf[T](in), nil) {
		return nil, e.err
	}
	return e.out, nil
}

// IMap is Map as an iterator of results in input order, for use with for
// range (gevent's pool.imap): a failing item yields its error at its turn
// and the iteration goes on. An error from an iter.Seq2 input is yielded
// after the results of the items read before it, and ends the iteration. If
// ctx ends or the pool is killed, IMap yields an error matching the cause and
// ends; a kill of the caller lands there too. Breaking out of the loop kills
// the items still running. Either way the iteration returns only once its
// workers are dead. Items run while the loop body runs, up to MaxUnread
// ahead of it. Each step is a cooperative point. IMap panics, at the call,
// if fn is nil or an option is invalid.
func IMap[T, R any, S Source[T]](ctx context.Context, s Spawner, in S, fn func(ctx context.Context, item T) (R, error), opts ...MapOption) iter.Seq2[R, error] {
	return imap(ctx, s, in, fn, ordered, opts)
}

// IMapUnordered is IMap yielding results in completion order (gevent's
// pool.imap_unordered).
func IMapUnordered[T, R any, S Source[T]](ctx context.Context, s Spawner, in S, fn func(ctx context.Context, item T) (R, error), opts ...MapOption) iter.Seq2[R, error] {
	return imap(ctx, s, in, fn, unordered, opts)
}

func imap[T, R any, S Source[T]](ctx context.Context, s Spawner, in S, fn func(context.Context, T) (R, error), mode mapMode, opts []MapOption) iter.Seq2[R, error] {
	var o mapOptions
	for _, opt := range opts {
		if err := opt.applyMap(&o); err != nil {
			panic(err)
		}
	}
	if fn == nil {
		panic("pool: nil function")
	}
	return func(yield func(R, error) bool) {
		e := newEngine(ctx, s, fn, mode, o)
		defer e.shutdown(ctx)
		var err error
		if e.feed(ctx, inputOf[T](in), yield) {
			err = e.inputErr
		} else if !e.broke {
			err = e.err
		}
		if err != nil {
			var zero R
			yield(zero, err)
		}
	}
}

// Batch sizes: a switch between the caller and a worker costs about as much
// as a hundred short items, so the caller reads the input ahead by at least
// minAhead items (and by twice the pool's size, up to maxAhead), and a
// worker running short items lets the loop body run every resultBatch
// results.
const (
	minAhead    = 256
	maxAhead    = 4096
	resultBatch = 1024
)

type mapMode uint8

const (
	collect   mapMode = iota // Map: results by index; the first error stops all
	ordered                  // IMap
	unordered                // IMapUnordered
)

type outcome[R any] struct {
	v    R
	err  error
	done bool
}

// engine runs one map. The caller's goroutine reads the input (so an input
// that makes cooperative calls makes them as the caller), hands results to
// the loop body, and waits; worker greenlets, members of the set, claim
// items and run them one after another.
//
// Workers are added one at a time: whenever an item is claimed and more are
// waiting, the engine asks the set for one spare worker (a slot request,
// FIFO with every other caller). The spare runs only when the running
// workers reach a cooperative point (P = 1), so short items run back to back
// on one worker while items that block get up to the pool's size of workers,
// as they would get greenlets in gevent. A worker ends when nothing is left
// to claim, so idle workers hold no slots.
type engine[T, R any] struct {
	s      *set
	fn     func(context.Context, T) (R, error)
	mode   mapMode
	cap    int // MaxUnread, 0 for none
	ahead  int // items read from an iterator that may wait for a worker
	ctx    context.Context
	cancel context.CancelCauseFunc
	opts   []spawn.Option
	// self is the caller if it is a member of s. When no worker is alive it
	// runs items itself: it holds a slot already, and waiting for workers
	// that need slots it may be holding could deadlock.
	self *hub.G

	mu       sync.Mutex
	slice    bool
	items    []T          // a slice input
	queue    ring.Ring[T] // iterator input read and not yet claimed
	total    int          // items known
	claimed  int
	finished int
	read     int  // results handed to the loop body
	final    bool // the whole input is read
	inputErr error
	out      []R                   // collect: results by index
	results  ring.Ring[outcome[R]] // ordered: claimed and unread, by index; unordered: finished and unread
	workers  int                   // spawned, not yet dead
	yielding int                   // workers in yieldLocked
	spare    int                   // asked for, not yet claiming (slot requested, or spawned and not yet running)
	req      *slotReq              // the latest slot request, to withdraw at shutdown
	stopped  bool
	broke    bool  // the loop body returned false
	err      error // why the map stopped early
	w        *hub.Waiter
}

func newEngine[T, R any](ctx context.Context, s Spawner, fn func(context.Context, T) (R, error), mode mapMode, o mapOptions) *engine[T, R] {
	st := s.core()
	if fn == nil {
		panic("pool: nil function")
	}
	ectx, cancel := context.WithCancelCause(ctx)
	name := [...]string{collect: "pool.Map", ordered: "pool.IMap", unordered: "pool.IMapUnordered"}[mode]
	e := &engine[T, R]{
		s: st, fn: fn, mode: mode, cap: o.maxUnread, ctx: ectx, cancel: cancel,
		opts: []spawn.Option{spawn.WithName(name + " worker")},
	}
	// Read ahead enough to keep every slot busy and to batch the switches
	// between the caller and the workers, and no more.
	e.ahead = maxAhead
	if n := st.limit(); n < maxAhead/2 {
		e.ahead = max(2*n, minAhead)
	}
	if g := hub.Current(ctx); g != nil && st.containsG(g) {
		e.self = g
	}
	return e
}

// feed reads the input and drives the map to its end. It reports false if
// the map stopped early.
func (e *engine[T, R]) feed(ctx context.Context, in input[T], yield func(R, error) bool) bool {
	if ctx.Err() != nil {
		e.mu.Lock()
		e.stopLocked(context.Cause(ctx))
		e.mu.Unlock()
		return false
	}
	switch {
	case in.slice:
		e.mu.Lock()
		e.slice, e.items, e.total, e.final = true, in.items, len(in.items), true
		if e.mode == collect {
			e.out = make([]R, len(in.items))
		}
		spare := e.needSpareLocked()
		e.mu.Unlock()
		if spare {
			e.addSpare()
		}
	case in.seq2 == nil:
		if in.seq != nil {
			for v := range in.seq {
				if !e.push(ctx, v, yield) {
					return false
				}
			}
		}
		e.endInput(nil)
	default:
		var err error
		if in.seq2 != nil {
			for v, ierr := range in.seq2 {
				if ierr != nil {
					err = ierr
					break
				}
				if !e.push(ctx, v, yield) {
					return false
				}
			}
		}
		e.endInput(err)
	}
	return e.pump(ctx, yield)
}

// push queues an item read from the input and, unless there is room for
// the next and no result waits for the loop body, pumps.
func (e *engine[T, R]) push(ctx context.Context, v T, yield func(R, error) bool) bool {
	e.mu.Lock()
	e.queue.Push(v)
	e.total++
	if e.mode == collect {
		if len(e.out) == cap(e.out) {
			// Double: append grows large slices by a quarter, which
			// copies a long input's results many times over.
			e.out = slices.Grow(e.out, max(len(e.out), 64))
		}
		e.out = e.out[:len(e.out)+1]
	}
	spare := e.needSpareLocked()
	more := !e.stopped && e.roomLocked() && !e.resultReadyLocked()
	e.mu.Unlock()
	if spare {
		e.addSpare()
	}
	return more || e.pump(ctx, yield)
}

func (e *engine[T, R]) endInput(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.final = true
	if err == nil {
		return
	}
	err = fmt.Errorf("pool: input: %w", err)
	if e.mode == collect {
		e.stopLocked(err)
	} else {
		e.inputErr = err
	}
}

// pump is the caller's side of the map. It hands ready results to yield,
// runs an item itself when it must, and otherwise waits for the workers.
// While the input is not fully read it returns true as soon as there is room
// for another item and no result is ready; after the input it returns true
// once every item is done and handed over. It returns false if the map
// stopped.
func (e *engine[T, R]) pump(ctx context.Context, yield func(R, error) bool) bool {
	var sl *slicer // for items run inline
	e.mu.Lock()
	for {
		if e.stopped {
			e.mu.Unlock()
			return false
		}
		if o, ok := e.nextLocked(); ok {
			spare := e.needSpareLocked() // under MaxUnread, reading makes room
			e.mu.Unlock()
			if spare {
				e.addSpare()
			}
			if !yield(o.v, o.err) {
				e.mu.Lock()
				e.broke = true
				e.stopLocked(nil)
				e.mu.Unlock()
				return false
			}
			e.mu.Lock()
			continue
		}
		if e.final {
			if e.finished == e.total {
				e.mu.Unlock()
				return true
			}
		} else if e.roomLocked() {
			e.mu.Unlock()
			return true
		}
		if e.self != nil && e.workers == 0 {
			if sl == nil {
				sl = newSlicer()
			}
			if idx, v, ok := e.claimLocked(); ok {
				e.mu.Unlock()
				r, err := e.call(ctx, v)
				cerr := hub.Checkpoint(ctx) // a kill of the caller lands here
				if sl.due() {
					cerr = hub.Yield(ctx)
					sl.reset()
				}
				e.mu.Lock()
				if cerr != nil {
					e.stopLocked(cerr) // before the item's error, a consequence
				}
				e.completeLocked(idx, r, err)
				continue
			}
		}
		w := hub.NewWaiter(ctx)
		e.w = w
		e.mu.Unlock()
		err := w.Park(ctx, "pool.map", func() {
			e.mu.Lock()
			if e.w == w {
				e.w = nil
			}
			e.mu.Unlock()
		})
		e.mu.Lock()
		if err != nil {
			e.stopLocked(err)
		}
	}
}

func (e *engine[T, R]) resultReadyLocked() bool {
	return e.mode != collect && e.results.Len() > 0 && (e.mode == unordered || e.results.At(0).done)
}

// nextLocked takes the next result for the loop body, if one is ready.
func (e *engine[T, R]) nextLocked() (outcome[R], bool) {
	if !e.resultReadyLocked() {
		return outcome[R]{}, false
	}
	e.read++
	return e.results.Pop(), true
}

// roomLocked reports whether the caller may read another item of the input.
func (e *engine[T, R]) roomLocked() bool {
	return e.queue.Len() < e.ahead && (e.cap == 0 || e.total-e.read < e.cap)
}

func (e *engine[T, R]) claimableLocked() bool {
	return e.claimed < e.total && (e.cap == 0 || e.claimed-e.read < e.cap)
}

// claimLocked takes the next item to run.
func (e *engine[T, R]) claimLocked() (idx int, v T, ok bool) {
	if e.stopped || !e.claimableLocked() {
		return 0, v, false
	}
	idx = e.claimed
	e.claimed++
	if e.slice {
		v = e.items[idx]
	} else {
		v = e.queue.Pop()
	}
	if e.mode == ordered {
		e.results.Push(outcome[R]{})
	}
	return idx, v, true
}

func (e *engine[T, R]) completeLocked(idx int, v R, err error) {
	e.finished++
	switch e.mode {
	case collect:
		if err != nil {
			e.stopLocked(err)
			return
		}
		e.out[idx] = v
	case ordered:
		*e.results.At(idx - e.read) = outcome[R]{v: v, err: err, done: true}
	case unordered:
		e.results.Push(outcome[R]{v: v, err: err, done: true})
	}
	e.wakeLocked()
}

// wakeLocked wakes the caller if it waits and has something to do.
func (e *engine[T, R]) wakeLocked() {
	if e.w == nil {
		return
	}
	ready := e.stopped || e.resultReadyLocked() ||
		e.final && e.finished == e.total ||
		// Refill at half the read-ahead, so switches come in batches.
		!e.final && e.queue.Len() <= e.ahead/2 && (e.cap == 0 || e.total-e.read < e.cap) ||
		e.self != nil && e.workers == 0 && e.claimableLocked()
	if ready {
		w := e.w
		e.w = nil
		w.Wake()
	}
}

// stopLocked stops the map with err (nil: it ends without error, or the loop
// body stopped it) and kills the workers, with the default kill.
func (e *engine[T, R]) stopLocked(err error) {
	if e.stopped {
		return
	}
	e.stopped = true
	e.err = err
	e.cancel(hub.ErrKilled)
	e.wakeLocked()
}

// needSpareLocked reports whether the engine should ask for another worker
// now and, if so, counts it; the caller then calls addSpare after unlocking.
func (e *engine[T, R]) needSpareLocked() bool {
	// A yielding worker comes back to claim: no spare needed for it.
	if e.stopped || e.spare > 0 || e.yielding > 0 || !e.claimableLocked() {
		return false
	}
	e.spare++
	return true
}

func (e *engine[T, R]) addSpare() {
	// Record a queued request before its grant can run: granted takes e.mu
	// (releasers call it outside the set's lock), so it waits for this.
	e.mu.Lock()
	r, now := e.s.request(e.granted)
	if !now {
		e.req = r
	}
	e.mu.Unlock()
	if now {
		e.granted()
	}
}

// granted spawns a worker into a slot the set granted, or gives the slot
// back if the map stopped meanwhile.
func (e *engine[T, R]) granted() {
	e.mu.Lock()
	if e.stopped {
		e.spare--
		e.wakeLocked()
		e.mu.Unlock()
		e.s.release()
		return
	}
	e.workers++
	e.mu.Unlock()
	w := spawn.New(e.ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, e.work(ctx) }, e.opts...)
	w.LinkError(func(*spawn.Greenlet[struct{}]) {}) // a worker's failure goes back to the map's caller
	e.s.add(w, true)
	w.Subscribe(func() { e.workerDead(w) })
	w.Start()
}

func (e *engine[T, R]) workerDead(w *spawn.Greenlet[struct{}]) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.workers--
	if !w.Started() {
		// Killed before it ran: by a kill of the pool, a stopping hub, or
		// the map's own stop.
		e.spare--
		e.stopLocked(stopped(w.G().KillCause()))
	}
	e.wakeLocked()
}

// work is a worker's function: it claims and runs items until none is left.
func (e *engine[T, R]) work(ctx context.Context) error {
	e.mu.Lock()
	e.spare--
	clean := false
	defer func() {
		if !clean {
			// A kill is unwinding the worker.
			e.mu.Lock()
			e.stopLocked(stopped(context.Cause(ctx)))
			e.mu.Unlock()
		}
	}()
	yielded := false
	sl := newSlicer()
	for {
		idx, v, ok := e.claimLocked()
		if !ok {
			// More may come once the caller reads the input or results:
			// let it run once before giving the slot up.
			if yielded || e.stopped || e.final && e.claimed == e.total {
				break
			}
			yielded = true
			if !e.yieldLocked(ctx) {
				break
			}
			continue
		}
		yielded = false
		spare := e.needSpareLocked()
		e.mu.Unlock()
		if spare {
			e.addSpare()
		}
		r, err := e.call(ctx, v)
		_ = hub.Checkpoint(ctx) // lands a kill that fn did not reach
		due := sl.due()
		e.mu.Lock()
		if ctx.Err() != nil {
			// The map's stop, or a kill that fn swallowed. Stop first: the
			// item's error is a consequence, not the first error.
			e.stopLocked(stopped(context.Cause(ctx)))
			e.completeLocked(idx, r, err)
			break
		}
		e.completeLocked(idx, r, err)
		// Items that do not block never switch by themselves, where one
		// greenlet per item would let the other ready greenlets in between:
		// yield once the worker has run for a time slice, and when results
		// pile up for the loop body.
		if due || e.mode != collect && e.results.Len() >= resultBatch {
			if !e.yieldLocked(ctx) {
				break
			}
			sl.reset()
		}
	}
	e.wakeLocked()
	e.mu.Unlock()
	clean = true
	return nil
}

// yieldLocked lets the other ready greenlets run (the caller among them)
// and reports whether the worker may go on: false once its ctx is done, by
// the map's stop or by a kill that fn swallowed.
func (e *engine[T, R]) yieldLocked(ctx context.Context) bool {
	e.yielding++
	e.mu.Unlock()
	_ = hub.Yield(ctx)
	e.mu.Lock()
	e.yielding--
	if ctx.Err() != nil {
		e.stopLocked(stopped(context.Cause(ctx)))
		return false
	}
	return true
}

// stopped is the error of a map stopped with cause: a worker's ctx was
// cancelled or a worker was killed before it ran (a kill, a stopping hub, or
// the caller's ctx).
func stopped(cause error) error {
	return fmt.Errorf("pool: map stopped: %w", cause)
}

func (e *engine[T, R]) call(ctx context.Context, v T) (r R, err error) {
	defer func() {
		// Items share their worker greenlet: none may see another's locals.
		glocal.Clear(ctx)
		if p := recover(); p != nil {
			err = hubsched.PanicError(p)
		}
	}()
	return e.fn(ctx, v)
}

// shutdown stops the map if it is still going and waits until its workers
// are dead and no slot is on its way to it, so no greenlet of the map
// outlives the call.
func (e *engine[T, R]) shutdown(ctx context.Context) {
	e.mu.Lock()
	e.stopLocked(nil)
	r := e.req
	e.mu.Unlock()
	if r != nil && e.s.withdraw(r) {
		e.mu.Lock()
		e.spare--
		e.mu.Unlock()
	}
	// The caller may be unwinding from its own kill: wait on a ctx that the
	// kill does not cancel.
	wctx := context.WithoutCancel(ctx)
	e.mu.Lock()
	for e.workers > 0 || e.spare > 0 {
		w := hub.NewWaiter(wctx)
		e.w = w
		e.mu.Unlock()
		if err := w.Wait(wctx, "pool.map.shutdown"); err != nil {
			// A kill of the caller that has not landed yet: let it land
			// now; the workers are dying already.
			_ = hub.Checkpoint(ctx)
			return
		}
		e.mu.Lock()
	}
	e.mu.Unlock()
}

// timeSlice is how long a greenlet runs map items back to back before it
// yields to the other ready greenlets.
const timeSlice = time.Millisecond

// slicer tells a greenlet running items back to back when its time slice is
// over. It reads the clock every few items only, as many as take about a
// quarter of a slice, so short items pay almost nothing for it.
type slicer struct {
	start, last time.Time
	every, n    int
}

func newSlicer() *slicer {
	now := time.Now()
	return &slicer{start: now, last: now, every: 1}
}

// due counts one item and reports whether the slice is over.
func (s *slicer) due() bool {
	if s.n++; s.n < s.every {
		return false
	}
	s.n = 0
	now := time.Now()
	if now.Sub(s.start) >= timeSlice {
		return true
	}
	switch d := now.Sub(s.last); {
	case d < timeSlice/8 && s.every < 1024:
		s.every *= 2
	case d > timeSlice/4 && s.every > 1:
		s.every /= 2
	}
	s.last = now
	return false
}

// reset starts a new slice after a switch.
func (s *slicer) reset() {
	s.start, s.last, s.n = time.Now(), time.Now(), 0
}
