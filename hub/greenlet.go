package hub

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
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

// Outcome is how a greenlet's function ended, as the hub saw it.
type Outcome struct {
	// Err is the function's returned error, a *PanicError, or the kill cause.
	Err error
	// Killed reports that the greenlet ended because it was killed (including
	// a kill before it ever ran).
	Killed bool
	// Started reports whether the function ever ran.
	Started bool
}

// Runner is what the hub runs as a greenlet when it is given as a value with
// methods rather than a Task of funcs (the spawn package's Greenlet is one);
// the methods have the meaning of Task's Run and Done.
type Runner interface {
	Run(ctx context.Context) error
	Done(ctx context.Context, o Outcome)
}

// Task is what the hub runs as a greenlet: a Runner made of funcs.
type Task struct {
	// Name names the greenlet in dumps and monitor reports; empty gives
	// "Greenlet-<id>".
	Name string
	// Run is the greenlet's function. It gets the greenlet's ctx.
	Run func(ctx context.Context) error
	// Done is called exactly once when the greenlet ends, on the goroutine
	// that ends it and (for a greenlet that ran) while it still holds its run
	// token, so it may make cooperative calls with the greenlet's ctx. For a
	// greenlet killed before it ran, Done runs on the killer's goroutine.
	Done func(ctx context.Context, o Outcome)
}

// taskRunner adapts a Task to the hub's internal runner.
type taskRunner struct{ t *Task }

func (r taskRunner) Run(ctx context.Context) error { return r.t.Run(ctx) }
func (r taskRunner) Done(ctx context.Context, o Outcome) {
	if r.t.Done != nil {
		r.t.Done(ctx, o)
	}
}

// gkey is the context key under which a greenlet's ctx carries its *G.
type gkey struct{}

// G is the hub's record of one greenlet. It is also the greenlet's
// context.Context: Value(gkey) yields the G, everything else is the embedded
// cancellable context, so context.Cause and derived contexts work unchanged.
type G struct {
	context.Context // a cancelCtx whose parent is WithoutCancel(spawn ctx)

	hub    *Hub
	id     uint64
	name   string // as given; empty means "Greenlet-<id>"
	runner Runner
	report bool // no Done callback: the hub reports failures itself
	cancel context.CancelCauseFunc
	// stopParent deregisters the propagation of the spawn ctx's cancellation.
	stopParent func() bool

	// Guarded by hub.mu.
	state   atomic.Int32 // a State; written under hub.mu, read anywhere
	spawner *G           // cleared when this greenlet dies, so chains of dead parents are not retained
	// Children spawned with exactly this greenlet's ctx: a kill propagates to
	// them through this list instead of one context.AfterFunc each.
	kids      *G
	kidOf     *G
	kidPrev   *G
	kidNext   *G
	next      *G // ready or capacity queue link
	liveNext  *G
	livePrev  *G
	slot      int // run-token slot while running
	waiter    *Waiter
	reason    string                 // what a parked greenlet waits on, for dumps
	worker    atomic.Pointer[worker] // the worker goroutine running it, for monitor stacks
	started   bool
	delayed   bool          // registered by StartLater, waiting for its timer
	wakeCh    chan struct{} // its worker's wake channel: token delivery while parked
	killDone  bool          // the kill panic was raised already
	killed    atomic.Bool
	deadCh    chan struct{} // closed at death; lazily made
	deadClose bool

	// mu guards the fields touched rarely and from any goroutine: the dead
	// channel and the locals.
	mu     sync.Mutex
	locals map[any]any
	values atomic.Pointer[context.Context] // valuesOnly's cache
}

// Value returns the greenlet for the hub's own key and defers to the embedded
// context for everything else.
func (g *G) Value(key any) any {
	if _, ok := key.(gkey); ok {
		return g
	}
	return g.Context.Value(key)
}

// valuesOnly returns g's values without its cancellation, made once and
// shared by every greenlet g spawns with its own ctx.
func (g *G) valuesOnly() context.Context {
	if v := g.values.Load(); v != nil {
		return *v
	}
	v := context.WithoutCancel(g)
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
	return g.spawner
}

