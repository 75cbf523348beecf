// Package spawn provides typed greenlets: Spawn, Go, SpawnLater, New and
// Start, Join, Get, Kill, links, and the collection helpers JoinAll,
// KillAll, Wait and IWait, with gevent's semantics read the Go way.
//
// A greenlet's function gets the greenlet's ctx and returns (T, error):
//
//	g := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
//		if err := hub.Sleep(ctx, 10*time.Millisecond); err != nil {
//			return 0, err
//		}
//		return 42, nil
//	})
//	v, err := g.Get(ctx) // 42, nil
//
// A greenlet with no value to return is spawned with Go, whose function
// returns only an error; it is a *Greenlet[struct{}]:
//
//	w := spawn.Go(ctx, func(ctx context.Context) error {
//		return hub.Sleep(ctx, 10*time.Millisecond)
//	})
//	_, err := w.Get(ctx) // nil, or the sleep's error
//
// Scheduling follows package hub: a greenlet spawned by a running greenlet
// starts when the spawner reaches a cooperative point, greenlets start FIFO,
// and Join, Get, Kill, JoinAll, Wait and IWait are cooperative points.
//
// # Differences from gevent, on purpose
//
//   - Cancelling the ctx passed to Spawn kills the greenlet with the ctx's
//     cause; so killing a greenlet kills the children it spawned with its own
//     ctx (structured cancellation, as errgroup and Trio do). A child spawned
//     with context.WithoutCancel(ctx) outlives a kill of its spawner, as every
//     gevent greenlet does. A child outlives its spawner's normal return
//     either way (gevent test item 21).
//   - Links run synchronously, in registration order, on the greenlet's own
//     coroutine as it ends, holding its run token (gevent runs them from its
//     hub); this holds for a greenlet killed before it ran too, which ends on
//     its hub rather than on the killer's goroutine. They may make
//     cooperative calls; a link added after death runs at once on the caller.
//   - A default kill leaves Value at the zero value (gevent stores the
//     GreenletExit instance); Killed reports it.
//   - A failure is reported to the hub's error handler unless its error is
//     handed to a caller: a Get waiting for it, a JoinAll with RaiseError,
//     a Link or LinkError (a pool's Apply and maps count too). Join, Wait,
//     IWait and Subscribe do not take the error, so a failure they wait for
//     is reported. gevent prints every failure; a failure handed to a caller
//     that already handles it would only be noise.
package spawn
