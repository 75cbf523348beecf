package hub

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// WithSeed makes the hub's schedule a pure function of seed, for tests: at
// every cooperative point the next greenlet to run is drawn from the ready
// set by a generator seeded with seed, instead of taken in FIFO order (so
// the order of spawned starts, of wake-ups and of sleepers due together is
// drawn too). Run the same program under many seeds to explore
// interleavings; a failing seed replays the same interleaving every time.
// Package hub/seedtest runs a test body under many seeds and reports the
// seed and the schedule of the first failure.
//
// The schedule is reproducible when everything runs in greenlets of this
// hub (start the work from its main greenlet, Run) and time is the fake
// clock of a testing/synctest bubble: plain goroutines, Offload and
// Blocking calls, sockets and real time still race with the hub as the Go
// scheduler decides. A seeded hub has one run token (WithParallelism above
// 1 is an error) and records its schedule (see Trace). It is a testing
// tool: the default, FIFO, is gevent's order.
func WithSeed(seed uint64) Option {
	return optionFunc(func(c *config) error {
		c.seeded, c.seed = true, seed
		return nil
	})
}

// traceLen is how many switches a seeded hub keeps (the most recent).
const traceLen = 4096

// Switch is one step of a seeded hub's schedule: greenlet From reached a
// cooperative point (Point: "yield", "end", or what it waits on) and
// greenlet To ran next. Greenlets are numbered in the order they were
// registered on the hub (the main greenlet of Run is usually 1), so a trace
// reads the same in every run of a seed; From is 0 for a driver that was
// idle.
type Switch struct {
	From, To         int
	FromName, ToName string // the names given at spawn, if any
	Point            string
}

func (s Switch) String() string {
	return fmt.Sprintf("%s -[%s]-> %s", traceName(s.From, s.FromName), s.Point, traceName(s.To, s.ToName))
}

func traceName(n int, name string) string {
	if n == 0 {
		return "idle"
	}
	s := "g" + strconv.Itoa(n)
	if name != "" {
		s += "(" + name + ")"
	}
	return s
}

// Trace returns the schedule of a seeded hub (WithSeed), oldest first: its
// last 4096 switches. It returns nil for a hub that is not seeded.
func (h *Hub) Trace() []Switch {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.trace == nil {
		return nil
	}
	out := make([]Switch, 0, len(h.trace))
	if len(h.trace) == traceLen {
		out = append(out, h.trace[h.traceAt:]...)
	}
	return append(out, h.trace[:h.traceAt]...)
}

// traceLocked records that d resumes g after its previous greenlet.
func (h *Hub) traceLocked(d *driver, g *G) {
	s := Switch{From: d.lastNum, FromName: d.lastName, Point: d.lastPoint, To: int(g.num), ToName: g.name}
	if len(h.trace) < traceLen {
		h.trace = append(h.trace, s)
		h.traceAt = len(h.trace) % traceLen
		return
	}
	h.trace[h.traceAt] = s
	h.traceAt = (h.traceAt + 1) % traceLen
}

// switchedOutLocked notes, for the trace, where g left d.
func (d *driver) switchedOutLocked(g *G, act action) {
	d.lastNum, d.lastName = int(g.num), g.name
	switch act {
	case actYield:
		d.lastPoint = "yield"
	case actPark:
		d.lastPoint = g.reason
	default:
		d.lastPoint = "end"
	}
}

// popSeededLocked is popLocked for a seeded hub: the next greenlet is drawn
// from the whole ready set (timer queue and ready queue alike).
func (h *Hub) popSeededLocked() *G {
	for {
		n := h.timerQ.n + h.readyQ.n
		if n == 0 {
			return nil
		}
		k := h.rng.IntN(n)
		var g *G
		if k < h.timerQ.n {
			g = h.timerQ.removeAt(k)
		} else {
			g = h.readyQ.removeAt(k - h.timerQ.n)
		}
		if State(g.state.Load()) == StateDead {
			continue
		}
		if !g.started && !g.zombie && h.cfg.capacity > 0 && h.live >= h.cfg.capacity {
			g.inCapQ = true
			h.capQ.push(g)
			continue
		}
		return g
	}
}

// removeAt unlinks and returns the k-th greenlet of q (0 <= k < q.n).
func (q *queue) removeAt(k int) *G {
	if k == 0 {
		return q.pop()
	}
	prev := q.head
	for range k - 1 {
		prev = prev.next
	}
	g := prev.next
	prev.next = g.next
	if q.tail == g {
		q.tail = prev
	}
	g.next = nil
	q.n--
	return g
}

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
