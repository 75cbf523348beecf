package netpoll

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// budget bounds the inbound memory that a set of connections holds
// together: the buffers of bytes received and not yet read. gnet reads every
// socket whatever the application does, so the per-connection limit alone
// bounds nothing once connections are many; when the members together pass
// the limit, the biggest holders are cut (closed, their input dropped, Read
// and Write return ErrInboundOverflow) until they are back under seven
// eighths of it. A connection that reads what it receives holds no buffer
// and is never cut.
type budget struct {
	limit atomic.Int64
	used  atomic.Int64

	mu      sync.Mutex
	members map[budgetMember]struct{}
	cutting map[budgetMember]struct{} // chosen and not yet gone
}

// budgetMember is a connection charged to a budget.
type budgetMember interface {
	// heldBytes is the inbound buffer the member holds now.
	heldBytes() int64
	// cut closes the member because the budget is exhausted. It is called
	// with no lock held.
	cut()
}

func newBudget(limit int) *budget {
	b := &budget{members: make(map[budgetMember]struct{}), cutting: make(map[budgetMember]struct{})}
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

// charge adds delta bytes (negative: released) and returns the members to
// cut if the budget is exceeded; the caller cuts them once it holds no lock.
func (b *budget) charge(delta int64) []budgetMember {
	used := b.used.Add(delta)
	limit := b.limit.Load()
	if delta <= 0 || used <= limit {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	used = b.used.Load()
	if used <= limit {
		return nil // someone else cut meanwhile
	}
	type holder struct {
		m    budgetMember
		held int64
	}
	var hs []holder
	for m := range b.members {
		if _, ok := b.cutting[m]; ok {
			used -= m.heldBytes() // already going
			continue
		}
		if h := m.heldBytes(); h > 0 {
			hs = append(hs, holder{m, h})
		}
	}
	slices.SortFunc(hs, func(x, y holder) int { return cmp.Compare(y.held, x.held) })
	target := limit - limit/8
	var victims []budgetMember
	for _, h := range hs {
		if used <= target {
			break
		}
		victims = append(victims, h.m)
		b.cutting[h.m] = struct{}{}
		used -= h.held
	}
	return victims
}

// engineBudget is the budget of every gnet connection of the process.
var engineBudget = newBudget(DefaultEngineInboundBudget)

// SetEngineInboundBudget sets how many bytes of received, unread input all
// the process's gnet connections may hold together (default
// DefaultEngineInboundBudget), and returns the previous setting. Past it
// the connections holding the most are cut, as a Listener's or server's
// budget does (see WithInboundBudget). n must be positive; the stdlib
// backend ignores it.
func SetEngineInboundBudget(n int) int {
	if n <= 0 {
		panic("netpoll: SetEngineInboundBudget: the budget must be positive")
	}
	return int(engineBudget.limit.Swap(int64(n)))
}
