package hub

import (
	"context"
	"errors"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"
)

// queue is an intrusive FIFO of greenlets linked through G.next.
type queue struct {
	head, tail *G
	n          int
}

func (q *queue) push(g *G) {
	g.next = nil
	if q.tail == nil {
		q.head = g
	} else {
		q.tail.next = g
	}
	q.tail = g
	q.n++
}

func (q *queue) pop() *G {
	g := q.head
	if g == nil {
		return nil
	}
	q.head = g.next
	if q.head == nil {
		q.tail = nil
	}
	g.next = nil
	q.n--
	return g
}

var nextID atomic.Uint64

// worker labels the goroutine that runs greenlets, so that the blocking
// monitor can find that goroutine's stack in a goroutine profile without
// goroutine ids. Labels are made once per worker record and reused.
type worker struct {
	id     string
	labels context.Context
	// wake delivers the run token to the greenlet parked on this worker; a
	// greenlet keeps its worker while parked, so one channel per worker
	// serves every greenlet it ever runs.
	wake chan struct{}
}

func (h *Hub) getWorkerLocked() *worker {
	if n := len(h.workers); n > 0 {
		w := h.workers[n-1]
		h.workers = h.workers[:n-1]
		return w
	}
	id := strconv.FormatUint(nextWorkerID.Add(1), 10)
	return &worker{id: id, labels: pprof.WithLabels(context.Background(), pprof.Labels(workerLabel, id)), wake: make(chan struct{}, 1)}
}

var nextWorkerID atomic.Uint64

const workerLabel = "gevent.worker"

// register creates the hub record of a greenlet. The greenlet is not yet
// queued: Start does that.
func (h *Hub) register(ctx context.Context, name string, r Runner) *G {
	if ctx == nil {
		ctx = context.Background()
	}
	g := &G{hub: h, runner: r, slot: -1}
	g.name = name
	g.id = nextID.Add(1)
	// The greenlet's cancelCtx must not register with a cancellable spawn
	// ctx (it would stay in the parent's children map for the parent's whole
	// life), so it gets the spawn ctx's values only; cancellation is wired
	// separately below.
	values := ctx
	if ctx.Done() != nil {
		if sp, ok := ctx.(*G); ok {
			values = sp.valuesOnly()
		} else {
			values = context.WithoutCancel(ctx)
		}
	}
	g.Context, g.cancel = context.WithCancelCause(values)
	// Cancelling the spawn ctx kills the greenlet, with the ctx's cause.
	if sp, ok := ctx.(*G); ok && sp.hub == h && h.linkKid(sp, g) {
		// The common case, a greenlet spawning with its own ctx: sp's Kill
		// walks its kids.
	} else if ctx.Done() != nil {
		g.stopParent = context.AfterFunc(ctx, func() { g.Kill(context.Cause(ctx)) })
	}
	if sp := Current(ctx); sp != nil {
		if sp.hub == h {
			g.spawner = sp
		}
		g.inheritLocals(sp)
	}
	return g
}

// NewGreenlet creates a greenlet for t on h without starting it; Start queues
// it. ctx is the spawn ctx: the greenlet's ctx inherits its values, its
// cancellation kills the greenlet, and the greenlet it carries (if any)
// becomes the spawner. Run must not be nil.
func (h *Hub) NewGreenlet(ctx context.Context, t Task) *G {
	if t.Run == nil {
		panic("hub: nil greenlet function")
	}
	tp := &t
	g := h.register(ctx, t.Name, taskRunner{tp})
	g.report = t.Done == nil
	return g
}

// NewGreenletRunner is NewGreenlet for a Runner: r.Run is the greenlet's
// function and r.Done its end callback. r must not be nil.
func (h *Hub) NewGreenletRunner(ctx context.Context, name string, r Runner) *G {
	if r == nil {
		panic("hub: nil greenlet runner")
	}
	return h.register(ctx, name, r)
}

