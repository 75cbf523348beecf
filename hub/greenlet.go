package hub

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/internal/glocal"
	"github.com/gevent-go/gevent/internal/sched"
)

// State is where a greenlet stands in its life.
type State int32

// The states of a greenlet, in the order it passes through them.
const (
	// StateNew: created, not yet started.
	StateNew State = iota
	// StateReady: queued for a run token.
	StateReady
	// StateRunning: holds a run token.
	StateRunning
	// StateParked: waiting at a cooperative point.
	StateParked
	// StateDead: finished, failed, or killed.
	StateDead
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateReady:
		return "ready"
	case StateRunning:
		return "running"
	case StateParked:
		return "parked"
	case StateDead:
		return "dead"
	}
	return "unknown"
}

// taskRunner adapts a sched.Task to the sched.Runner the hub runs.
type taskRunner struct{ t *sched.Task }

func (r taskRunner) Run(ctx context.Context) error { return r.t.Run(ctx) }
func (r taskRunner) Done(ctx context.Context, o sched.Outcome) {
	if r.t.Done != nil {
		r.t.Done(ctx, o)
	}
}

// gkey is the context key under which a greenlet's ctx carries its *G.
type gkey struct{}

// G is the hub's record of one greenlet: its identity, state and
// greenlet-local values. The greenlet's ctx (what its function gets) carries
// it; Current recovers it from that ctx.
type G struct {
	hub    *Hub
	runner sched.Runner
	// parent is the spawn ctx's values, without its cancellation.
	parent context.Context
	name   string // as given; empty means "Greenlet-<id>"
	id     uint64

	// Cancellation. cause is written under mu before killed is set, so a
	// greenlet that sees killed always finds the cause (a kill must never
	// land with a nil cause). cc is made under mu, at most once, and
	// cancelled with cause by the kill or at birth if the kill came first.
	cause error
	cc    atomic.Pointer[cancelState]

	// co is the coroutine the greenlet runs on, from its first run to its
	// end; only drivers touch it.
	co *coro
	// Reused by the greenlet's own waits (see Sleep and signal.wait).
	sleeper *sleeper
	sig     *waitNode[struct{}]

	// Guarded by hub.mu.
	spawner *G // cleared when this greenlet dies, so chains of dead parents are not retained
	// Children spawned with exactly this greenlet's ctx: a kill propagates to
	// them through this list instead of one context.AfterFunc each.
	kids     *G
	kidOf    *G
	kidPrev  *G
	kidNext  *G
	next     *G // ready or capacity queue link
	liveNext *G
	livePrev *G
	// The park: written by the greenlet as it parks (see park), read under
	// hub.mu while it is StateParked.
	parkW  *Waiter // the Waiter it is parked on
	reason string  // what a parked greenlet waits on, for dumps

	values atomic.Pointer[context.Context] // valuesOnly's cache
	// mu guards the rarely used parts (rare) and the making of cc.
	mu   sync.Mutex
	rare *rare

	state   atomic.Int32 // a State; written under hub.mu, read anywhere
	killed  atomic.Bool
	inherit atomic.Bool // locals holds a key to copy into children
	parkGen uint32      // the generation of parkW's wait (with the park)
	num     int32       // its number on its hub, in registration order (guarded by hub.mu)

	// sw is what the greenlet asks of its driver as it switches out: written
	// by the greenlet, read by the driver after the coroutine switch (which
	// orders the two), so it needs no lock.
	sw     action
	report bool // no Done callback: the hub reports failures itself
	// killDone: the kill panic was raised already. Only the greenlet itself
	// and its driver (after the greenlet switched out) touch it.
	killDone bool
	killable bool // with the park: a kill cancels parkW (false inside Blocking)
	watched  bool // with the park: a ctx of its own (a deadline, a cancel) may end the wait
	// Guarded by hub.mu.
	started    bool
	delayed    bool // registered by startLater, waiting for its timer
	zombie     bool // killed before it ran: it only ends (see execute)
	inCapQ     bool // queued in capQ
	stopParent bool // rare.stopParent is set (before the start)
	deadMarked bool // markDead ran; guarded by mu
}

