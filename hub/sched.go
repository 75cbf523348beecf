package hub

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
)

// How the scheduler works.
//
// A greenlet is a coroutine (iter.Pull): a goroutine that runs only when a
// driver resumes it, and hands control straight back to that driver when it
// reaches a cooperative point. A run token is a driver: one goroutine, taken
// from the hub's ants pool, that loops popping the next ready greenlet and
// resuming it. So a switch between two greenlets is two coroutine switches
// (out to the driver, in to the next greenlet) and never a trip through the
// Go scheduler, and at P = 1 one driver makes the one-at-a-time contract
// structural: nothing else resumes greenlets.
//
// A greenlet that switches out leaves its request in G.sw (yield, park, or
// dead); the driver carries it out under hub.mu once the switch is complete,
// so a greenlet is never queued (and so never resumed by another driver)
// while its coroutine is still running. Waking a greenlet from anywhere
// (another greenlet, a plain goroutine, the timer, a gnet loop) only queues
// it and, if every driver is idle, kicks one.
//
// A coroutine outlives the greenlets it runs: when a greenlet ends, its
// coroutine goes back to an idle list and runs the next greenlet that has
// never run, so a burst of short greenlets costs queue operations and
// coroutine switches, not goroutine creations.

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

func (q *queue) pushFront(g *G) {
	g.next = q.head
	q.head = g
	if q.tail == nil {
		q.tail = g
	}
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

// action is what a greenlet asks of its driver as it switches out.
type action uint8

const (
	actNone  action = iota
	actYield        // back of the ready queue
	actPark         // parked on sw.w until it is woken or cancelled
	actDead         // the greenlet ended; its Done has run
)

// driver states, guarded by hub.mu.
const (
	drvOff  = iota // no goroutine
	drvBusy        // running, or kicked and about to run
	drvIdle        // waiting on kick for work
)

// driver is one run token: the goroutine that resumes greenlets on it.
type driver struct {
	state  int    // drvOff, drvBusy or drvIdle; guarded by hub.mu
	start  bool   // busy but its goroutine is still to be started (see wake)
	holder *G     // the greenlet it is running; guarded by hub.mu
	grants uint64 // greenlets it has resumed, sampled by the monitor; guarded by hub.mu
	// Where its last greenlet left it, for a seeded hub's trace.
	lastNum             int
	lastName, lastPoint string
	kick                chan struct{} // wakes it from drvIdle
}

// coro is a coroutine that runs greenlets, one after another.
type coro struct {
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	g     *G // the greenlet it runs; set by the driver before a fresh start
}

// Coroutine switches bypass the Go scheduler, so a busy driver keeps its P
// from running anything else (the runtime timers on that P's heap, the
// hub's own among them, and goroutines readied there) until sysmon preempts
// it, 10 ms or more later. So a driver checks the hub's timers itself every
// timerEvery resumes (gevent's loop, too, runs due timers between batches
// of callbacks), and goes through the Go scheduler every schedEvery.
const (
	timerEvery = 64
	schedEvery = 1024
)

// maxIdleCoros bounds the coroutines kept for reuse once their greenlets
// ended; more are stopped, so a burst of parked greenlets does not leave
// its goroutine stacks behind (a few MB at most stay).
const maxIdleCoros = 1024

const hubLabel = "gevent.hub"

var nextHubID atomic.Uint64

// register creates the hub record of a greenlet. The greenlet is not yet
// queued: start does that.
func (h *Hub) register(ctx context.Context, name string, r sched.Runner) *G {
	g := &G{}
	h.registerAt(g, ctx, name, r)
	return g
}

// registerAt is register for a record the caller allocated (zero). ctx is
// the spawn ctx: the greenlet's ctx inherits its values, its cancellation
// kills the greenlet, and the greenlet it carries (if any) becomes the
// spawner.
func (h *Hub) registerAt(g *G, ctx context.Context, name string, r sched.Runner) {
	if ctx == nil {
		ctx = context.Background()
	}
	g.hub, g.runner, g.name = h, r, name
	g.id = nextID.Add(1)
	c, _ := ctx.(*gctx)
	sp := (*G)(c) // nil unless ctx is a greenlet's own
	// The greenlet's ctx must not register with a cancellable spawn ctx (it
	// would stay in the parent's children for the parent's whole life), so
	// it gets the spawn ctx's values only; cancellation is wired separately
	// below.
	switch {
	case sp != nil:
		g.parent = sp.valuesOnly()
	case ctx.Done() != nil:
		g.parent = context.WithoutCancel(ctx)
	default:
		g.parent = ctx
	}
	// Cancelling the spawn ctx kills the greenlet, with the ctx's cause.
	if sp != nil && sp.hub == h && h.linkKid(sp, g) {
		// The common case, a greenlet spawning with its own ctx: sp's Kill
		// walks its kids.
	} else if ctx.Done() != nil {
		g.rareLocked().stopParent = context.AfterFunc(ctx, func() { g.Kill(context.Cause(ctx)) })
		g.stopParent = true
	}
	if sp == nil {
		sp = Current(ctx)
	}
	if sp != nil {
		if sp.hub == h {
			g.spawner = sp
		}
		g.inheritLocals(sp)
	}
}

// newGreenlet creates a greenlet for t on h without starting it; start
// queues it. ctx is the spawn ctx (see registerAt). Run must not be nil.
// Without Done, a failure goes to the error handler.
func (h *Hub) newGreenlet(ctx context.Context, t sched.Task) *G {
	if t.Run == nil {
		panic("hub: nil greenlet function")
	}
	tp := &t
	g := h.register(ctx, t.Name, taskRunner{tp})
	g.report = t.Done == nil
	return g
}

// spawn creates a greenlet for t and starts it.
func (h *Hub) spawn(ctx context.Context, t sched.Task) *G {
	g := h.newGreenlet(ctx, t)
	g.start()
	return g
}

// start queues g for a run token; it never blocks. Like gevent's spawn, a
// greenlet started by a running greenlet begins only when the starter reaches
// a cooperative point (with P = 1); greenlets start FIFO. start on a started,
// dead or killed greenlet does nothing. If the hub was stopped, g ends at once
// with ErrHubStopped, without running.
func (g *G) start() {
	h := g.hub
	h.mu.Lock()
	if g.started || State(g.state.Load()) != StateNew {
		h.mu.Unlock()
		return
	}
	if h.stopped {
		h.mu.Unlock()
		g.Kill(ErrHubStopped)
		return
	}
	h.linkLiveLocked(g)
	h.spawned.Add(1)
	d := h.readyLocked(g, false)
	h.mu.Unlock()
	h.mon.ensure()
	h.wake(d)
}

// startLater starts g after d, on the hub's timer; it never blocks. The
// greenlet counts as registered (it keeps Hub.Wait waiting) from now on.
func (g *G) startLater(d time.Duration) error {
	if d < 0 {
		return ErrNegativeDuration
	}
	if d == 0 {
		g.start()
		return nil
	}
	h := g.hub
	h.mu.Lock()
	if g.started || State(g.state.Load()) != StateNew || h.stopped {
		stopped := h.stopped
		h.mu.Unlock()
		if stopped {
			g.start() // ends it with ErrHubStopped
		}
		return nil
	}
	// Registered but not ready: count it so Hub.Wait and Stop see it.
	h.linkLiveLocked(g)
	g.state.Store(int32(StateReady)) // killable as a queued, never-run greenlet
	g.delayed = true
	h.mu.Unlock()
	h.tm.add(&timerEntry{fn: func() { h.startDelayed(g) }}, d)
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
	d := h.readyLocked(g, false)
	h.mu.Unlock()
	h.mon.ensure()
	h.wake(d)
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
	h.registered++
	g.num = int32(h.registered)
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

// readyLocked queues g for a run token (see queueLocked) and returns a
// driver to wake (see wake), or nil if a running driver will find g.
func (h *Hub) readyLocked(g *G, timer bool) *driver {
	h.queueLocked(g, timer)
	return h.idleDriverLocked()
}

// queueLocked queues g for a run token: on the timer queue if its timer
// woke it, else on the ready queue.
func (h *Hub) queueLocked(g *G, timer bool) {
	g.state.Store(int32(StateReady))
	if timer {
		h.timerQ.push(g)
	} else {
		h.readyQ.push(g)
	}
	h.syncReadyLocked()
}

// syncReadyLocked publishes whether any greenlet is queued, for Yield's
// lock-free check. It stores only when that changes, which a steady
// exchange of greenlets never makes it do.
func (h *Hub) syncReadyLocked() {
	if r := h.readyQ.n+h.timerQ.n > 0; r != h.hasReady.Load() {
		h.hasReady.Store(r)
	}
}

// idleDriverLocked picks a driver to take new work when none is running:
// an idle one, else one not started yet. It marks it busy.
func (h *Hub) idleDriverLocked() *driver {
	if h.busy == len(h.drivers) {
		return nil
	}
	var off *driver
	for i := range h.drivers {
		d := &h.drivers[i]
		switch d.state {
		case drvIdle:
			d.state = drvBusy
			h.busy++
			return d
		case drvOff:
			if off == nil {
				off = d
			}
		}
	}
	if off != nil {
		off.state = drvBusy
		off.start = true
		h.busy++
		h.driverWG.Add(1)
	}
	return off
}

// wake starts or kicks d (from idleDriverLocked), after hub.mu is released.
func (h *Hub) wake(d *driver) {
	if d == nil {
		return
	}
	if !d.start {
		d.kick <- struct{}{}
		return
	}
	// Only the caller holds d now (it is busy and not running), so start
	// needs no lock; the driver's own state changes happen after this.
	d.start = false
	if err := h.submit(func() { h.drive(d) }); err != nil {
		// The pool is gone: the hub was stopped with greenlets still queued
		// (they were killed; a queued greenlet that never ran needs no
		// driver to end). Nothing more can run.
		h.cfg.logger.Error("hub: cannot start a driver", "error", err)
		h.mu.Lock()
		d.state = drvOff
		h.busy--
		h.mu.Unlock()
		h.driverWG.Done()
	}
}

// popLocked takes the next greenlet to run: timer wake-ups first (in
// deadline order), then the ready queue (FIFO). Greenlets killed before they
// ever ran are dropped; never-run ones over the capacity bound wait apart.
func (h *Hub) popLocked() *G {
	defer h.syncReadyLocked()
	if h.capZombies > 0 {
		h.freeCapZombiesLocked()
	}
	if h.rng != nil {
		return h.popSeededLocked()
	}
	for {
		g := h.timerQ.pop()
		if g == nil {
			if g = h.readyQ.pop(); g == nil {
				return nil
			}
		}
		if State(g.state.Load()) == StateDead {
			continue // killed while queued, before it ever ran
		}
		if !g.started && !g.zombie && h.cfg.capacity > 0 && h.live >= h.cfg.capacity {
			g.inCapQ = true
			h.capQ.push(g)
			continue
		}
		return g
	}
}

// freeCapZombiesLocked moves the greenlets killed while they waited for
// capacity to the ready queue: ending needs no capacity.
func (h *Hub) freeCapZombiesLocked() {
	var keep queue
	for g := h.capQ.pop(); g != nil; g = h.capQ.pop() {
		if g.zombie {
			g.inCapQ = false
			h.readyQ.push(g)
		} else {
			keep.push(g)
		}
	}
	h.capQ = keep
	h.capZombies = 0
}

// grantLocked gives d's token to g.
func (h *Hub) grantLocked(d *driver, g *G) {
	if h.trace != nil {
		h.traceLocked(d, g)
	}
	d.holder = g
	d.grants++
	g.state.Store(int32(StateRunning))
	if !g.started {
		g.started = true
		h.live++
	}
}

// drive is a driver's goroutine: it resumes ready greenlets one at a time
// until the hub stops. Idle, it waits on its kick channel.
func (h *Hub) drive(d *driver) {
	pprof.SetGoroutineLabels(h.labels)
	var g *G
	// spare is a coroutine whose greenlet ended while the idle list was
	// full: the next greenlet that never ran takes it, else it is stopped.
	var spare *coro
	clean := false
	defer func() {
		if clean || g == nil || g.sw != actDead {
			return // a normal return, or a panic of the hub's own (not recovered)
		}
		// runtime.Goexit inside g (a t.FailNow in a greenlet, say): the hub
		// ended g with ErrGoexit on its coroutine, which is gone; the Goexit
		// now unwinds this driver too (iter.Pull propagates it). Settle g
		// and hand the token to a new driver, so the hub keeps serving.
		h.mu.Lock()
		g.co = nil
		h.settleLocked(d, g)
		d.state = drvOff
		h.busy--
		var nd *driver
		if h.readyQ.n+h.timerQ.n > 0 {
			nd = h.idleDriverLocked()
		}
		h.unlockWake()
		h.driverWG.Done()
		if spare != nil {
			spare.stop()
		}
		h.wake(nd)
	}()
	h.mu.Lock()
	for {
		g = h.popLocked()
		if g == nil {
			if h.quit {
				d.state = drvOff
				h.busy--
				idle := h.coros
				h.coros = nil
				h.unlockWake()
				if spare != nil {
					idle = append(idle, spare)
				}
				for _, c := range idle {
					c.stop()
				}
				h.driverWG.Done()
				clean = true
				return
			}
			d.state = drvIdle
			h.busy--
			d.lastNum, d.lastName, d.lastPoint = 0, "", "idle"
			h.unlockWake()
			if spare != nil {
				spare.stop()
				spare = nil
			}
			<-d.kick
			h.mu.Lock()
			continue
		}
		h.grantLocked(d, g)
		if d.grants%timerEvery == 0 {
			// Run the hub's due timers here rather than wait for the
			// runtime timer (see timerEvery), and now and then let the Go
			// scheduler run this P's other goroutines (see schedEvery).
			h.unlockWake()
			h.tm.poll()
			if d.grants%schedEvery == 0 {
				runtime.Gosched()
			}
			h.mu.Lock()
		}
		c := g.co
		if c == nil {
			c, spare = spare, nil
			if n := len(h.coros); c == nil && n > 0 {
				c = h.coros[n-1]
				h.coros = h.coros[:n-1]
			}
		}
		h.unlockWake()
		if spare != nil {
			spare.stop()
			spare = nil
		}
		if c == nil {
			c = h.newCoro()
		}
		if g.co == nil {
			c.g = g
			g.co = c
		}
		c.next()
		h.mu.Lock()
		spare = h.settleLocked(d, g)
	}
}

// settleLocked carries out what g asked for as it switched out of d. If g
// ended and the idle list is full, it returns g's coroutine, for the caller
// to reuse or stop (outside the lock: stopping switches to it).
func (h *Hub) settleLocked(d *driver, g *G) (spare *coro) {
	d.holder = nil
	h.switches++
	act := g.sw
	g.sw = actNone
	if h.trace != nil {
		d.switchedOutLocked(g, act)
	}
	switch act {
	case actYield:
		h.queueLocked(g, false)
	case actPark:
		w := g.parkW
		if st := w.st(); st != waiting || (g.killable && g.killed.Load() && !g.killDone) {
			// Woken (or killed) while switching out: ready again at once.
			g.parkW = nil
			h.queueLocked(g, st == timedOut)
			break
		}
		g.state.Store(int32(StateParked))
	case actDead:
		if c := g.co; c != nil {
			g.co = nil
			c.g = nil
			if len(h.coros) < maxIdleCoros {
				h.coros = append(h.coros, c)
			} else {
				spare = c
			}
		}
		h.exitLocked(g)
	default:
		panic("hub: greenlet switched out with no request")
	}
	return spare
}

// newCoro makes a coroutine that runs greenlets handed to it in c.g.
func (h *Hub) newCoro() *coro {
	c := new(coro)
	c.next, c.stop = iter.Pull(func(yield func(struct{}) bool) {
		c.yield = yield
		for c.g != nil {
			h.execute(c.g)
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return c
}

// switchOut hands control back to g's driver with request act and returns
// when a driver resumes g.
func (g *G) switchOut(act action) {
	g.sw = act
	g.co.yield(struct{}{})
}

// execute runs g's function on its coroutine, then its Done, and asks the
// driver to retire it.
func (h *Hub) execute(g *G) {
	if g.zombie {
		// Killed before it ran: it never runs, it only ends. (Its kill
		// counts as landed: Done's cooperative calls must work.)
		g.killDone = true
		h.finish(g, sched.Outcome{Err: g.cause, Killed: true})
		g.sw = actDead
		return
	}
	o := sched.Outcome{Started: true}
	returned := false
	defer func() {
		if !returned {
			// runtime.Goexit is unwinding the coroutine: end the greenlet
			// here; the driver sees the rest (see drive).
			h.finish(g, sched.Outcome{Err: ErrGoexit, Started: true})
			g.sw = actDead
		}
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
		o.Err = g.runner.Run(g.ctxOf())
	}()
	if !o.Killed && o.Err != nil && g.killed.Load() {
		// The function saw its ctx cancelled and returned that error: the kill
		// is what ended it.
		if errors.Is(o.Err, g.cause) || errors.Is(o.Err, context.Canceled) {
			o.Err, o.Killed = g.cause, true
		}
	}
	// The function has ended: a kill has nothing left to interrupt, and
	// Done's cooperative calls must not raise it.
	g.killDone = true
	h.finish(g, o)
	g.sw = actDead
	returned = true
}

func (h *Hub) finish(g *G, o sched.Outcome) {
	if g.stopParent {
		g.mu.Lock()
		stop := g.rare.stopParent
		g.mu.Unlock()
		stop()
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
	// Done may make cooperative calls: after a kill, with a ctx that still
	// carries the greenlet but is not cancelled.
	ctx := g.ctxOf()
	if g.killed.Load() {
		ctx = context.WithoutCancel(ctx)
	}
	g.runner.Done(ctx, o)
}

// exitLocked marks g dead and drops it from the hub's books.
func (h *Hub) exitLocked(g *G) {
	g.state.Store(int32(StateDead))
	g.spawner = nil
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
	if h.capQ.n > 0 {
		// A place is free: the first never-started greenlet waiting for
		// capacity goes first.
		for c := h.capQ.pop(); c != nil; c = h.capQ.pop() {
			c.inCapQ = false
			if c.zombie {
				h.capZombies--
			}
			if State(c.state.Load()) != StateDead {
				h.readyQ.pushFront(c)
				h.syncReadyLocked()
				break
			}
		}
	}
	g.markDead()
	h.noteDeathLocked()
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
	panic(killSignal{g: g, cause: g.cause})
}

// Checkpoint is a cooperative point that does not switch: if the greenlet
// carried by ctx has been killed, the kill lands here (see the package doc);
// otherwise it returns ctx's cause if ctx is done, else nil.
func Checkpoint(ctx context.Context) error {
	if g := running(ctx); g != nil {
		g.checkKill()
	}
	return ctxErr(ctx)
}

// park switches g out until w is woken (or, if killable, cancelled; a kill
// cancels it). If w is settled already, or a kill is pending, it returns at
// once without switching.
//
// The park's fields are written here, while g runs; others read them only
// under hub.mu once the driver has made g StateParked, which the coroutine
// switch and that lock order after these writes.
func (g *G) park(w *Waiter, reason string, killable bool) {
	s := w.state.Load()
	if s&stMask != waiting || (killable && g.killed.Load() && !g.killDone) {
		return
	}
	g.parkW, g.parkGen, g.killable, g.reason = w, s>>stBits, killable, reason
	g.switchOut(actPark)
}

// unpark makes g, parked on the wait of generation gen of w, ready again.
// timer says the hub's timer woke it (it then runs ahead of the ready
// queue).
func (h *Hub) unpark(g *G, w *Waiter, gen uint32, timer bool) {
	h.mu.Lock()
	if !g.parkedOn(w, gen) {
		h.mu.Unlock()
		return // not parked yet (its driver sees w settled and requeues it), or an old wait
	}
	g.parkW = nil
	d := h.readyLocked(g, timer)
	h.mu.Unlock()
	h.wake(d)
}

// parkedOn reports whether g is parked on the wait of generation gen of w.
// The caller holds hub.mu.
func (g *G) parkedOn(w *Waiter, gen uint32) bool {
	return State(g.state.Load()) == StateParked && g.parkW == w && g.parkGen == gen
}

// Yield is gevent's sleep(0): the calling greenlet goes to the back of the
// ready queue and the next ready greenlet runs. It returns at once if nothing
// else is ready. Called outside a greenlet it returns nil at once. A kill lands
// here; otherwise it returns ctx's cause if ctx is done, else nil.
func Yield(ctx context.Context) error {
	g := running(ctx)
	if g == nil {
		return ctxErr(ctx)
	}
	g.checkKill()
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if g.hub.hasReady.Load() {
		g.switchOut(actYield)
		g.checkKill()
		return ctxErr(ctx)
	}
	return nil
}

// ctxErr is ctx's cause if it is done, else nil.
func ctxErr(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// hubLabels returns a new hub's id and the profiler labels that carry it.
func hubLabels() (string, context.Context) {
	id := strconv.FormatUint(nextHubID.Add(1), 10)
	return id, pprof.WithLabels(context.Background(), pprof.Labels(hubLabel, id))
}
