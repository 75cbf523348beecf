package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"
)

// Errors of the queue family. Match them with errors.Is.
var (
	// ErrFull: TryPut found no room (or, on a Channel, no waiting getter).
	ErrFull = errors.New("hub: queue full")
	// ErrEmpty: TryGet or TryPeek found no item (or, on a Channel, no
	// waiting putter).
	ErrEmpty = errors.New("hub: queue empty")
	// ErrQueueShutDown: the queue was shut down. Puts fail with it at once;
	// gets fail with it once the queue is empty.
	ErrQueueShutDown = errors.New("hub: queue shut down")
	// ErrTaskDone: TaskDone was called more times than items were put.
	ErrTaskDone = errors.New("hub: task done called more times than items were put")
)

// qkind tells the constructors' queues apart from a zero value.
type qkind uint8

const (
	qZero       qkind = iota // a zero value, not used yet: see lock
	qBuffered                // Queue: buf holds items
	qRendezvous              // Channel: no buffer, putters meet getters
)

// zeroKind is qcore's type parameter K: what a zero value becomes on first
// use (an unbounded FIFO Queue, or a Channel). It lives in the type so that
// the zero values need no constructor and cost nothing at run time.
type zeroKind interface{ zeroKind() qkind }

type (
	queueKind struct{}
	chanKind  struct{}
)

func (queueKind) zeroKind() qkind { return qBuffered }
func (chanKind) zeroKind() qkind  { return qRendezvous }

// qcore is the machinery shared by Queue and Channel. Its invariants, under
// mu: getters wait only while the buffer is empty (a put hands its item
// straight to the first live getter); putters wait only while the buffer is
// full (a get moves the first live putter's item into the freed slot), or,
// on a Channel, while no getter waits. So every waiter is served FIFO, and a
// new caller never overtakes one that is already blocked.
type qcore[T any, K zeroKind] struct {
	mu         sync.Mutex
	kind       qkind
	buf        store[T] // nil on a Channel
	fifo       *fifo[T] // buf, when it is a ring: called directly, without the interface, on the hot path
	n          int      // items in buf, kept here to spare the hot path calls through the interface
	limit      int      // most items buf may hold; math.MaxInt when unbounded
	getters    waitList[T]
	putters    waitList[T]
	peekers    waitList[T]
	subs       waitList[T] // Subscribe callbacks (queue_wait.go), fired when an item arrives
	shut       bool
	unfinished int   // items put and not yet marked done
	idle       Event // raised while unfinished == 0 (Queue only)
}

func (q *qcore[T, K]) lock() {
	q.mu.Lock()
	if q.kind == qZero {
		q.initZeroLocked()
	}
}

// initZeroLocked makes a zero value what K says on its first use: an
// unbounded FIFO Queue (NewQueue(0)) or a Channel (NewChannel).
func (q *qcore[T, K]) initZeroLocked() {
	var k K
	q.kind = k.zeroKind()
	if q.kind == qBuffered {
		q.fifo = &fifo[T]{}
		q.buf = q.fifo
		q.limit = math.MaxInt
		q.idle.Set()
	}
}

// Put adds v, blocking while the queue is full (on a Channel: until a getter
// takes v). Blocked putters are served FIFO. It returns ErrQueueShutDown,
// without adding v, if the queue is or gets shut down, and ctx's cause if
// ctx is done first; then v was not added. A put that can proceed at once
// does so whatever ctx's state. From a greenlet a blocking Put is a
// cooperative point and a kill lands there; on a Channel, Put also yields
// after handing v to a waiting getter, so the getter runs first (gevent's
// Channel).
func (q *qcore[T, K]) Put(ctx context.Context, v T) error {
	return q.put(ctx, v, true)
}

// TryPut adds v if that needs no waiting, else returns ErrFull (on a
// Channel: unless a getter is waiting). It returns ErrQueueShutDown after a
// shutdown. It never blocks or yields.
func (q *qcore[T, K]) TryPut(v T) error {
	return q.put(context.Background(), v, false)
}

func (q *qcore[T, K]) put(ctx context.Context, v T, wait bool) error {
	q.lock()
	if q.shut {
		q.mu.Unlock()
		return ErrQueueShutDown
	}
	if q.getters.n > 0 && q.getters.wakeFirst(func(n *waitNode[T]) { n.val = v }) != nil {
		q.addTaskLocked()
		q.mu.Unlock()
		if wait && q.kind == qRendezvous {
			Yield(ctx) // the item is delivered; a kill landing here loses nothing
		}
		return nil
	}
	if q.n < q.limit {
		q.pushLocked(v)
		if q.peekers.n > 0 {
			q.peekers.wakeAll(nil)
		}
		if q.subs.n > 0 {
			q.fireSubs() // unlocks
			return nil
		}
		q.mu.Unlock()
		return nil
	}
	if !wait {
		q.mu.Unlock()
		return ErrFull
	}
	n, err := block(ctx, &q.mu, &q.putters, v, "queue.put")
	if err != nil {
		return err
	}
	return n.err
}