// rare holds what few greenlets need, made on first use under G.mu, so
// the record of a greenlet that needs none of it stays small.
type rare struct {
	// stopParent deregisters the propagation of the spawn ctx's
	// cancellation.
	stopParent func() bool
	deadCh     chan struct{} // closed at death; made lazily, closedCh if dead first
	locals     map[any]any
}

// rareLocked returns g's rare part, making it; the caller holds g.mu.
func (g *G) rareLocked() *rare {
	if g.rare == nil {
		g.rare = &rare{}
	}
	return g.rare
}

// cancelState is a greenlet's cancellation, made on demand.
type cancelState struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// ctx returns the greenlet's cancel context, making it on first use.
func (g *G) ctx() context.Context {
	if c := g.cc.Load(); c != nil {
		return c.ctx
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.cc.Load(); c != nil {
		return c.ctx
	}
	c := &cancelState{}
	c.ctx, c.cancel = context.WithCancelCause(g.parent)
	if g.cause != nil {
		c.cancel(g.cause)
	}
	g.cc.Store(c)
	return c.ctx
}

// gctx is a greenlet's context.Context: the G itself, seen through a type
// of its own so that the context methods stay off the exported G (whose
// Dead and Kill are about its life, not a ctx's). Converting between *G and
// *gctx is free. Value(gkey) yields the G; the cancellation a kill causes
// lives in a context.WithCancelCause made only when somebody needs it (a
// Done channel, a derived context, the kill's cause), so a greenlet that is
// never watched and never killed costs no cancel context. context.Cause,
// derived contexts and context.AfterFunc work unchanged.
type gctx G

// ctxOf returns g's context.
func (g *G) ctxOf() context.Context { return (*gctx)(g) }

// Deadline reports no deadline: a greenlet's life is bounded by kills, and
// a deadline of its spawn ctx kills it rather than being inherited.
func (c *gctx) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns a channel closed when the greenlet is killed.
func (c *gctx) Done() <-chan struct{} { return (*G)(c).ctx().Done() }

// Err returns context.Canceled once the greenlet has been killed, else nil.
func (c *gctx) Err() error {
	g := (*G)(c)
	if c := g.cc.Load(); c != nil {
		return c.ctx.Err()
	}
	if g.killed.Load() {
		return context.Canceled
	}
	return nil
}

// Value returns the greenlet for the hub's own key and the spawn ctx's
// values for everything else. Once the greenlet is killed (or its cancel
// context exists) lookups go through the cancel context, so that
// context.Cause finds the kill's cause.
func (c *gctx) Value(key any) any {
	g := (*G)(c)
	switch key.(type) {
	case gkey:
		return g
	case hubKey:
		return g.hub
	}
	if c := g.cc.Load(); c != nil {
		return c.ctx.Value(key)
	}
	if g.killed.Load() {
		return g.ctx().Value(key)
	}
	return g.parent.Value(key)
}

// String names the greenlet, as the standard library's contexts do.
func (c *gctx) String() string { return (*G)(c).String() }

// String names the greenlet.
func (g *G) String() string { return "hub.G(" + g.Name() + ")" }

// valuesOnly returns g's values without its cancellation, made once and
// shared by every greenlet g spawns with its own ctx.
func (g *G) valuesOnly() context.Context {
	if v := g.values.Load(); v != nil {
		return *v
	}
	v := context.WithoutCancel(g.ctxOf())
	g.values.CompareAndSwap(nil, &v)
	return *g.values.Load()
}

// ID returns the greenlet's id, unique within its process.
func (g *G) ID() uint64 { return g.id }

// Name returns the greenlet's name: the one it was given, else "Greenlet-<id>".
func (g *G) Name() string {
	if g.name != "" {
		return g.name
	}
	return "Greenlet-" + strconv.FormatUint(g.id, 10)
}

// Hub returns the hub the greenlet runs on.
func (g *G) Hub() *Hub { return g.hub }

// State returns the greenlet's state at the moment of the call.
func (g *G) State() State {
	return State(g.state.Load())
}

// Spawner returns the greenlet that spawned g, or nil if g was spawned from
// outside any greenlet or its spawner has since died (the hub keeps no chain
// of dead ancestors alive).
func (g *G) Spawner() *G {
	g.hub.mu.Lock()
	defer g.hub.mu.Unlock()
	if sp := g.spawner; sp != nil && State(sp.state.Load()) != StateDead {
		return sp
	}
	return nil
}

// Started reports whether the greenlet's function has begun to run.
func (g *G) Started() bool {
	g.hub.mu.Lock()
	defer g.hub.mu.Unlock()
	return g.started && !g.zombie
}

// Killed reports whether a kill was requested for the greenlet.
func (g *G) Killed() bool { return g.killed.Load() }

// KillCause returns the cause of the kill that g received (ErrKilled for a
// kill without one), or nil if g was never killed. It does not block.
func (g *G) KillCause() error {
	if !g.killed.Load() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cause
}

// Dead returns a channel closed once the greenlet has ended and its end
// callbacks (a spawn.Greenlet's links) have returned. It does not block.
func (g *G) Dead() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rare == nil && g.deadMarked {
		return closedCh
	}
	r := g.rareLocked()
	if r.deadCh == nil {
		r.deadCh = make(chan struct{})
	}
	return r.deadCh
}