// Spawn creates a greenlet for t and starts it (see Start).
func (h *Hub) Spawn(ctx context.Context, t Task) *G {
	g := h.NewGreenlet(ctx, t)
	g.Start()
	return g
}

// Start queues g for a run token; it never blocks. Like gevent's spawn, a
// greenlet started by a running greenlet begins only when the starter reaches
// a cooperative point (with P = 1); greenlets start FIFO. Start on a started,
// dead or killed greenlet does nothing. If the hub was stopped, g ends at once
// with ErrHubStopped, without running.
func (g *G) Start() {
	h := g.hub
	h.mu.Lock()
	if g.started || State(g.state.Load()) != StateNew {
		h.mu.Unlock()
		return
	}
	if h.stopped {
		g.state.Store(int32(StateDead))
		h.mu.Unlock()
		g.killed.Store(true)
		g.cancel(ErrHubStopped)
		g.finishUnstarted(ErrHubStopped, false)
		return
	}
	h.linkLiveLocked(g)
	h.spawned.Add(1)
	n, fresh := h.readyLocked(g)
	h.mu.Unlock()
	h.mon.ensure()
	h.dispatch(n, fresh)
}

// StartLater starts g after d, on the hub's timer; it never blocks. The
// greenlet counts as registered (it keeps Hub.Wait waiting) from now on.
func (g *G) StartLater(d time.Duration) error {
	if d < 0 {
		return ErrNegativeDuration
	}
	if d == 0 {
		g.Start()
		return nil
	}
	h := g.hub
	h.mu.Lock()
	if g.started || State(g.state.Load()) != StateNew || h.stopped {
		stopped := h.stopped
		h.mu.Unlock()
		if stopped {
			g.Start() // ends it with ErrHubStopped
		}
		return nil
	}
	// Registered but not ready: count it so Hub.Wait and Stop see it.
	h.linkLiveLocked(g)
	g.state.Store(int32(StateReady)) // killable as a queued, never-run greenlet
	g.delayed = true
	h.mu.Unlock()
	h.tm.add(d, func() { h.startDelayed(g) }, nil)
	return nil
}

func (h *Hub) startDelayed(g *G) {
	h.mu.Lock()
	if State(g.state.Load()) == StateDead || !g.delayed {
		h.mu.Unlock()
		return
	}
	g.delayed = false
	h.spawned.Add(1)
	n, fresh := h.readyLocked(g)
	h.mu.Unlock()
	h.mon.ensure()
	h.dispatch(n, fresh)
}

// linkKid records g as a kid of sp unless sp is already killed.
func (h *Hub) linkKid(sp, g *G) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sp.killed.Load() || State(sp.state.Load()) == StateDead {
		return false
	}
	g.kidOf = sp
	g.kidNext = sp.kids
	if sp.kids != nil {
		sp.kids.kidPrev = g
	}
	sp.kids = g
	return true
}

func (h *Hub) unlinkKidLocked(g *G) {
	p := g.kidOf
	if p == nil {
		return
	}
	if g.kidPrev != nil {
		g.kidPrev.kidNext = g.kidNext
	} else {
		p.kids = g.kidNext
	}
	if g.kidNext != nil {
		g.kidNext.kidPrev = g.kidPrev
	}
	g.kidOf, g.kidPrev, g.kidNext = nil, nil, nil
}

func (h *Hub) linkLiveLocked(g *G) {
	g.livePrev = nil
	g.liveNext = h.liveHead
	if h.liveHead != nil {
		h.liveHead.livePrev = g
	}
	h.liveHead = g
	h.count++
}

func (h *Hub) unlinkLiveLocked(g *G) {
	if g.livePrev != nil {
		g.livePrev.liveNext = g.liveNext
	} else if h.liveHead == g {
		h.liveHead = g.liveNext
	}
	if g.liveNext != nil {
		g.liveNext.livePrev = g.livePrev
	}
	g.livePrev, g.liveNext = nil, nil
}