// Started reports whether the greenlet's function has begun to run.
func (g *G) Started() bool {
	g.hub.mu.Lock()
	defer g.hub.mu.Unlock()
	return g.started
}

// Killed reports whether a kill was requested for the greenlet.
func (g *G) Killed() bool { return g.killed.Load() }

// Dead returns a channel closed once the greenlet has ended and its Task.Done
// has returned. It does not block.
func (g *G) Dead() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deadCh == nil {
		g.deadCh = make(chan struct{})
		if g.deadClose {
			close(g.deadCh)
		}
	}
	return g.deadCh
}

func (g *G) markDead() {
	g.mu.Lock()
	g.deadClose = true
	if g.deadCh != nil {
		close(g.deadCh)
	}
	g.mu.Unlock()
}

// ErrKilled is the cause of a default kill. A greenlet killed with it counts
// as successful, as gevent's GreenletExit does.
var ErrKilled = errors.New("hub: greenlet killed")

// Kill requests that g stop with cause (nil means ErrKilled). It never blocks.
// A greenlet that has not started never runs; its Task.Done runs now, on the
// caller's goroutine. A running or parked greenlet is stopped at its next
// cooperative point. Killing a dead greenlet, or killing twice, does nothing
// more. Kill reports whether this call delivered the kill.
func (g *G) Kill(cause error) bool {
	if cause == nil {
		cause = ErrKilled
	}
	if !g.killed.CompareAndSwap(false, true) {
		return false
	}
	h := g.hub
	h.mu.Lock()
	if State(g.state.Load()) == StateDead {
		h.mu.Unlock()
		return false
	}
	g.cancel(cause)
	var kids []*G
	for k := g.kids; k != nil; k = k.kidNext {
		kids = append(kids, k)
	}
	defer func() {
		for _, k := range kids {
			k.Kill(cause)
		}
	}()
	if !g.started {
		// Never ran: it stays in its queue, marked dead, and is skipped there.
		registered := State(g.state.Load()) == StateReady
		g.state.Store(int32(StateDead))
		h.unlinkKidLocked(g)
		if registered {
			h.unlinkLiveLocked(g)
		}
		h.mu.Unlock()
		g.finishUnstarted(cause, registered)
		return true
	}
	w := g.waiter
	h.mu.Unlock()
	if w != nil {
		w.cancelWake()
	}
	return true
}

func (g *G) finishUnstarted(cause error, registered bool) {
	if g.stopParent != nil {
		g.stopParent()
	}
	g.hub.finish(g, Outcome{Err: cause, Killed: true})
	g.dropLocals()
	g.markDead()
	if registered {
		g.hub.noteDeath()
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

// LoadLocal returns the greenlet-local value stored under key. The local
// package builds Local[T] on it.
func (g *G) LoadLocal(key any) (any, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.locals[key]
	return v, ok
}

// StoreLocal stores a greenlet-local value under key. Values are dropped when
// the greenlet ends, even if its handle stays referenced. A key whose type has
// a method InheritLocal() bool that returns true is copied into every
// greenlet this one spawns, at spawn time.
func (g *G) StoreLocal(key, v any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if State(g.state.Load()) == StateDead {
		return
	}
	if g.locals == nil {
		g.locals = make(map[any]any)
	}
	g.locals[key] = v
}

// DeleteLocal removes the greenlet-local value stored under key.
func (g *G) DeleteLocal(key any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.locals, key)
}

// ClearLocals drops every greenlet-local value of g, as if g had just
// started. A greenlet that runs several units of work in turn (a pool's map
// worker) calls it between them so that one unit never sees another's
// locals.
func (g *G) ClearLocals() { g.dropLocals() }

type inheritable interface{ InheritLocal() bool }

// inheritLocals copies the spawner's inheritable locals into g.
func (g *G) inheritLocals(from *G) {
	from.mu.Lock()
	defer from.mu.Unlock()
	for k, v := range from.locals {
		if ik, ok := k.(inheritable); ok && ik.InheritLocal() {
			if g.locals == nil {
				g.locals = make(map[any]any)
			}
			g.locals[k] = v
		}
	}
}

func (g *G) dropLocals() {
	g.mu.Lock()
	g.locals = nil
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
