package pool

import (
	"context"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
	"github.com/gevent-go/gevent/spawn"
)

// Spawn starts fn as a new member of s and returns its greenlet: gevent's
// pool.spawn. On a full pool it first waits cooperatively, in FIFO order, for
// a slot; on a Group it never blocks. If ctx ends before a slot frees, fn
// never runs: Spawn returns a greenlet that has ended already (its links have
// fired) with an error matching ErrPoolFull and ctx's cause, which its Err
// and Get return; that failure is the caller's, and the hub does not report
// it. ctx is the spawn ctx, as for spawn.Spawn: cancelling it kills the
// greenlet. A kill of the calling greenlet lands while it waits. A failure of
// a greenlet that ran reaches the hub's error handler (see Failures in the
// package documentation). Spawn panics if fn is nil.
func Spawn[T any](ctx context.Context, s Spawner, fn func(ctx context.Context) (T, error), opts ...spawn.Option) *spawn.Greenlet[T] {
	st := s.core()
	if fn == nil {
		panic("pool: nil function")
	}
	if err := st.acquire(ctx); err != nil {
		return refused(ctx, fn, err, opts)
	}
	return start(ctx, st, fn, false, opts)
}

// Go is Spawn for a function without a value, as spawn.Go is for
// spawn.Spawn: it blocks like Spawn, and its greenlet ends the same way when
// ctx ends before a slot frees. Go panics if fn is nil.
func Go(ctx context.Context, s Spawner, fn func(ctx context.Context) error, opts ...spawn.Option) *spawn.Greenlet[struct{}] {
	if fn == nil {
		panic("pool: nil function")
	}
	return Spawn(ctx, s, noValue(fn), opts...)
}

// Submit runs fn as a new member of s, as Go does, for a caller that only
// needs to know whether fn got to run: a server handing out connections, a
// crawler handing out fetches (it is the shape of netpoll.WithSpawner). It
// waits for a slot like Spawn, and a kill of the calling greenlet lands
// there. It returns nil once fn is started; a failure of fn then goes to
// the hub's error handler. Otherwise it returns why fn never ran: an error
// matching ErrPoolFull and ctx's cause if ctx ended before a slot freed, or
// one matching hub.ErrHubStopped; no greenlet is left behind. Submit panics
// if fn is nil.
func Submit(ctx context.Context, s Spawner, fn func(ctx context.Context) error, opts ...spawn.Option) error {
	st := s.core()
	if fn == nil {
		panic("pool: nil function")
	}
	if err := st.acquire(ctx); err != nil {
		return err
	}
	g := start(ctx, st, noValue(fn), false, opts)
	// Ended without running: the hub refused it (stopped) or ctx ended
	// before it began. One that ran and failed meanwhile (another hub,
	// P > 1) is the hub's to report.
	if g.Ready() && !g.Started() {
		return g.Err()
	}
	return nil
}

// noValue makes fn, a function without a value, one that Spawn can run.
func noValue(fn func(ctx context.Context) error) func(context.Context) (struct{}, error) {
	return func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) }
}

// refused returns a greenlet for fn that never runs and has ended with err,
// why it got no slot. It is created on a ctx that is not cancelled, so err
// is the kill that ends it, and waits until it has ended on its hub (it
// never runs, so that is a switch), unless the caller's kill cuts the wait
// short.
func refused[T any](ctx context.Context, fn func(context.Context) (T, error), err error, opts []spawn.Option) *spawn.Greenlet[T] {
	bg := context.WithoutCancel(ctx)
	g := spawn.New(bg, fn, opts...)
	g.LinkError(func(*spawn.Greenlet[T]) {}) // the caller receives it
	g.KillAsync(err)
	_ = g.Join(bg)
	return g
}

// start runs fn as a member of s holding a slot the caller acquired. With
// quiet, its failure goes back to the caller (Apply), who claims it before
// the start with an error link, so the hub does not report it.
func start[T any](ctx context.Context, s *set, fn func(context.Context) (T, error), quiet bool, opts []spawn.Option) *spawn.Greenlet[T] {
	g := spawn.New(ctx, fn, opts...)
	if quiet {
		g.LinkError(func(*spawn.Greenlet[T]) {})
	}
	s.add(g, true)
	g.Start()
	return g
}

// Apply runs fn in a member of s and returns its value or error: gevent's
// pool.apply. It blocks like Spawn, then until fn is done; if ctx ends first
// it returns ctx's cause (wrapped with ErrPoolFull if fn never started), and
// fn, spawned with ctx, is killed. Called from a member greenlet of s, Apply
// runs fn inline on the caller instead: the caller holds a slot already and
// blocks anyway, and waiting for another slot could deadlock (gevent's
// Pool(1) re-entry). A panic in fn comes back as a *hub.PanicError. Apply
// panics if fn is nil.
func Apply[T any](ctx context.Context, s Spawner, fn func(ctx context.Context) (T, error)) (T, error) {
	st := s.core()
	if fn == nil {
		panic("pool: nil function")
	}
	if g := hub.Current(ctx); g != nil && st.containsG(g) {
		return call(ctx, fn)
	}
	if err := st.acquire(ctx); err != nil {
		var zero T
		return zero, err
	}
	return start(ctx, st, fn, true, nil).Get(ctx)
}

// ApplyAsync starts fn as a member of s and returns its greenlet at once; it
// never blocks (gevent's apply_async). If callback is not nil it is called
// with fn's value once fn succeeds, on the goroutine that ends the greenlet,
// before Join on it returns; it must not block. On a full pool the greenlet
// is created at once and queued, FIFO with the blocked Spawn callers, for
// the next free slot: it is a member already (Len counts it, Join waits for
// it, Kill kills it, and then it never runs) but holds no slot until it
// starts, so Len may exceed Size. (gevent instead returns a helper greenlet,
// outside the pool, that blocks in apply.) A failure of fn reaches the hub's
// error handler. ApplyAsync panics if fn is nil.
func ApplyAsync[T any](ctx context.Context, s Spawner, fn func(ctx context.Context) (T, error), callback func(T)) *spawn.Greenlet[T] {
	st := s.core()
	if fn == nil {
		panic("pool: nil function")
	}
	g := spawn.New(ctx, fn)
	e := st.add(g, false)
	if callback != nil {
		g.LinkValue(func(g *spawn.Greenlet[T]) { callback(g.Value()) })
	}
	st.startWhenFree(e, g.Start)
	return g
}

// call runs fn on the caller, turning a panic into a *hub.PanicError as the
// hub does for a greenlet's function.
func call[T any](ctx context.Context, fn func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = hubsched.PanicError(p)
		}
	}()
	return fn(ctx)
}

// hubsched is the hub's scheduler as this package drives it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