// closedCh is the Dead channel of greenlets that died before anyone asked.
var closedCh = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// markDead closes the Dead channel and drops the locals: the end of g's
// life as the rest of the process sees it.
func (g *G) markDead() {
	g.mu.Lock()
	g.deadMarked = true
	if r := g.rare; r != nil {
		if r.deadCh == nil {
			r.deadCh = closedCh
		} else {
			close(r.deadCh)
		}
		r.locals = nil
	}
	g.mu.Unlock()
}

// ErrKilled is the cause of a default kill. A greenlet killed with it counts
// as successful, as gevent's GreenletExit does.
var ErrKilled = errors.New("hub: greenlet killed")

// Kill requests that g stop with cause (nil means ErrKilled). It never blocks.
// A greenlet that has not started never runs: it is queued to end on the hub
// (its end callbacks, such as a spawn.Greenlet's links, run there, with a
// working ctx, never on the caller's goroutine). A running or parked
// greenlet is stopped at its next cooperative point. Killing a dead
// greenlet, or killing twice, does nothing more. Kill reports whether this
// call delivered the kill.
func (g *G) Kill(cause error) bool {
	if cause == nil {
		cause = ErrKilled
	}
	h := g.hub
	h.mu.Lock()
	if g.killed.Load() || State(g.state.Load()) == StateDead {
		h.mu.Unlock()
		return false
	}
	// The cause is published before the flag: whoever sees the flag finds
	// the cause.
	g.mu.Lock()
	g.cause = cause
	g.killed.Store(true)
	g.mu.Unlock()
	var kids []*G
	for k := g.kids; k != nil; k = k.kidNext {
		kids = append(kids, k)
	}
	if !g.started {
		// Never ran, and never will: it ends on the hub as a zombie (see
		// execute), so its Done and links run on its own token, never on the
		// killer's goroutine, and never block the killer.
		var d *driver
		switch {
		case h.quit:
			// The hub's drivers are gone: end it here.
			registered := State(g.state.Load()) == StateReady
			g.state.Store(int32(StateDead))
			h.unlinkKidLocked(g)
			if registered {
				h.unlinkLiveLocked(g)
			}
			h.mu.Unlock()
			g.cancelNow()
			g.finishUnstarted(cause, registered)
			killAll(kids, cause)
			return true
		case State(g.state.Load()) == StateNew:
			g.zombie = true
			h.linkLiveLocked(g)
			d = h.readyLocked(g, false)
		case g.delayed:
			g.delayed = false
			g.zombie = true
			d = h.readyLocked(g, false)
		default: // queued already
			g.zombie = true
			if g.inCapQ {
				// Waiting for capacity, perhaps with every driver idle.
				h.capZombies++
				d = h.idleDriverLocked()
			}
		}
		h.mu.Unlock()
		g.cancelNow()
		h.wake(d)
		killAll(kids, cause)
		return true
	}
	var w *Waiter
	var gen uint32
	if State(g.state.Load()) == StateParked && g.killable {
		w, gen = g.parkW, g.parkGen
	}
	h.mu.Unlock()
	g.cancelNow()
	if w != nil {
		w.cancelGen(gen)
	}
	killAll(kids, cause)
	return true
}

