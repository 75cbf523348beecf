package pool

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"

	"github.com/gevent-go/gevent/internal/ring"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// entry is one member of a set.
type entry struct {
	h          spawn.Handle
	g          *hub.G
	prev, next *entry
	unsub      func()
	slot       bool     // holds one of the set's slots
	req        *slotReq // its queued slot request (ApplyAsync on a full pool)
}

// slotReq asks for a slot while none is free. Requests are served FIFO: a
// freed slot passes straight to the oldest one, so a newcomer can never take
// it first. A blocked caller waits on w; an asynchronous request (ApplyAsync,
// a map asking for another worker) gets its slot through grant, which the
// releaser calls outside the lock.
type slotReq struct {
	w       *hub.Waiter
	grant   func()
	settled bool // granted or withdrawn; guarded by set.mu
}

type joiner struct {
	w    *hub.Waiter
	self *hub.G // the joining greenlet: it does not wait for itself
}

// set is the core shared by Group and Pool: the live members, in the order
// they were added, and the slot accounting (a Group is a set with no bound).
// Every method is safe for concurrent use; no method calls back into user
// code (a greenlet's Subscribe, Kill or Start, a grant) with mu held, because
// those may fire links that come back here. Waking a Waiter under mu is fine:
// it only takes the hub's lock. Lock order: a map's engine.mu, then mu, then
// the hub's.
type set struct {
	bounded bool
	size    int

	mu         sync.Mutex
	members    map[*hub.G]*entry
	head, tail *entry
	used       int                 // slots held by members or handed to a grant
	reqs       ring.Ring[*slotReq] // FIFO; may hold settled requests, skipped
	queued     int                 // unsettled requests in reqs
	joiners    []joiner
	avail      []*hub.Waiter // WaitAvailable callers
}

func (s *set) core() *set { return s }

func (s *set) limit() int {
	if !s.bounded {
		return Unbounded
	}
	return s.size
}

// tryAcquireLocked takes a free slot unless none is free or others queue for
// one already.
func (s *set) tryAcquireLocked() bool {
	if s.queued > 0 || s.used >= s.limit() {
		return false
	}
	s.used++
	return true
}

func (s *set) tryAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tryAcquireLocked()
}

// acquire takes a slot, waiting in FIFO order for one to free. If ctx ends
// first it returns an error matching ErrPoolFull and ctx's cause; a kill of
// the calling greenlet lands here.
func (s *set) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.tryAcquireLocked() {
		s.mu.Unlock()
		return nil
	}
	r := &slotReq{w: hub.NewWaiter(ctx)}
	s.pushLocked(r)
	s.mu.Unlock()
	// nil: the releaser handed its slot over.
	if err := r.w.Park(ctx, "pool.slot", func() { s.withdraw(r) }); err != nil {
		return fullError(err)
	}
	return nil
}

// request asks for a slot without blocking. It reports true if a slot was
// free and is now the caller's; otherwise r is queued and its grant will be
// called with the slot, unless r is withdrawn first.
func (s *set) request(grant func()) (r *slotReq, now bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tryAcquireLocked() {
		return nil, true
	}
	r = &slotReq{grant: grant}
	s.pushLocked(r)
	return r, false
}

func (s *set) pushLocked(r *slotReq) {
	s.reqs.Push(r)
	s.queued++
}

// withdraw cancels r and reports whether it was still queued (false: it was
// granted, and the slot is, or is on its way to, its requester).
func (s *set) withdraw(r *slotReq) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.withdrawLocked(r)
}

func (s *set) withdrawLocked(r *slotReq) bool {
	if r.settled {
		return false
	}
	r.settled = true
	s.queued--
	// Settled requests stay in the ring until popped; compact it when they
	// dominate, so a pool whose head request never moves (size 0) does not
	// grow with every caller that gave up.
	if dead := s.reqs.Len() - s.queued; dead > 32 && dead > s.queued {
		var live ring.Ring[*slotReq]
		for s.reqs.Len() > 0 {
			if q := s.reqs.Pop(); !q.settled {
				live.Push(q)
			}
		}
		s.reqs = live
	}
	return true
}

// releaseLocked frees one slot: it goes to the oldest queued request, if any.
// A grant it returns must be called after unlocking.
func (s *set) releaseLocked() (grant func()) {
	for s.queued > 0 {
		r := s.reqs.Pop()
		if r.settled {
			continue
		}
		r.settled = true
		s.queued--
		if r.grant != nil {
			return r.grant
		}
		if r.w.Wake() {
			return nil
		}
		// The waiter was cancelled in the meantime: try the next one.
	}
	s.used--
	for _, w := range s.avail {
		w.Wake()
	}
	s.avail = nil
	return nil
}

func (s *set) release() {
	s.mu.Lock()
	grant := s.releaseLocked()
	s.mu.Unlock()
	if grant != nil {
		grant()
	}
}

