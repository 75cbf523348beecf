package pool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// ErrPoolFull is matched (errors.Is) by the error of a call that found no
// free slot: at once for TryAdd, or when ctx ended first for Add and Apply,
// and for the greenlet that Spawn or Go return then (the error matches ctx's
// cause too). gevent's PoolFull.
var ErrPoolFull = errors.New("pool: pool is full")

func fullError(cause error) error { return fmt.Errorf("%w (%w)", ErrPoolFull, cause) }

// Unbounded is the size of a pool with no limit: New(Unbounded) never
// blocks, and its FreeCount stays huge. gevent's Pool(None).
const Unbounded = math.MaxInt

// Spawner is a *Group or a *Pool: where Spawn, Apply, ApplyAsync, Map, IMap
// and IMapUnordered start their greenlets.
type Spawner interface{ core() *set }

var (
	_ Spawner = (*Group)(nil)
	_ Spawner = (*Pool)(nil)
)

// Group is a set of greenlets that tracks the live ones: a member drops out
// as soon as its greenlet is ready (finished, failed or killed). It has no
// size limit, so nothing on it blocks for room. gevent's gevent.pool.Group.
//
// The zero value is an empty group ready to use; it spawns on the caller's
// hub. A Group is safe for concurrent use.
type Group struct{ set }

// NewGroup returns an empty group, the same as new(Group).
func NewGroup() *Group { return &Group{} }

// Add makes g a member (nothing happens if it is one already); a greenlet
// that is ready already drops out at once. It never blocks. Add panics if g
// is nil.
func (gr *Group) Add(g spawn.Handle) { _ = gr.addFree(g) }

// Pool is a Group with a size: at most Size members at a time. Spawn, Apply,
// Add and the maps wait cooperatively, in FIFO order, for a slot when the
// pool is full; a slot frees when its member's greenlet ends or is
// discarded. gevent's gevent.pool.Pool.
//
// The zero value is not a pool (it has no size): create pools with New. A
// Pool is safe for concurrent use.
type Pool struct{ set }

// New returns a pool of size slots. Size 0 makes a pool in which nothing can
// start (Spawn blocks until ctx ends); Unbounded makes a pool without a
// limit. New panics if size is negative, a programming error (gevent raises
// ValueError).
func New(size int) *Pool {
	if size < 0 {
		panic(fmt.Sprintf("pool: negative size %d", size))
	}
	p := &Pool{set{bounded: size != Unbounded, size: size}}
	return p
}

// Add makes g a member, waiting cooperatively in FIFO order for a free slot
// (nothing happens if g is a member already). If ctx ends first it returns an
// error that matches ErrPoolFull and ctx's cause, and g is not added: use a
// deadline for gevent's add(g, timeout=...). A kill of the calling greenlet
// lands here. Add panics if g is nil.
func (p *Pool) Add(ctx context.Context, g spawn.Handle) error {
	mustHandle(g)
	if p.Contains(g) {
		return nil
	}
	if err := p.acquire(ctx); err != nil {
		return err
	}
	if p.add(g, true) == nil {
		p.release() // a concurrent Add made it a member first
	}
	return nil
}

// TryAdd is Add without waiting: it returns ErrPoolFull at once if no slot is
// free (gevent's add(g, blocking=False)). It panics if g is nil.
func (p *Pool) TryAdd(g spawn.Handle) error { return p.addFree(g) }

// Size returns the number of slots (Unbounded for a pool without a limit).
func (p *Pool) Size() int { return p.limit() }

// FreeCount returns the number of free slots. It does not block beyond a
// short lock.
func (p *Pool) FreeCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limit() - p.used
}

// Full reports whether no slot is free. It does not block beyond a short
// lock.
func (p *Pool) Full() bool { return p.FreeCount() == 0 }

// WaitAvailable waits until a slot is free and returns the number of free
// slots, without taking one; or it returns 0 and ctx's cause if ctx ends
// first. A slot freed while callers queue for one goes to them, so it does
// not count. From a greenlet it is a cooperative point: a kill of the caller
// lands here.
func (p *Pool) WaitAvailable(ctx context.Context) (int, error) {
	for {
		p.mu.Lock()
		if n := p.limit() - p.used; n > 0 && p.queued == 0 {
			p.mu.Unlock()
			return n, nil
		}
		w := hub.NewWaiter(ctx)
		p.avail = append(p.avail, w)
		p.mu.Unlock()
		err := w.Park(ctx, "pool.wait_available", func() {
			p.mu.Lock()
			p.avail = slices.DeleteFunc(p.avail, func(a *hub.Waiter) bool { return a == w })
			p.mu.Unlock()
		})
		if err != nil {
			return 0, err
		}
	}
}
