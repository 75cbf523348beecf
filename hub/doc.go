// Package hub is the scheduler of gevent-go: run tokens, the ready queue, timers,
// park and unpark, Sleep and Yield, timeouts, the blocking monitor, offloading,
// introspection, and the cooperative primitives built on them (Event,
// AsyncResult, the Queue family, Pipe and the Semaphore family).
//
// # The scheduling contract
//
// A greenlet is a function running on a goroutine taken from the hub's own
// ants pool. It runs user code only while it holds one of the hub's P run
// tokens (default P = 1). It gives the token up only at a cooperative point:
// Sleep, Yield, a wait on a hub primitive, a greenlet join, a netpoll read or
// write, an Offload. There the token passes to the next ready greenlet, FIFO,
// and the caller parks until it is woken and its turn for a token comes. With
// P = 1, code between two cooperative points of one greenlet never interleaves
// with another greenlet of the same hub, so greenlets may share plain variables
// without locks; the token hand-off is a synchronization point, so the race
// detector agrees.
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
package hub
