package spawn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
)

// ErrNilGreenlet is returned by operations on a nil *Greenlet.
var ErrNilGreenlet = errors.New("spawn: nil greenlet")

// ErrJoinSelf is returned when a greenlet tries to join (or blocking-kill)
// itself, which could never return.
var ErrJoinSelf = errors.New("spawn: greenlet joining itself")

// An Option configures a greenlet at creation. The hub a greenlet runs on is
// not an option: it is the hub ctx is bound to (hub.For, hub.NewContext).
type Option interface{ applyGreenlet(*options) }

type options struct {
	name string
}

type nameOption string

func (n nameOption) applyGreenlet(o *options) { o.name = string(n) }

// WithName names the greenlet in dumps, monitor reports and error logs.
func WithName(name string) Option { return nameOption(name) }

// applyOptions is apart from New so that only a call with options pays for
// the options struct escaping to the heap (an Option is an interface, so
// its method gets a pointer it may keep).
func applyOptions(opts []Option) options {
	o := new(options)
	for _, opt := range opts {
		opt.applyGreenlet(o)
	}
	return *o
}

// Greenlet is a typed green thread: a function returning (T, error) that runs
// on a hub under the scheduling contract of package hub. Its methods are safe
// for concurrent use. The zero value is not usable; create greenlets with
// Spawn, SpawnLater or New.
type Greenlet[T any] struct {
	g  *hub.G
	fn func(ctx context.Context) (T, error)

	ret T // written by the greenlet's own goroutine before Done publishes it

	mu     sync.Mutex
	ready  bool
	value  T
	err    error
	killed bool
	links  []link[T]
	// consumers counts the callers waiting to be handed the greenlet's
	// error (a Get, a JoinAll with RaiseError); with the error links, they
	// make a failure observed, so the hub does not report it.
	consumers int
	// suppressed: it failed while only consumers observed it; the last
	// consumer to leave without being handed the error reports it.
	suppressed bool
	nextLink   LinkID
	seq        uint64 // when it became ready, in doneSeq order
}

// doneSeq orders greenlets by the moment they became ready, so JoinAll can
// report finishing order without watching every greenlet.
var doneSeq atomic.Uint64

type linkKind uint8

const (
	linkAny linkKind = iota
	linkValue
	linkError
	linkRaw // Subscribe: no greenlet argument
)

type link[T any] struct {
	id   LinkID
	kind linkKind
	fn   func(*Greenlet[T])
	raw  func()
}

// LinkID identifies a registered link, for Unlink.
type LinkID uint64

// New creates a greenlet for fn without starting it; Start or StartLater
// starts it. ctx is the spawn ctx: the greenlet's own ctx inherits its values,
// cancelling it kills the greenlet (with the ctx's cause), and a greenlet it
// carries becomes the spawner. The greenlet runs on the hub ctx is bound to
// (hub.For): the spawning greenlet's, or hub.NewContext's, else the default
// hub. New panics if fn is nil.
func New[T any](ctx context.Context, fn func(ctx context.Context) (T, error), opts ...Option) *Greenlet[T] {
	if fn == nil {
		panic("spawn: nil function")
	}
	var o options
	if len(opts) > 0 {
		o = applyOptions(opts)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// The handle and the hub's record are one allocation.
	b := &struct {
		g hub.G
		r runner[T]
	}{}
	gr := (*Greenlet[T])(&b.r)
	gr.g, gr.fn = &b.g, fn
	hubsched.Register(hub.For(ctx), &b.g, ctx, o.name, &b.r)
	return gr
}

// Spawn creates a greenlet for fn and starts it: gevent's spawn. It never
// blocks. Called from a greenlet, the new one runs only once the caller
// reaches a cooperative point (with P = 1), after greenlets started before
// it. Spawn panics if fn is nil. On a stopped hub the greenlet ends at once,
// without running, with an error matching hub.ErrHubStopped.
func Spawn[T any](ctx context.Context, fn func(ctx context.Context) (T, error), opts ...Option) *Greenlet[T] {
	gr := New(ctx, fn, opts...)
	hubsched.Start(gr.g)
	return gr
}

// Go spawns fn as a greenlet without a value: Spawn for the functions that
// return only an error. It never blocks and panics if fn is nil.
func Go(ctx context.Context, fn func(ctx context.Context) error, opts ...Option) *Greenlet[struct{}] {
	if fn == nil {
		panic("spawn: nil function")
	}
	return Spawn(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }, opts...)
}

