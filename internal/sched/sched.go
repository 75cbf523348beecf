// Package sched is the hub's scheduler as the library's own packages see it:
// the calls spawn, pool and netpoll need to create, start and end greenlets
// and to report failures, kept out of package hub's public API, which holds
// only what users call.
//
// Go has no friend packages, and package hub cannot import a package that
// names its types without a cycle, so the entry points travel the other
// way: this package declares them over two type parameters (H is *hub.Hub,
// G is *hub.G), package hub installs its implementation at init, and a
// sibling fetches it once, typed, with Get[*hub.Hub, *hub.G]. The types
// the entry points exchange (Task, Runner, Outcome) live here.
package sched

import (
	"context"
	"time"
)

// Outcome is how a greenlet's function ended, as the hub saw it.
type Outcome struct {
	// Err is the function's returned error, a *hub.PanicError, or the kill
	// cause.
	Err error
	// Killed reports that the greenlet ended because it was killed
	// (including a kill before it ever ran).
	Killed bool
	// Started reports whether the function ever ran.
	Started bool
}

// Runner is what the hub runs as a greenlet when it is given as a value
// with methods rather than a Task of funcs (package spawn's Greenlet is
// one); the methods have the meaning of Task's Run and Done.
type Runner interface {
	Run(ctx context.Context) error
	Done(ctx context.Context, o Outcome)
}

// Task is what the hub runs as a greenlet: a Runner made of funcs.
type Task struct {
	// Name names the greenlet in dumps and monitor reports; empty gives
	// "Greenlet-<id>".
	Name string
	// Run is the greenlet's function. It gets the greenlet's ctx. It must
	// not be nil.
	Run func(ctx context.Context) error
	// Done, if not nil, is called exactly once when the greenlet ends, on
	// the greenlet's own coroutine while it still holds its run token, so
	// it may make cooperative calls with the ctx it gets: the greenlet's
	// ctx, or after a kill a ctx that carries the greenlet without its
	// cancellation. A greenlet killed before it ran never runs Run, but it
	// still ends on the hub this way (only if the hub's drivers are gone,
	// after Stop, does Done run on the killer's goroutine). Without Done, a
	// failure goes to the hub's error handler.
	Done func(ctx context.Context, o Outcome)
}

// API is the hub's entry points. In every one, ctx is the spawn ctx: the
// greenlet's ctx inherits its values, its cancellation kills the greenlet,
// and the greenlet it carries (if any) becomes the spawner.
type API[H, G any] struct {
	// Register makes g, a zero greenlet record the caller allocated (so
	// that it may share one allocation with the caller's own handle), a
	// new greenlet of h running r, not yet started.
	Register func(h H, g G, ctx context.Context, name string, r Runner)
	// Spawn creates a greenlet of h for t and starts it (see Start).
	Spawn func(h H, ctx context.Context, t Task) G
	// Start queues g for a run token; it never blocks. Starting a started,
	// dead or killed greenlet does nothing; on a stopped hub g ends at once
	// with hub.ErrHubStopped, without running.
	Start func(g G)
	// StartLater starts g after d on the hub's timer; it never blocks.
	StartLater func(g G, d time.Duration) error
	// ReportError hands err to h's error handler, as the hub does for a
	// failed greenlet nobody observes; g may be nil.
	ReportError func(h H, g G, err error)
	// PanicError returns the *hub.PanicError for r, a non-nil value recover
	// returned, with the stack at the call (so call it in the deferred
	// function). The hub's kill signal is not a failure: PanicError panics
	// with it again, so the kill still ends the greenlet.
	PanicError func(r any) error
}

var installed any

// Install makes api the entry points Get returns. Package hub calls it
// once, at init.
func Install[H, G any](api API[H, G]) { installed = api }

// Get returns the entry points package hub installed. Call it from a
// package-level variable of a package that imports hub: hub's init has run
// by then.
func Get[H, G any]() API[H, G] {
	api, ok := installed.(API[H, G])
	if !ok {
		panic("sched: hub entry points not installed")
	}
	return api
}