// Get removes and returns the next item, blocking while the queue is empty
// (on a Channel: until a putter offers one). Blocked getters are served
// FIFO. After a shutdown it still returns the remaining items, then
// ErrQueueShutDown. It returns ctx's cause if ctx is done first, and then
// it has taken nothing. A get that can proceed at once does so whatever
// ctx's state. From a greenlet a blocking Get is a cooperative point and a
// kill lands there.
func (q *qcore[T, K]) Get(ctx context.Context) (T, error) {
	return q.get(ctx, true)
}

// TryGet removes and returns the next item if there is one (on a Channel:
// if a putter is waiting), else returns ErrEmpty, or ErrQueueShutDown once
// the queue is shut down and empty. It never blocks.
func (q *qcore[T, K]) TryGet() (T, error) {
	return q.get(context.Background(), false)
}

func (q *qcore[T, K]) get(ctx context.Context, wait bool) (T, error) {
	var zero T
	q.lock()
	if q.n > 0 {
		var v T
		if q.fifo != nil {
			v = q.fifo.pop()
		} else {
			v = q.buf.pop()
		}
		q.n--
		if q.putters.n > 0 {
			if n := q.putters.wakeFirst(nil); n != nil {
				q.pushLocked(n.val)
			}
		}
		q.mu.Unlock()
		return v, nil
	}
	if n := q.putters.wakeFirst(nil); n != nil { // a Channel: take it from the putter
		q.addTaskLocked()
		q.mu.Unlock()
		return n.val, nil
	}
	if q.shut {
		q.mu.Unlock()
		return zero, ErrQueueShutDown
	}
	if !wait {
		q.mu.Unlock()
		return zero, ErrEmpty
	}
	n, err := block(ctx, &q.mu, &q.getters, zero, "queue.get")
	if err != nil {
		return zero, err
	}
	return n.val, n.err
}

// All returns an iterator over the items as Get returns them, for use with
// range. It ends when the queue is shut down and drained, or when ctx is done
// (check ctx.Err to tell the two apart). A kill lands in it as in Get.
func (q *qcore[T, K]) All(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, err := q.Get(ctx)
			if err != nil || !yield(v) {
				return
			}
		}
	}
}

// Shutdown shuts the queue down, gevent's (and Python's) shutdown(): every
// later put fails with ErrQueueShutDown, and so does every blocked putter,
// at once, keeping its item. Getters still receive the items already in the
// queue; once it is empty, gets fail with ErrQueueShutDown, including the
// blocked ones, and All ends. Shutdown never blocks; calling it again does
// nothing more.
func (q *qcore[T, K]) Shutdown() { q.shutdown(false) }

func (q *qcore[T, K]) shutdown(immediate bool) []T {
	q.lock()
	defer q.fireSubs()
	q.shut = true
	var dropped []T
	if immediate {
		for ; q.n > 0; q.n-- {
			dropped = append(dropped, q.buf.pop())
		}
		q.unfinished = max(0, q.unfinished-len(dropped))
		if q.unfinished == 0 {
			q.idle.Set()
		}
	}
	q.getters.wakeAll(ErrQueueShutDown)
	q.putters.wakeAll(ErrQueueShutDown)
	q.peekers.wakeAll(ErrQueueShutDown)
	return dropped
}

// pushLocked adds an item to the buffer, which has room, and counts it as
// an unfinished task.
func (q *qcore[T, K]) pushLocked(v T) {
	if q.fifo != nil {
		q.fifo.push(v)
	} else {
		q.buf.push(v)
	}
	q.n++
	q.addTaskLocked()
}

func (q *qcore[T, K]) addTaskLocked() {
	q.unfinished++
	if q.unfinished == 1 {
		q.idle.Clear()
	}
}

// Queue is a cooperative queue of items of type T: gevent's Queue (FIFO,
// joinable), LifoQueue and PriorityQueue, depending on the constructor. A
// Queue is bounded (Put blocks while it holds Cap items) or unbounded.
// Blocked putters and getters are served FIFO whatever the order of the
// items. It is safe for use by greenlets of any hub and by plain goroutines;
// from a greenlet, every call that blocks parks only that greenlet.
//
// Every item put counts as an unfinished task until a TaskDone call marks it
// done; Join waits for the count to reach zero (gevent's JoinableQueue).
// Shutdown and ShutdownNow end a Queue's life.
//
// The zero Queue is an empty, unbounded FIFO queue, the same as NewQueue(0);
// the constructors make the other kinds and bounded queues. A Queue must not
// be copied after first use.
type Queue[T any] struct {
	qcore[T, queueKind]
}

// NewQueue returns an empty FIFO queue that holds at most capacity items;
// capacity 0 means unbounded (gevent: maxsize None). A negative capacity is
// a programming error and panics.
func NewQueue[T any](capacity int) *Queue[T] {
	return newQueue[T](capacity, &fifo[T]{})
}

// NewLifoQueue returns an empty last-in, first-out queue (gevent's
// LifoQueue: put 3, 1, 2 gets 2, 1, 3); capacity as for NewQueue.
func NewLifoQueue[T any](capacity int) *Queue[T] {
	return newQueue[T](capacity, &stack[T]{})
}