// readyLocked makes g ready. If a token is free and nobody is queued ahead,
// g takes it and readyLocked returns g for dispatch; otherwise g is queued.
func (h *Hub) readyLocked(g *G) (n *G, fresh bool) {
	g.state.Store(int32(StateReady))
	if len(h.free) > 0 && h.readyQ.n == 0 {
		if !g.started && h.cfg.capacity > 0 && h.live >= h.cfg.capacity {
			h.capQ.push(g)
			return nil, false
		}
		slot := h.free[len(h.free)-1]
		h.free = h.free[:len(h.free)-1]
		return g, h.grantLocked(g, slot)
	}
	h.readyQ.push(g)
	return nil, false
}

// grantLocked gives token slot to g and reports whether g is starting fresh
// (it needs a goroutine) rather than resuming a parked goroutine.
func (h *Hub) grantLocked(g *G, slot int) bool {
	g.slot = slot
	h.holders[slot] = g
	h.mon.granted(slot)
	g.state.Store(int32(StateRunning))
	if g.started {
		return false
	}
	g.started = true
	h.live++
	return true
}

// handoffLocked passes token slot to the next ready greenlet, or frees it.
// With finishing set, the caller's greenlet has just ended, so a never-started
// greenlet waiting for capacity may take the freed place.
func (h *Hub) handoffLocked(slot int, finishing bool) (n *G, fresh bool) {
	h.holders[slot] = nil
	if finishing && h.capQ.n > 0 {
		for g := h.capQ.pop(); g != nil; g = h.capQ.pop() {
			if State(g.state.Load()) != StateDead {
				return g, h.grantLocked(g, slot)
			}
		}
	}
	for {
		g := h.readyQ.pop()
		if g == nil {
			h.free = append(h.free, slot)
			return nil, false
		}
		if State(g.state.Load()) == StateDead {
			continue // killed while queued, before it ever ran
		}
		if !g.started && h.cfg.capacity > 0 && h.live >= h.cfg.capacity {
			h.capQ.push(g)
			continue
		}
		return g, h.grantLocked(g, slot)
	}
}

// dispatch wakes n, which holds a token: a parked greenlet resumes on its own
// goroutine; a fresh one gets a worker goroutine from ants.
func (h *Hub) dispatch(n *G, fresh bool) {
	for n != nil {
		if !fresh {
			n.wakeCh <- struct{}{}
			return
		}
		g := n
		err := h.submit(func() { h.runWorker(g) })
		if err == nil {
			return
		}
		// The pool is closed (the hub is stopping): end g without running it
		// and pass its token on.
		n, fresh = h.abortFresh(g, err)
	}
}

func (h *Hub) abortFresh(g *G, err error) (*G, bool) {
	g.killed.Store(true)
	g.cancel(ErrHubStopped)
	h.finish(g, Outcome{Err: errors.Join(ErrHubStopped, err), Killed: true})
	return h.exit(g)
}

// runWorker is the body of an ants worker goroutine: it runs g and then, for
// as long as the next greenlet to get its token has never run, runs that one
// too, so a burst of short greenlets costs queue operations, not goroutine
// wake-ups.
func (h *Hub) runWorker(g *G) {
	h.mu.Lock()
	w := h.getWorkerLocked()
	h.mu.Unlock()
	pprof.SetGoroutineLabels(w.labels)
	for g != nil {
		g.worker.Store(w)
		g.wakeCh = w.wake
		h.execute(g)
		var fresh bool
		g, fresh = h.exit(g)
		if g != nil && !fresh {
			g.wakeCh <- struct{}{}
			g = nil
		}
	}
	pprof.SetGoroutineLabels(context.Background())
	h.mu.Lock()
	h.workers = append(h.workers, w)
	h.mu.Unlock()
}