// add makes h a member; slot says it holds a slot the caller acquired.
// It returns nil, having taken nothing, if h is a member already.
func (s *set) add(h spawn.Handle, slot bool) *entry {
	g := h.G()
	e := &entry{h: h, g: g, slot: slot}
	s.mu.Lock()
	if s.members[g] != nil {
		s.mu.Unlock()
		return nil
	}
	if s.members == nil {
		s.members = make(map[*hub.G]*entry)
	}
	s.members[g] = e
	e.prev = s.tail
	if s.tail != nil {
		s.tail.next = e
	} else {
		s.head = e
	}
	s.tail = e
	s.mu.Unlock()
	// Subscribing may run the callback at once (h is dead already); it finds
	// e in the set and removes it.
	unsub := h.Subscribe(func() { s.dead(e) })
	s.mu.Lock()
	if s.members[g] == e {
		e.unsub, unsub = unsub, nil
	}
	s.mu.Unlock()
	if unsub != nil {
		unsub() // e left the set meanwhile (died or was discarded)
	}
	return e
}

// addFree makes h a member if a slot is free; a member already is fine.
func (s *set) addFree(h spawn.Handle) error {
	mustHandle(h)
	if s.Contains(h) {
		return nil
	}
	if !s.tryAcquire() {
		return ErrPoolFull
	}
	if s.add(h, true) == nil {
		s.release()
	}
	return nil
}

// removeLocked takes e out of the set; a grant it returns must be called
// after unlocking.
func (s *set) removeLocked(e *entry) (grant func()) {
	delete(s.members, e.g)
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
	if e.req != nil {
		s.withdrawLocked(e.req)
		e.req = nil
	}
	if e.slot {
		e.slot = false
		grant = s.releaseLocked()
	}
	s.wakeJoinersLocked()
	return grant
}

// dead runs when member e's greenlet is ready: it leaves the set, frees its
// slot, and its failure is reported unless a caller receives it.
func (s *set) dead(e *entry) {
	s.mu.Lock()
	if s.members[e.g] != e {
		s.mu.Unlock()
		return
	}
	grant := s.removeLocked(e)
	s.mu.Unlock()
	if grant != nil {
		grant()
	}
}

// startWhenFree calls start for member e now if a slot is free, else when
// one is granted to it; it never blocks.
func (s *set) startWhenFree(e *entry, start func()) {
	var r *slotReq
	r = &slotReq{grant: func() { s.grantTo(e, r, start) }}
	s.mu.Lock()
	if s.members[e.g] != e {
		s.mu.Unlock()
		return // killed already
	}
	if s.tryAcquireLocked() {
		e.slot = true
		s.mu.Unlock()
		start()
		return
	}
	e.req = r
	s.pushLocked(r)
	s.mu.Unlock()
}

func (s *set) grantTo(e *entry, r *slotReq, start func()) {
	s.mu.Lock()
	if s.members[e.g] != e || e.req != r {
		// e died or was discarded while the slot was on its way.
		grant := s.releaseLocked()
		s.mu.Unlock()
		if grant != nil {
			grant()
		}
		return
	}
	e.req = nil
	e.slot = true
	s.mu.Unlock()
	start()
}

func (s *set) emptyForLocked(self *hub.G) bool {
	n := len(s.members)
	return n == 0 || n == 1 && self != nil && s.members[self] != nil
}

func (s *set) wakeJoinersLocked() {
	if len(s.joiners) == 0 {
		return
	}
	kept := s.joiners[:0]
	for _, j := range s.joiners {
		if s.emptyForLocked(j.self) {
			j.w.Wake()
		} else {
			kept = append(kept, j)
		}
	}
	clear(s.joiners[len(kept):])
	s.joiners = kept
}

// waitEmpty waits until the set holds no member but the caller itself.
func (s *set) waitEmpty(ctx context.Context) error {
	self := hub.Current(ctx)
	for {
		s.mu.Lock()
		if s.emptyForLocked(self) {
			s.mu.Unlock()
			return nil
		}
		w := hub.NewWaiter(ctx)
		s.joiners = append(s.joiners, joiner{w: w, self: self})
		s.mu.Unlock()
		err := w.Park(ctx, "pool.join", func() {
			s.mu.Lock()
			s.joiners = slices.DeleteFunc(s.joiners, func(j joiner) bool { return j.w == w })
			s.mu.Unlock()
		})
		if err != nil {
			return err
		}
	}
}

func (s *set) snapshot() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*entry, 0, len(s.members))
	for e := s.head; e != nil; e = e.next {
		out = append(out, e)
	}
	return out
}

func (s *set) holds(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.members[e.g] == e
}

func (s *set) containsG(g *hub.G) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.members[g] != nil
}

