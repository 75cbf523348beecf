package spawn

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sync"

	"github.com/gevent-go/gevent/hub"
)

// Waitable is anything Wait and IWait can wait on: greenlets, and the hub's
// Event, AsyncResult, Queue, semaphores and locks (hub.Waitable, which
// hub.Select waits on too).
type Waitable = hub.Waitable

// Handle is the untyped view of a *Greenlet[T], for collections of greenlets
// of different result types.
type Handle interface {
	Waitable
	ID() uint64
	Name() string
	Err() error
	Successful() bool
	Started() bool
	KillAsync(cause error)
	Join(ctx context.Context) error
	Kill(ctx context.Context, cause error) error
	G() *hub.G
	readySeq() uint64
	consume() (release func(handed bool))
}

var _ Handle = (*Greenlet[int])(nil)

// readyOrder collects the indexes of objects in the order they become ready,
// and wakes one cooperative waiter at a time.
type readyOrder struct {
	mu      sync.Mutex
	order   []int
	pos     int
	w       *hub.Waiter
	cancels []func()
}

func watch[H Waitable](objs []H) *readyOrder {
	r := &readyOrder{cancels: make([]func(), 0, len(objs))}
	for i, o := range objs {
		r.cancels = append(r.cancels, o.Subscribe(func() {
			r.mu.Lock()
			r.order = append(r.order, i)
			w := r.w
			r.w = nil
			r.mu.Unlock()
			if w != nil {
				w.Wake()
			}
		}))
	}
	return r
}

// next returns the index of the next object to become ready, waiting for it
// cooperatively, or ctx's cause.
func (r *readyOrder) next(ctx context.Context) (int, error) {
	for {
		r.mu.Lock()
		if r.pos < len(r.order) {
			i := r.order[r.pos]
			r.pos++
			r.mu.Unlock()
			return i, nil
		}
		w := hub.NewWaiter(ctx)
		r.w = w
		r.mu.Unlock()
		if err := w.Park(ctx, "wait", func() {
			r.mu.Lock()
			if r.w == w {
				r.w = nil
			}
			r.mu.Unlock()
		}); err != nil {
			return -1, err
		}
	}
}

func (r *readyOrder) stop() {
	for _, c := range r.cancels {
		c()
	}
}

// A JoinOption modifies JoinAll, and the Join of a pool.Group or pool.Pool
// (which always waits for every member: there JoinCount changes nothing).
type JoinOption interface{ applyJoin(*joinOptions) }

type joinOptionFunc func(*joinOptions)

func (f joinOptionFunc) applyJoin(o *joinOptions) { f(o) }

type joinOptions struct {
	count      int
	raiseError bool
}

// JoinCount makes JoinAll return once n greenlets are ready (n <= 0: all).
func JoinCount(n int) JoinOption { return joinOptionFunc(func(o *joinOptions) { o.count = n }) }

// RaiseError makes JoinAll return at once with the error of the first
// greenlet to finish with an error (by finishing order); the others keep
// running. A pool's Join given it returns that error once the pool is empty
// (gevent's Group.join(raise_error=True)).
func RaiseError() JoinOption { return joinOptionFunc(func(o *joinOptions) { o.raiseError = true }) }

// JoinAll waits until all of gs (or JoinCount of them) are ready and returns
// the ready ones in the order they finished (gevent's joinall). If ctx ends
// first it returns those that finished so far and ctx's cause. With
// RaiseError it returns at the first failure with that greenlet's error. It is
// a cooperative point. A nil entry is a programming error: JoinAll panics.
func JoinAll[H Handle](ctx context.Context, gs []H, opts ...JoinOption) ([]H, error) {
	var o joinOptions
	for _, opt := range opts {
		opt.applyJoin(&o)
	}
	mustNonNil(gs, "JoinAll")
	want := len(gs)
	if o.count > 0 && o.count < want {
		want = o.count
	}
	if want == len(gs) && !o.raiseError {
		return joinEach(ctx, gs)
	}
	if o.raiseError {
		// The first failure is handed to the caller: it is observed. A
		// failure of another one meanwhile is reported when this returns.
		handed := -1
		releases := make([]func(bool), len(gs))
		for i, g := range gs {
			releases[i] = g.consume()
		}
		defer func() {
			for i, release := range releases {
				release(i == handed)
			}
		}()
		return joinRaise(ctx, gs, want, &handed)
	}
	return joinRaise(ctx, gs, want, nil)
}

