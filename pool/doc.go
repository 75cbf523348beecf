// Package pool provides Group and Pool, gevent's gevent.pool read the Go
// way: sets of greenlets that track their live members, a Pool bounding how
// many run at once, and generic functions that run work in them.
//
//	p := pool.New(10)
//	pages, err := pool.Map(ctx, p, urls, fetch) // in input order, 10 at a time
//
//	for page, err := range pool.IMapUnordered(ctx, p, urls, fetch) {
//		// in completion order
//	}
//
//	g := pool.Go(ctx, p, job) // waits for a slot, then starts job
//	err = p.Join(ctx)         // waits until the pool is empty
//
// Go methods cannot take type parameters, so the typed entry points are
// functions that take the set first (after ctx): Spawn, Go, Submit, Apply,
// ApplyAsync, Map, IMap and IMapUnordered accept a *Group or a *Pool (a
// Spawner). Spawn and Go return a *spawn.Greenlet as spawn.Spawn and
// spawn.Go do; Submit returns only whether the function got to run (a
// server's spawn hook); Join takes spawn's join options.
//
// # Zero values
//
// One rule: a type whose behaviour needs a parameter has a constructor, and
// the others work at zero. A Pool needs its size, so create it with New; a
// zero Group is an empty group ready to use (NewGroup is the same as
// new(Group)).
//
// # Slots
//
// A Pool of size n has n slots. A member holds one from the moment it is
// added until its greenlet is ready (finished, failed or killed) or it is
// discarded. Callers that find no free slot wait cooperatively in FIFO
// order, and a freed slot passes straight to the oldest of them. A Group has
// no limit. Pools and groups belong to no hub: their members run on the hub
// ctx passed to Spawn or a map is bound to (hub.For: the calling greenlet's
// hub, or hub.NewContext's), and any goroutine
// or greenlet may use them.
//
// # How the maps run
//
// Map, IMap and IMapUnordered do not spawn a greenlet per item. They spawn
// worker greenlets, members of the set, that claim items in input order and
// run them one after another; a new worker is asked for (one slot request at
// a time, FIFO with other callers) whenever an item is claimed while more
// wait. Since a new worker runs only once the running ones reach a
// cooperative point (with P = 1), items that never block all run on one
// worker, back to back, and items that block get up to the pool's size of
// workers, exactly the concurrency gevent gives them. Workers end when
// nothing is left to claim, so an idle map holds no slot, and a worker whose
// items never block yields after a 1 ms time slice, so the hub's other
// greenlets get their turn as they would between per-item greenlets. The
// result for the caller is the same as one greenlet per item: results, order, the bound on
// concurrency, errors, and kills. What differs: all items a worker runs share
// its greenlet (hub.Current and Dump show the worker; greenlet-local storage
// is cleared after each item, so items never see each other's locals), and
// Len counts workers, not items.
//
// The input is read on the caller's goroutine, between results: an input
// that blocks (a queue, a network stream) makes the caller wait, so results
// ready meanwhile reach the loop body of IMap only when the input moves on.
// Do not feed the input of an IMap from its own results; use Spawn with a
// queue for such feedback loops.
//
// # Failures
//
// A member's failure (error or panic) reaches the hub's error handler unless
// it is handed to a caller (see package spawn): Apply and the maps return
// theirs, as a Get, an error link, JoinAll or Join with spawn.RaiseError
// would, and so does Spawn of a greenlet that got no slot. A member
// that is only joined or waited for is reported (gevent prints every
// failure).
//
// # Differences from gevent
//
//   - Sizes: New panics on a negative size (gevent raises ValueError);
//     Unbounded replaces Pool(None), and its FreeCount is huge rather
//     than 1.
//   - Spawn, Go, Submit, Add and Apply take a ctx: a ctx that ends while
//     they wait for a slot gives an error matching ErrPoolFull and the ctx's
//     cause (for Spawn and Go, as the error of a greenlet that never runs), which
//     covers gevent's blocking=False (TryAdd) and timeout=.
//   - Map stops at the first error to occur, kills the items still running
//     and returns once they are dead (errgroup's contract); gevent's map
//     raises the first error in input order and lets the others run on.
//   - ApplyAsync on a full pool queues the greenlet itself for a slot (a
//     member holding no slot until it starts) instead of returning an
//     untracked helper greenlet.
//   - Apply from a member runs inline, as in gevent's Group (and so in a full
//     Pool(1), gevent's re-entry case).
//   - Kill from a member greenlet kills the others, waits for them, then
//     kills the caller.
package pool