func killAll(gs []*G, cause error) {
	for _, g := range gs {
		g.Kill(cause)
	}
}

// cancelNow cancels g's cancel context, if it was made, with the kill's
// cause; one made later is born cancelled.
func (g *G) cancelNow() {
	g.mu.Lock()
	c := g.cc.Load()
	cause := g.cause
	g.mu.Unlock()
	if c != nil {
		c.cancel(cause)
	}
}

func (g *G) finishUnstarted(cause error, registered bool) {
	g.hub.finish(g, sched.Outcome{Err: cause, Killed: true})
	g.markDead()
	if registered {
		g.hub.mu.Lock()
		g.hub.noteDeathLocked()
		g.hub.unlockWake()
	}
}

// Current returns the greenlet carried by ctx, or nil if ctx carries none.
func Current(ctx context.Context) *G {
	if ctx == nil {
		return nil
	}
	g, _ := ctx.Value(gkey{}).(*G)
	return g
}

// Greenlet-local storage, reached through internal/glocal (package local
// builds Local[T] on it). Values are dropped when the greenlet ends, even if
// its handle stays referenced.
func init() {
	glocal.Load = func(ctx context.Context, key any) (any, bool, bool) {
		g := Current(ctx)
		if g == nil {
			return nil, false, false
		}
		v, ok := g.loadLocal(key)
		return v, ok, true
	}
	glocal.Store = func(ctx context.Context, key, v any) bool {
		g := Current(ctx)
		if g != nil {
			g.storeLocal(key, v)
		}
		return g != nil
	}
	glocal.Delete = func(ctx context.Context, key any) bool {
		g := Current(ctx)
		if g != nil {
			g.deleteLocal(key)
		}
		return g != nil
	}
	glocal.Clear = func(ctx context.Context) {
		if g := Current(ctx); g != nil {
			g.dropLocals()
		}
	}
}

func (g *G) loadLocal(key any) (any, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rare == nil {
		return nil, false
	}
	v, ok := g.rare.locals[key]
	return v, ok
}

// storeLocal stores v under key; a key that is a glocal.Inheritable
// returning true is copied into every greenlet g spawns, at spawn time.
func (g *G) storeLocal(key, v any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if State(g.state.Load()) == StateDead {
		return
	}
	r := g.rareLocked()
	if r.locals == nil {
		r.locals = make(map[any]any)
	}
	r.locals[key] = v
	if ik, ok := key.(glocal.Inheritable); ok && ik.InheritLocal() {
		g.inherit.Store(true)
	}
}

func (g *G) deleteLocal(key any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rare != nil {
		delete(g.rare.locals, key)
	}
}

// inheritLocals copies the spawner's inheritable locals into g.
func (g *G) inheritLocals(from *G) {
	if !from.inherit.Load() {
		return // the common case: nothing to inherit, no lock taken
	}
	from.mu.Lock()
	defer from.mu.Unlock()
	if from.rare == nil {
		return
	}
	for k, v := range from.rare.locals {
		if ik, ok := k.(glocal.Inheritable); ok && ik.InheritLocal() {
			r := g.rareLocked() // g is not started yet: no lock needed on its side
			if r.locals == nil {
				r.locals = make(map[any]any)
			}
			r.locals[k] = v
			g.inherit.Store(true)
		}
	}
}

func (g *G) dropLocals() {
	g.mu.Lock()
	if g.rare != nil {
		g.rare.locals = nil
	}
	g.inherit.Store(false)
	g.mu.Unlock()
}

// Detach returns a ctx with ctx's values, deadline and cancellation but
// without its greenlet: hand it to plain goroutines a greenlet starts, so
// their hub calls block the ordinary Go way instead of acting on the
// greenlet's run token from the wrong goroutine. A kill of the greenlet still
// cancels the detached ctx.
func Detach(ctx context.Context) context.Context {
	if Current(ctx) == nil {
		return ctx
	}
	return detached{ctx}
}

type detached struct{ context.Context }

func (d detached) Value(key any) any {
	if _, ok := key.(gkey); ok {
		return nil
	}
	return d.Context.Value(key)
}