// joinRaise waits for want of gs in finishing order. With handed non-nil
// (RaiseError) it returns at the first failure and sets *handed to its index.
func joinRaise[H Handle](ctx context.Context, gs []H, want int, handed *int) ([]H, error) {
	r := watch(gs)
	defer r.stop()
	done := make([]H, 0, want)
	for len(done) < want {
		i, err := r.next(ctx)
		if err != nil {
			return done, err
		}
		done = append(done, gs[i])
		if handed != nil {
			if err := gs[i].Err(); err != nil {
				*handed = i
				return done, err
			}
		}
	}
	return done, hub.Checkpoint(ctx)
}

// joinEach joins every greenlet in turn, which needs no subscription for
// those already done, then orders them by when they became ready.
func joinEach[H Handle](ctx context.Context, gs []H) ([]H, error) {
	var err error
	for _, g := range gs {
		if err = g.Join(ctx); err != nil {
			break
		}
	}
	// Each greenlet's seq is read once (it takes the greenlet's lock), not
	// at every comparison of the sort.
	type seqd struct {
		seq uint64
		g   H
	}
	ready := make([]seqd, 0, len(gs))
	for _, g := range gs {
		if s := g.readySeq(); s != 0 {
			ready = append(ready, seqd{s, g})
		}
	}
	slices.SortFunc(ready, func(a, b seqd) int { return cmp.Compare(a.seq, b.seq) })
	done := make([]H, len(ready))
	for i, r := range ready {
		done[i] = r.g
	}
	if err != nil {
		return done, err
	}
	return done, hub.Checkpoint(ctx)
}

// KillAll kills every greenlet of gs (never-started ones never run; their
// links fire now) and waits until all are dead, or returns ctx's cause if ctx
// ends first (the survivors keep running). cause nil is the default kill. It
// is a cooperative point.
func KillAll[H Handle](ctx context.Context, gs []H, cause error) error {
	mustNonNil(gs, "KillAll")
	for _, g := range gs {
		g.KillAsync(cause)
	}
	_, err := JoinAll(ctx, gs)
	return err
}

// Wait returns the objects that become ready, in ready order, once count of
// them are (count <= 0: all), and nil; if ctx ends first, what is ready by
// then and ctx's cause. It is a cooperative point and a kill lands there.
// gevent's wait(objects, count=...).
func Wait[H Waitable](ctx context.Context, objs []H, count int) ([]H, error) {
	mustNonNil(objs, "Wait")
	if count <= 0 || count > len(objs) {
		count = len(objs)
	}
	r := watch(objs)
	defer r.stop()
	out := make([]H, 0, count)
	for len(out) < count {
		i, err := r.next(ctx)
		if err != nil {
			return out, err
		}
		out = append(out, objs[i])
	}
	return out, nil
}

// IWait yields the objects in the order they become ready (gevent's iwait),
// each with a nil error, for use with for range. If ctx ends first it yields
// a zero H with ctx's cause, once, and ends. The iteration also ends when
// every object was yielded or the loop breaks; the subscriptions are removed
// then. Each step is a cooperative point and a kill lands there.
func IWait[H Waitable](ctx context.Context, objs []H) iter.Seq2[H, error] {
	mustNonNil(objs, "IWait")
	return func(yield func(H, error) bool) {
		r := watch(objs)
		defer r.stop()
		for range objs {
			i, err := r.next(ctx)
			if err != nil {
				var zero H
				yield(zero, err)
				return
			}
			if !yield(objs[i], nil) {
				return
			}
		}
	}
}

// mustNonNil panics, naming the call and the index, on a nil entry (a nil
// interface or a nil *Greenlet): a programming error, caught at the call.
func mustNonNil[H Waitable](objs []H, call string) {
	for i, o := range objs {
		if isNil(o) {
			panic(fmt.Sprintf("spawn: %s with a nil entry at index %d", call, i))
		}
	}
}

func isNil(o any) bool {
	if o == nil {
		return true
	}
	if n, ok := o.(interface{ isNil() bool }); ok {
		return n.isNil()
	}
	v := reflect.ValueOf(o) // a nil *hub.Event, say
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func (gr *Greenlet[T]) isNil() bool { return gr == nil }