// NewPriorityQueue returns an empty queue whose Get returns the least item
// first (gevent's PriorityQueue); equal items come out in the order they were
// put. Capacity as for NewQueue.
func NewPriorityQueue[T cmp.Ordered](capacity int) *Queue[T] {
	return NewPriorityQueueFunc(capacity, cmp.Compare[T])
}

// NewPriorityQueueFunc is NewPriorityQueue ordered by cmp, which returns a
// negative number when a comes before b, zero when they are equal and a
// positive number otherwise (as for slices.SortFunc). A nil cmp panics.
func NewPriorityQueueFunc[T any](capacity int, cmp func(a, b T) int) *Queue[T] {
	if cmp == nil {
		panic("hub: NewPriorityQueueFunc with a nil cmp")
	}
	return newQueue[T](capacity, &prioHeap[T]{cmp: cmp})
}

func newQueue[T any](capacity int, buf store[T]) *Queue[T] {
	if capacity < 0 {
		panic(fmt.Sprintf("hub: negative queue capacity %d", capacity))
	}
	q := &Queue[T]{qcore[T, queueKind]{kind: qBuffered, buf: buf, limit: capacity}}
	q.fifo, _ = buf.(*fifo[T])
	if capacity == 0 {
		q.limit = math.MaxInt
	}
	q.idle.Set()
	return q
}

// Peek returns the item Get would return next, without removing it,
// blocking while the queue is empty. It returns ErrQueueShutDown once the
// queue is shut down and empty, and ctx's cause if ctx is done first. From a
// greenlet a blocking Peek is a cooperative point and a kill lands there.
func (q *Queue[T]) Peek(ctx context.Context) (T, error) {
	for {
		q.lock()
		if v, err := q.peekLocked(); err != ErrEmpty {
			q.mu.Unlock()
			return v, err
		}
		var zero T
		if _, err := block(ctx, &q.mu, &q.peekers, zero, "queue.peek"); err != nil {
			return zero, err
		}
		// Woken by a put (or a shutdown): look again; a getter may have
		// taken the item first.
	}
}

// TryPeek returns the item Get would return next, without removing it, or
// ErrEmpty (ErrQueueShutDown once shut down and empty). It never blocks.
func (q *Queue[T]) TryPeek() (T, error) {
	q.lock()
	defer q.mu.Unlock()
	return q.peekLocked()
}

func (q *Queue[T]) peekLocked() (T, error) {
	var zero T
	switch {
	case q.n > 0:
		return q.buf.peek(), nil
	case q.shut:
		return zero, ErrQueueShutDown
	}
	return zero, ErrEmpty
}

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int {
	q.lock()
	defer q.mu.Unlock()
	return q.n
}

// Cap returns the queue's capacity; 0 means unbounded.
func (q *Queue[T]) Cap() int {
	q.lock() // a zero queue sets its limit on first use
	defer q.mu.Unlock()
	if q.limit == math.MaxInt {
		return 0
	}
	return q.limit
}

// TaskDone marks one item taken from the queue as processed. When every
// item ever put has been marked done, Join returns. Calling it more times
// than items were put returns ErrTaskDone and changes nothing. It never
// blocks.
func (q *Queue[T]) TaskDone() error {
	q.lock()
	defer q.mu.Unlock()
	if q.unfinished == 0 {
		return ErrTaskDone
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.idle.Set()
	}
	return nil
}

// Join blocks until every item put has been marked done with TaskDone (at
// once if nothing is unfinished, even on a queue never used) and returns
// nil, or returns ctx's cause if ctx is done first. From a greenlet it is a
// cooperative point and a kill lands here.
func (q *Queue[T]) Join(ctx context.Context) error {
	q.lock()
	q.mu.Unlock()
	return q.idle.Wait(ctx)
}

// ShutdownNow is Shutdown, except that the items still in the queue are
// removed (and counted as done for Join) and returned to the caller, in the
// order Get would have returned them, so that nothing is dropped silently;
// gets fail with ErrQueueShutDown at once. It never blocks.
func (q *Queue[T]) ShutdownNow() []T { return q.shutdown(true) }

// Channel is a rendezvous queue without a buffer, gevent's Channel: Put
// blocks until a getter takes the item and Get until a putter offers one.
// TryPut succeeds only if a getter is already waiting, TryGet only if a
// putter is. Putters and getters are served FIFO. After Shutdown, puts and
// gets fail with ErrQueueShutDown. It is safe for use by greenlets of any hub
// and by plain goroutines; from a greenlet it parks only that greenlet, so
// unlike a plain Go channel it cannot deadlock two greenlets of one hub.
//
// The zero Channel is ready to use. A Channel must not be copied after first
// use.
type Channel[T any] struct {
	qcore[T, chanKind]
}

// NewChannel returns a Channel, the same as new(Channel[T]).
func NewChannel[T any]() *Channel[T] {
	return &Channel[T]{qcore[T, chanKind]{kind: qRendezvous}}
}