// Len returns the number of live members. A member drops out when its
// greenlet is ready (finished, failed or killed) or is discarded. It does not
// block beyond a short lock.
func (s *set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.members)
}

// Contains reports whether g is a live member. It does not block beyond a
// short lock.
func (s *set) Contains(g spawn.Handle) bool {
	if isNil(g) {
		return false
	}
	return s.containsG(g.G())
}

// Discard removes g from the set without killing it, and frees its slot. A
// non-member is ignored. A member still queued for a slot (ApplyAsync) then
// never starts unless its owner starts it. It never blocks.
func (s *set) Discard(g spawn.Handle) {
	if isNil(g) {
		return
	}
	s.mu.Lock()
	e := s.members[g.G()]
	if e == nil {
		s.mu.Unlock()
		return
	}
	grant := s.removeLocked(e)
	unsub := e.unsub
	s.mu.Unlock()
	if unsub != nil {
		unsub()
	}
	if grant != nil {
		grant()
	}
}

// All yields the live members in the order they were added, for use with for
// range. It iterates over a snapshot, skipping members that left the set
// meanwhile, so the loop body may block, spawn, kill or discard. It never
// blocks by itself.
func (s *set) All() iter.Seq[spawn.Handle] {
	return func(yield func(spawn.Handle) bool) {
		for _, e := range s.snapshot() {
			if s.holds(e) && !yield(e.h) {
				return
			}
		}
	}
}

// Join waits until the set is empty and returns nil, or returns ctx's cause
// if ctx ends first. Called from a member greenlet it does not wait for the
// caller itself. It takes spawn's join options: with spawn.RaiseError it
// still waits until the set is empty, then returns the error of the first
// member present at the call to fail, by finishing order (gevent's
// join(raise_error=True)); that failure is handed to the caller, so the hub
// does not report it. spawn.JoinCount changes nothing: Join always waits for
// every member. Without RaiseError it never returns a member's error. From a
// greenlet it is a cooperative point: a kill of the caller lands here.
func (s *set) Join(ctx context.Context, opts ...spawn.JoinOption) error {
	var failed error
	if len(opts) > 0 {
		self := hub.Current(ctx)
		// A kill of the caller lands in JoinAll; its error is ctx's cause
		// or, with RaiseError, a member's.
		if _, err := spawn.JoinAll(ctx, s.others(self), opts...); err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed = err
		}
	}
	if err := s.waitEmpty(ctx); err != nil {
		return errors.Join(err, failed) // the member's error was handed over: keep it
	}
	return failed
}

// others returns the members other than self.
func (s *set) others(self *hub.G) []spawn.Handle {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]spawn.Handle, 0, len(s.members))
	for e := s.head; e != nil; e = e.next {
		if e.g != self {
			out = append(out, e.h)
		}
	}
	return out
}

// Kill kills every member with cause (nil is the default kill, a success)
// and waits until they are dead; members added meanwhile are killed too, so
// Kill returns with the set empty, or with ctx's cause if ctx ends first (the
// survivors live on, as greenlets that swallow the kill do). Members that
// never started never run. Called from a member greenlet, Kill kills the
// others first and the caller last: that kill lands when Kill returns. It is
// a cooperative point.
func (s *set) Kill(ctx context.Context, cause error) error {
	self := hub.Current(ctx)
	for {
		hs := s.others(self)
		if len(hs) == 0 {
			break
		}
		if err := spawn.KillAll(ctx, hs, cause); err != nil {
			return err
		}
	}
	if self != nil && s.containsG(self) {
		self.Kill(cause)
		return hub.Checkpoint(ctx)
	}
	return nil
}

// KillAsync kills every current member with cause (nil is the default kill)
// and returns at once: running members stop at their next cooperative point,
// so Len is unchanged until they do; members that never started end now,
// without running. A member killed already is not killed again.
func (s *set) KillAsync(cause error) {
	for _, e := range s.snapshot() {
		e.h.KillAsync(cause)
	}
}

// KillOne kills g with cause if it is a member, and waits until it is dead
// or ctx ends (then it returns ctx's cause). A non-member is left alone. It
// is a cooperative point; killing the calling greenlet lands the kill at
// once.
func (s *set) KillOne(ctx context.Context, g spawn.Handle, cause error) error {
	if !s.Contains(g) {
		return nil
	}
	return g.Kill(ctx, cause)
}

// KillOneAsync kills g with cause if it is a member, and returns at once.
func (s *set) KillOneAsync(g spawn.Handle, cause error) {
	if s.Contains(g) {
		g.KillAsync(cause)
	}
}

// isNil reports whether h is nil or a nil *spawn.Greenlet: only spawn's
// greenlets are Handles, and their G is nil only for a nil one.
func isNil(h spawn.Handle) bool { return h == nil || h.G() == nil }

func mustHandle(h spawn.Handle) {
	if isNil(h) {
		panic("pool: nil greenlet")
	}
}
