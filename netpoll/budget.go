package netpoll

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// budget bounds the inbound memory that a set of connections holds
// together: the buffers of bytes received and not yet read (or being
// written out by WriteTo). gnet reads every socket whatever the application
// does, so the per-connection limit alone bounds nothing once connections
// are many. A budget enforces itself one of two ways once its members
// together hold more than its limit:
//
//   - pausing (a Listener's or server's budget): a member that receives
//     more is paused, read through the runtime's poller from then on, so the
//     kernel's flow control throttles its peer and it holds no more; what
//     it holds drains as the application reads. The total can pass the
//     limit only by what the members still read by gnet receive in one read
//     each (at most 64 KiB).
//   - cutting (the engine's budget, the last resort): the biggest holders
//     are closed and their input dropped (Read and Write return
//     ErrInboundOverflow) until the total is back under seven eighths of
//     the limit.
//
// A connection whose reader keeps up holds nothing and is neither paused
// nor cut.
type budget struct {
	limit atomic.Int64
	used  atomic.Int64
	next  atomic.Int64 // while over the limit, the total at which to cut again
	cuts  bool         // cut rather than pause

	mu      sync.Mutex
	members map[budgetMember]struct{}
	cutting map[budgetMember]struct{} // chosen to be cut, not yet gone
}

// budgetMember is a connection charged to a budget.
type budgetMember interface {
	// heldBytes is the inbound buffer the member holds now.
	heldBytes() int64
	// pause makes the member read through the runtime's poller. It is
	// called with no lock held.
	pause()
	// cut closes the member because the budget is exhausted. It is called
	// with no lock held.
	cut()
}

func newBudget(limit int, cuts bool) *budget {
	b := &budget{cuts: cuts, members: make(map[budgetMember]struct{}), cutting: make(map[budgetMember]struct{})}
	b.limit.Store(int64(limit))
	return b
}

func (b *budget) join(m budgetMember) {
	b.mu.Lock()
	b.members[m] = struct{}{}
	b.mu.Unlock()
}

// leave removes m, which must hold nothing by now.
func (b *budget) leave(m budgetMember) {
	b.mu.Lock()
	delete(b.members, m)
	delete(b.cutting, m)
	b.mu.Unlock()
}

// charge adds delta bytes held by m (negative: released) and enforces the
// limit. No lock may be held.
func (b *budget) charge(m budgetMember, delta int64) {
	used := b.used.Add(delta)
	if used <= b.limit.Load() {
		if b.next.Load() != 0 {
			b.next.Store(0)
		}
		return
	}
	if delta <= 0 {
		return
	}
	if !b.cuts {
		m.pause()
		return
	}
	if used < b.next.Load() {
		return
	}
	for _, v := range b.choose() {
		v.cut()
	}
}

// choose picks the members to cut, biggest holders first, until the total
// is back under seven eighths of the limit. It scans the members, so while
// the total stays over the limit (victims take a moment to let go) it
// chooses again only once the total has grown by another sixteenth of the
// limit.
func (b *budget) choose() []budgetMember {
	b.mu.Lock()
	defer b.mu.Unlock()
	limit := b.limit.Load()
	left := b.used.Load()
	if left <= limit || left < b.next.Load() {
		return nil // someone else acted meanwhile
	}
	b.next.Store(left + max(limit/16, 1))
	type holder struct {
		m    budgetMember
		held int64
	}
	var hs []holder
	for m := range b.members {
		h := m.heldBytes()
		if _, ok := b.cutting[m]; ok {
			left -= h // already going
			continue
		}
		if h > 0 {
			hs = append(hs, holder{m, h})
		}
	}
	slices.SortFunc(hs, func(x, y holder) int { return cmp.Compare(y.held, x.held) })
	var victims []budgetMember
	for _, h := range hs {
		if left <= limit-limit/8 {
			break
		}
		victims = append(victims, h.m)
		b.cutting[h.m] = struct{}{}
		left -= h.held
	}
	return victims
}

// engineBudget is the budget of every gnet connection of the process.
var engineBudget = newBudget(DefaultEngineInboundBudget, true)

// SetEngineInboundBudget sets how many bytes of received, unread input all
// the process's gnet connections may hold together (default
// DefaultEngineInboundBudget), and returns the previous setting. It is the
// last resort behind the inbound limits and the Listeners' and servers'
// budgets, which pause connections: past it the connections holding the
// most are cut, closed with their input dropped (Read and Write then
// return an error matching ErrInboundOverflow). n must be positive; the
// stdlib backend ignores it.
func SetEngineInboundBudget(n int) int {
	if n <= 0 {
		panic("netpoll: SetEngineInboundBudget: the budget must be positive")
	}
	return int(engineBudget.limit.Swap(int64(n)))
}