// SpawnLater creates a greenlet for fn and starts it after d, on the hub's
// timer; it never blocks. A negative d ends the greenlet at once, without
// running, with an error matching hub.ErrNegativeDuration.
func SpawnLater[T any](ctx context.Context, d time.Duration, fn func(ctx context.Context) (T, error), opts ...Option) *Greenlet[T] {
	gr := New(ctx, fn, opts...)
	if err := hubsched.StartLater(gr.g, d); err != nil {
		gr.g.Kill(fmt.Errorf("spawn: spawn later by %v: %w", d, err))
	}
	return gr
}

// Start queues the greenlet to run; it never blocks. It does nothing on a
// greenlet already started, finished or killed: a greenlet never restarts.
func (gr *Greenlet[T]) Start() { hubsched.Start(gr.g) }

// StartLater starts the greenlet after d; it never blocks. A negative d is
// an error matching hub.ErrNegativeDuration, and the greenlet stays unstarted.
func (gr *Greenlet[T]) StartLater(d time.Duration) error {
	if err := hubsched.StartLater(gr.g, d); err != nil {
		return fmt.Errorf("spawn: start later by %v: %w", d, err)
	}
	return nil
}

// runner is the Greenlet seen by the hub: its Run and Done stay out of the
// Greenlet's own method set.
type runner[T any] Greenlet[T]

func (r *runner[T]) Run(ctx context.Context) error             { return (*Greenlet[T])(r).run(ctx) }
func (r *runner[T]) Done(ctx context.Context, o sched.Outcome) { (*Greenlet[T])(r).done(ctx, o) }

func (gr *Greenlet[T]) run(ctx context.Context) error {
	v, err := gr.fn(ctx)
	gr.ret = v
	return err
}

// done publishes the outcome and fires the links, in registration order, on
// the goroutine that ended the greenlet.
func (gr *Greenlet[T]) done(_ context.Context, o sched.Outcome) {
	gr.mu.Lock()
	gr.ready = true
	gr.seq = doneSeq.Add(1)
	gr.killed = o.Killed
	switch {
	case o.Killed && errors.Is(o.Err, hub.ErrKilled):
		// A default kill counts as success, with the zero value (gevent's
		// GreenletExit).
	case o.Err != nil:
		gr.err = o.Err
	default:
		gr.value = gr.ret
	}
	var zero T
	gr.ret = zero
	linked := slices.ContainsFunc(gr.links, func(l link[T]) bool {
		return l.kind == linkAny || l.kind == linkError
	})
	observed := gr.consumers > 0 || linked
	failed := gr.err != nil
	gr.suppressed = failed && !linked && gr.consumers > 0
	gr.mu.Unlock()
	if failed && !observed {
		hubsched.ReportError(gr.g.Hub(), gr.g, gr.err)
	}
	gr.fireLinks()
}

// fireLinks calls every registered link once, in registration order. A link
// unlinked while others fire is not called. A panicking link is reported to
// the hub's error handler and does not stop the others.
func (gr *Greenlet[T]) fireLinks() {
	for {
		gr.mu.Lock()
		if len(gr.links) == 0 {
			gr.mu.Unlock()
			return
		}
		l := gr.links[0]
		gr.links = gr.links[1:]
		ok := gr.err == nil
		gr.mu.Unlock()
		if (l.kind == linkValue && !ok) || (l.kind == linkError && ok) {
			continue
		}
		gr.callLink(l)
	}
}

func (gr *Greenlet[T]) callLink(l link[T]) {
	defer func() {
		if r := recover(); r != nil {
			hubsched.ReportError(gr.g.Hub(), gr.g, fmt.Errorf("spawn: link of %s panicked: %w", gr.g.Name(), hubsched.PanicError(r)))
		}
	}()
	if l.raw != nil {
		l.raw()
		return
	}
	l.fn(gr)
}

