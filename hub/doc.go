// Package hub is the scheduler of gevent-go: run tokens, the ready queue, timers,
// park and unpark, Sleep and Yield, timeouts, the blocking monitor, offloading,
// introspection, and the cooperative primitives built on them (Event,
// AsyncResult, the Queue family, Pipe and the Semaphore family).
//
// # The scheduling contract
//
// A greenlet is a coroutine (an iter.Pull goroutine that runs only when
// resumed). A run token is a driver: a goroutine of the hub's own ants pool
// that resumes ready greenlets one at a time; a hub has P of them (default
// P = 1). A greenlet runs user code only while a driver runs it, and gives
// the driver back only at a cooperative point: Sleep, Yield, a wait on a hub
// primitive, a greenlet join, a netpoll read or write, an Offload. There the
// driver resumes the next ready greenlet and the caller parks until it is
// woken and its turn comes. A switch is two coroutine switches, not a trip
// through the Go scheduler. With P = 1, code between two cooperative points
// of one greenlet never interleaves with another greenlet of the same hub,
// so greenlets may share plain variables without locks; the switch is a
// synchronization point, so the race detector agrees. To use every core
// and keep that, run one hub per core: see Shards.
//
// # Order
//
// Spawned greenlets start when the spawner reaches a cooperative point.
// Ready greenlets run FIFO: two greenlets each doing A; Yield; B give
// 1A 2A 1B 2B, and waiters of an Event, Queue or Semaphore are served in the
// order they began to wait. One rule goes first: a greenlet woken by its
// timer (a Sleep ending) runs ahead of the greenlets queued at that moment,
// and sleepers due together run in deadline order. gevent's loop does the
// same (it runs due timers between bounded batches of callbacks); it is
// what keeps 100k sleepers cheap, since a woken sleeper ends and its
// coroutine serves the next greenlet instead of all 100k waiting at once. A
// busy driver runs the due timers itself every 64 resumes and passes
// through the Go scheduler every 1024, so timers, runtime timers and
// goroutines on its core are never kept waiting long.
//
// # Offloading, and what must not cross a cooperative point
//
// Offload runs CPU-heavy work (or a call that honours a ctx) on another
// goroutine, at most GOMAXPROCS at once by default; Blocking runs a call
// the hub cannot see (a channel, a mutex, a syscall) off the token, up to
// DefaultBlockingLimit at once (see WithOffload: gevent's threadpool
// maxsize). A greenlet at the bound waits cooperatively for a slot.
//
// A greenlet must not hold runtime.LockOSThread across a cooperative point:
// the Go runtime kills the process ("coro: OS thread locking must match
// locking at coroutine creation") when a coroutine switches with a thread
// lock its creator did not have, and Go offers no way to ask for that
// state beforehand. Run thread-bound work (a C library with thread-local
// state, a GUI call) inside Offload, whose fn may lock its own goroutine's
// thread freely.
//
// # Identity travels in the context
//
// A greenlet's function receives a context.Context that carries the greenlet
// and is cancelled when the greenlet is killed. Every blocking call here takes
// a ctx first and recognizes the calling greenlet from it. A ctx that carries
// no greenlet (the main goroutine, a plain goroutine, context.Background())
// makes the call block the way ordinary Go code blocks, so the package is
// usable from anywhere. Passing a greenlet's ctx to another goroutine that then
// makes hub calls while the greenlet itself is running is a programming error:
// the hub cannot tell the two goroutines apart (it uses no goroutine ids).
// While the greenlet is parked, such calls are treated as plain-goroutine calls.
//
// # Kill
//
// Killing a greenlet cancels its ctx. The kill lands at the greenlet's next
// cooperative point even if its code ignores the errors those calls return: the
// call panics with a value for which IsKill reports true; the hub recovers it
// when the greenlet's function unwinds, so deferred calls run. A greenlet that
// recovers that panic itself survives the kill, as a gevent greenlet that
// swallows GreenletExit does. The kill panic is raised once; later cooperative
// calls (in deferred cleanup, say) return the ctx's error instead. A greenlet
// spinning in pure computation cannot be killed, exactly as in gevent.
//
// # Non-cooperative blocking
//
// A bare channel operation, a sync.Mutex, time.Sleep or a blocking syscall
// inside a greenlet keeps the token and stalls every other greenlet of the hub,
// exactly like unpatched code under gevent. The classic trap: at P = 1 a
// greenlet that receives from a plain channel on which another greenlet of the
// same hub must send deadlocks. Use the hub's Queue or Channel instead, wait
// on the Go channel with Recv, Send or Select (which park the greenlet), or
// run the blocking call through Offload. The blocking monitor reports a token held
// past its threshold (default 100 ms), naming the greenlet, the duration, and
// the stack, which shows the channel or syscall wait.
//
// # Timers and testing/synctest
//
// Each hub keeps one timer heap driven by a single runtime timer, so a million
// sleeping greenlets cost a heap entry each, not a runtime timer each. The
// timer is built on the time package, so a hub created inside a
// testing/synctest bubble runs on the bubble's fake clock.
//
// # Failures, stops and the monitor
//
// A panic or a runtime.Goexit inside a greenlet ends that greenlet (with a
// *PanicError or ErrGoexit) and never its driver: the hub keeps serving. A
// failure nobody is handed reaches the hub's error handler (WithErrorHandler;
// log/slog by default). Stop kills what is left, waits until its ctx's
// deadline at most, and reports the greenlets it killed in one line.
//
// # Zero values and constructors
//
// One rule: a type works at its zero value unless its behaviour needs a
// parameter. Event, AsyncResult, Lock, RLock, Semaphore (with no permits),
// Channel and Queue (unbounded FIFO, as gevent's Queue()) are ready to use as
// declared; NewQueue with a capacity, NewLifoQueue and NewPriorityQueue make
// the other queues, NewSemaphore and NewBoundedSemaphore take the permits,
// New takes the hub's options. The same holds in pool (a zero Group is
// empty; a Pool needs its size) and local (a zero Local is unset).
//
// # Differences from gevent
//
//   - Identity travels in the ctx (Go has no greenlet-local "current"); a
//     hub call with a ctx that carries no greenlet blocks the plain Go way.
//   - A kill is a panic the hub recovers, raised at the next cooperative
//     point; the greenlet's ctx stays cancelled afterwards.
//   - Timer wake-ups run ahead of queued greenlets (see Order); gevent runs
//     them after the current batch of callbacks, which is the same rule
//     with a different batch size.
//   - No LoopExit: Go cannot see the plain goroutines that might still end
//     a wait, so when every greenlet waits on something only another
//     greenlet could end, the monitor reports it (BlockedReport.Waits)
//     rather than raising in the main greenlet.
//   - Acquire and waits return the ctx's error instead of False on a
//     timeout; the ctx carries the timeout.
//   - The blocking monitor is on by default (100 ms, gevent's
//     max_blocking_time) and reports; it never interrupts.
package hub