// execute runs g's function while g holds a token, then its Done.
func (h *Hub) execute(g *G) {
	o := Outcome{Started: true}
	finished, returned := false, false
	defer func() {
		if returned {
			return
		}
		// runtime.Goexit (a t.FailNow in a greenlet, say) is unwinding this
		// worker: it will not go back to runWorker's loop, so end the
		// greenlet here and pass its token on, or the hub would hang.
		if !finished {
			h.finish(g, Outcome{Err: ErrGoexit, Started: true})
		}
		h.dispatch(h.exit(g))
	}()
	func() {
		defer func() {
			if r := recover(); r != nil {
				if k, ok := r.(killSignal); ok && k.g == g {
					o.Err, o.Killed = k.cause, true
					return
				}
				o.Err = newPanicError(r)
			}
		}()
		o.Err = g.runner.Run(g)
	}()
	if !o.Killed && o.Err != nil && g.killed.Load() {
		// The function saw its ctx cancelled and returned that error: the kill
		// is what ended it.
		cause := context.Cause(g)
		if errors.Is(o.Err, cause) || errors.Is(o.Err, context.Canceled) {
			o.Err, o.Killed = cause, true
		}
	}
	finished = true
	h.finish(g, o)
	returned = true
}

func (h *Hub) finish(g *G, o Outcome) {
	if g.stopParent != nil {
		g.stopParent()
	}
	if g.report {
		if o.Err != nil && !(o.Killed && errors.Is(o.Err, ErrKilled)) {
			h.reportError(g, o.Err)
		}
		return
	}
	defer func() {
		if r := recover(); r != nil {
			if IsKill(r) {
				return // a kill that landed in a Done callback ends nothing more
			}
			h.reportError(g, newPanicError(r))
		}
	}()
	g.runner.Done(g, o)
}

// exit marks g dead and passes its token on. It returns a greenlet that now
// holds the token: fresh ones are run by the caller's goroutine; a resumed
// one must be woken by the caller.
func (h *Hub) exit(g *G) (*G, bool) {
	h.mu.Lock()
	g.state.Store(int32(StateDead))
	g.spawner = nil
	g.worker.Store(nil)
	h.unlinkKidLocked(g)
	// Kids outlive a parent that returns normally (gevent); they just stop
	// being reachable from it.
	for k := g.kids; k != nil; {
		next := k.kidNext
		k.kidOf, k.kidPrev, k.kidNext = nil, nil, nil
		k = next
	}
	g.kids = nil
	h.live--
	h.unlinkLiveLocked(g)
	n, fresh := h.handoffLocked(g.slot, true)
	g.slot = -1
	h.mu.Unlock()
	g.dropLocals()
	g.markDead()
	h.noteDeath()
	return n, fresh
}

// running returns the greenlet carried by ctx if it currently holds a run
// token, else nil. The caller is assumed to be that greenlet's goroutine.
func running(ctx context.Context) *G {
	g := Current(ctx)
	if g == nil || State(g.state.Load()) != StateRunning {
		return nil
	}
	return g
}

// checkKill raises the kill of g, once, at a cooperative point.
func (g *G) checkKill() {
	if !g.killed.Load() || g.killDone {
		return
	}
	g.killDone = true
	panic(killSignal{g: g, cause: context.Cause(g)})
}