func (gr *Greenlet[T]) addLink(l link[T]) LinkID {
	gr.mu.Lock()
	gr.nextLink++
	l.id = gr.nextLink
	gr.links = append(gr.links, l)
	ready := gr.ready
	gr.mu.Unlock()
	if ready {
		// Linked after death: fire now, still in registration order relative
		// to links added later.
		gr.fireLinks()
	}
	return l.id
}

// Link registers fn to be called with the greenlet once it is ready (finished,
// failed or killed), in registration order. A link added after the greenlet
// died fires at once, on the caller's goroutine; otherwise it fires on the
// greenlet's own coroutine as it ends (also for a greenlet killed before it
// ran), holding its run token, so it may make cooperative calls: with
// context.WithoutCancel(g.G()), which carries the greenlet but not its kill.
// It never blocks. A panicking link is reported to the hub's error handler.
func (gr *Greenlet[T]) Link(fn func(*Greenlet[T])) LinkID {
	if fn == nil {
		panic(nilFunc("Link"))
	}
	return gr.addLink(link[T]{kind: linkAny, fn: fn})
}

// nilFunc is the panic of a call given a nil callback: a programming error
// best caught where it is made, not when the callback would fire.
func nilFunc(call string) string { return "spawn: " + call + " with a nil function" }

// LinkValue is Link for success only: fn never fires for a failure.
func (gr *Greenlet[T]) LinkValue(fn func(*Greenlet[T])) LinkID {
	if fn == nil {
		panic(nilFunc("LinkValue"))
	}
	return gr.addLink(link[T]{kind: linkValue, fn: fn})
}

// LinkError is Link for failure only: fn never fires for a success.
func (gr *Greenlet[T]) LinkError(fn func(*Greenlet[T])) LinkID {
	if fn == nil {
		panic(nilFunc("LinkError"))
	}
	return gr.addLink(link[T]{kind: linkError, fn: fn})
}

// Unlink removes the link id and reports whether it was still registered
// (false once it fired). It never blocks.
func (gr *Greenlet[T]) Unlink(id LinkID) bool {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	for i, l := range gr.links {
		if l.id == id {
			gr.links = append(gr.links[:i:i], gr.links[i+1:]...)
			return true
		}
	}
	return false
}

// Subscribe calls fn once the greenlet is ready (at once if it already is),
// like a link without an argument; it is what Wait and IWait use. fn must not
// block. The returned cancel removes the subscription. It never blocks.
func (gr *Greenlet[T]) Subscribe(fn func()) (cancel func()) {
	if fn == nil {
		panic(nilFunc("Subscribe"))
	}
	id := gr.addLink(link[T]{kind: linkRaw, raw: fn})
	return func() { gr.Unlink(id) }
}

// Join waits until the greenlet is ready and returns nil, or returns ctx's
// cause if ctx ends first. It never returns the greenlet's own error (use
// Get). From a greenlet it is a cooperative point: a kill of the caller lands
// here. Joining a nil greenlet returns ErrNilGreenlet; a greenlet joining
// itself gets ErrJoinSelf.
func (gr *Greenlet[T]) Join(ctx context.Context) error {
	if gr == nil {
		return ErrNilGreenlet
	}
	if gr.Ready() {
		return nil
	}
	if hub.Current(ctx) == gr.g {
		return ErrJoinSelf
	}
	w := hub.NewWaiter(ctx)
	cancel := gr.Subscribe(func() { w.Wake() })
	return w.Park(ctx, "join "+gr.g.Name(), cancel)
}