// Checkpoint is a cooperative point that does not switch: if the greenlet
// carried by ctx has been killed, the kill lands here (see the package doc);
// otherwise it returns ctx's cause if ctx is done, else nil.
func Checkpoint(ctx context.Context) error {
	if g := running(ctx); g != nil {
		g.checkKill()
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// park gives up g's token and blocks until w is woken or cancelled and g
// holds a token again. If w is already settled, or g was killed, it returns
// at once without switching.
func (h *Hub) park(g *G, w *Waiter, reason string) {
	h.mu.Lock()
	if w.state.Load() != waiting || (g.killed.Load() && !g.killDone) {
		h.mu.Unlock()
		return
	}
	if !h.holdsTokenLocked(g) {
		h.mu.Unlock()
		panic(errSharedCtx)
	}
	g.waiter = w
	n, fresh := h.releaseLocked(g, StateParked, reason)
	h.mu.Unlock()
	h.dispatch(n, fresh)
	<-g.wakeCh
}

// errSharedCtx is the panic of a greenlet ctx used for a wait by a goroutine
// other than the greenlet's own while the greenlet runs.
var errSharedCtx = errors.New("hub: a greenlet's ctx was used to wait from another goroutine while the greenlet runs; hand such goroutines hub.Detach(ctx)")

// holdsTokenLocked reports whether g holds a run token. It can be false for
// a greenlet that looked running a moment ago only when its ctx is in use on
// two goroutines at once.
func (h *Hub) holdsTokenLocked(g *G) bool {
	return State(g.state.Load()) == StateRunning && g.slot >= 0
}

// releaseLocked gives up g's token as g parks or yields (state st) and
// returns the greenlet that now holds it, if any, for dispatch.
func (h *Hub) releaseLocked(g *G, st State, reason string) (*G, bool) {
	g.state.Store(int32(st))
	g.reason = reason
	slot := g.slot
	g.slot = -1
	if st == StateReady {
		h.readyQ.push(g)
	}
	h.switches++
	return h.handoffLocked(slot, false)
}

// unpark makes g, parked on w, ready again.
func (h *Hub) unpark(g *G, w *Waiter) {
	h.mu.Lock()
	if State(g.state.Load()) != StateParked || g.waiter != w {
		h.mu.Unlock()
		return
	}
	g.waiter = nil
	g.reason = ""
	n, fresh := h.readyLocked(g)
	h.mu.Unlock()
	h.dispatch(n, fresh)
}

// Yield is gevent's sleep(0): the calling greenlet goes to the back of the
// ready queue and the next ready greenlet runs. It returns at once if nothing
// else is ready. Called outside a greenlet it returns nil at once. A kill lands
// here; otherwise it returns ctx's cause if ctx is done, else nil.
func Yield(ctx context.Context) error {
	g := running(ctx)
	if err := Checkpoint(ctx); g == nil || err != nil {
		return err
	}
	h := g.hub
	h.mu.Lock()
	if h.readyQ.n == 0 || !h.holdsTokenLocked(g) {
		h.mu.Unlock()
		return nil
	}
	n, fresh := h.releaseLocked(g, StateReady, "")
	h.mu.Unlock()
	h.dispatch(n, fresh)
	<-g.wakeCh
	return Checkpoint(ctx)
}

// Blocking runs fn off the run token on the calling goroutine: the calling
// greenlet parks (reason names the wait in dumps), fn blocks the ordinary Go
// way while other greenlets run, and then the greenlet queues for a token
// again. fn must not make hub calls with the greenlet's ctx. Called outside a
// greenlet, Blocking just calls fn. A kill requested while fn ran lands when
// Blocking returns; fn itself should watch ctx to return promptly.
func Blocking(ctx context.Context, reason string, fn func()) {
	g := running(ctx)
	if g == nil {
		fn()
		return
	}
	g.checkKill()
	h := g.hub
	h.mu.Lock()
	if !h.holdsTokenLocked(g) {
		// The greenlet's ctx is in use on another goroutine too; this one
		// holds no token to give up.
		h.mu.Unlock()
		fn()
		return
	}
	n, fresh := h.releaseLocked(g, StateParked, reason)
	h.mu.Unlock()
	h.dispatch(n, fresh)
	func() {
		// A panicking fn unwinds with the token taken back, so the
		// greenlet's deferred calls and the hub's recovery run as usual.
		defer h.reacquire(g)
		fn()
	}()
	g.checkKill()
}

// reacquire makes g, off its token, ready again and waits for a token.
func (h *Hub) reacquire(g *G) {
	h.mu.Lock()
	g.reason = ""
	n, _ := h.readyLocked(g)
	h.mu.Unlock()
	if n == nil {
		<-g.wakeCh
	} // else nobody was queued and g took a free token itself
}