// Get waits like Join, then returns the greenlet's value or its error. A
// panic in the greenlet comes back as a *hub.PanicError carrying the panic
// value and stack; a kill with an error comes back as that error; a default
// kill is a success with the zero value. If ctx ends first, Get returns ctx's
// cause (which matches hub.ErrTimeout for a hub.WithTimeout deadline).
func (gr *Greenlet[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if gr == nil {
		return zero, ErrNilGreenlet
	}
	release, handed := gr.consume(), false
	defer func() { release(handed) }()
	if err := gr.Join(ctx); err != nil {
		return zero, err
	}
	gr.mu.Lock()
	defer gr.mu.Unlock()
	handed = true
	return gr.value, gr.err
}

// consume counts the caller as waiting to be handed the greenlet's error
// (see consumers) until the returned func is called.
func (gr *Greenlet[T]) consume() (release func(handed bool)) {
	gr.mu.Lock()
	gr.consumers++
	gr.mu.Unlock()
	return func(handed bool) {
		gr.mu.Lock()
		gr.consumers--
		report := false
		if handed {
			gr.suppressed = false
		} else if gr.suppressed && gr.consumers == 0 {
			gr.suppressed, report = false, true
		}
		err := gr.err
		gr.mu.Unlock()
		if report {
			hubsched.ReportError(gr.g.Hub(), gr.g, err)
		}
	}
}

// KillAsync requests that the greenlet stop with cause (nil is the default
// kill, which counts as success), and returns at once. A greenlet that never
// started never runs; it ends on its hub, where its links fire (never on the
// caller's goroutine, so a link never blocks a killer). A running or parked
// one stops at its next cooperative point. Repeated kills and kills of a
// finished greenlet do nothing.
func (gr *Greenlet[T]) KillAsync(cause error) {
	if gr == nil {
		return
	}
	gr.g.Kill(cause)
}

// Kill is KillAsync followed by Join: it blocks until the greenlet is dead or
// ctx ends (then it returns ctx's cause and the greenlet may live on, as a
// gevent greenlet that swallows GreenletExit does). Killing the calling
// greenlet itself lands the kill at once. Killing a nil greenlet returns
// ErrNilGreenlet.
func (gr *Greenlet[T]) Kill(ctx context.Context, cause error) error {
	if gr == nil {
		return ErrNilGreenlet
	}
	gr.g.Kill(cause)
	if hub.Current(ctx) == gr.g {
		return hub.Checkpoint(ctx)
	}
	return gr.Join(ctx)
}

func (gr *Greenlet[T]) readySeq() uint64 {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.seq
}

// Ready reports whether the greenlet has finished, failed or been killed.
func (gr *Greenlet[T]) Ready() bool {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.ready
}

// Successful reports whether the greenlet is ready without an error (a
// default kill counts as success).
func (gr *Greenlet[T]) Successful() bool {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.ready && gr.err == nil
}

// Started reports whether the greenlet's function has begun to run.
func (gr *Greenlet[T]) Started() bool { return gr.g.Started() }

// Killed reports whether the greenlet ended because it was killed.
func (gr *Greenlet[T]) Killed() bool {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.killed
}

// Value returns the greenlet's value once it succeeded, else the zero value.
func (gr *Greenlet[T]) Value() T {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.value
}

// Err returns the greenlet's error once it failed, else nil.
func (gr *Greenlet[T]) Err() error {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.err
}

// Name returns the greenlet's name ("Greenlet-<id>" unless WithName gave one).
func (gr *Greenlet[T]) Name() string { return gr.g.Name() }

// ID returns the greenlet's process-unique id.
func (gr *Greenlet[T]) ID() uint64 { return gr.g.ID() }

// G returns the hub's record of the greenlet (state, spawner, locals), or nil
// for a nil greenlet.
func (gr *Greenlet[T]) G() *hub.G {
	if gr == nil {
		return nil
	}
	return gr.g
}

// Spawner returns the greenlet that spawned this one while it is alive, else nil.
func (gr *Greenlet[T]) Spawner() *hub.G { return gr.g.Spawner() }

// Done returns a channel closed once the greenlet is ready and its links have
// fired. It never blocks; receiving from it blocks the plain Go way (from a
// greenlet, use Join, which is cooperative).
func (gr *Greenlet[T]) Done() <-chan struct{} { return gr.g.Dead() }

func (gr *Greenlet[T]) String() string {
	return fmt.Sprintf("Greenlet(%d %q %s)", gr.g.ID(), gr.g.Name(), gr.g.State())
}

// hubsched is the hub's scheduler as this package drives it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
