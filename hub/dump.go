package hub

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gevent-go/gevent/internal/sched"
)

// Dump writes the tree of the hub's registered greenlets, gevent's
// print_run_info: each greenlet under the greenlet that spawned it, with its
// id, name, state, and what a parked greenlet waits on. Greenlets whose
// spawner is gone or outside any greenlet are roots.
func (h *Hub) Dump(w io.Writer) error {
	type node struct {
		g        *G
		state    State
		reason   string
		spawner  *G
		children []*node
	}
	h.mu.Lock()
	nodes := map[*G]*node{}
	var order []*node
	for g := h.liveHead; g != nil; g = g.liveNext {
		n := &node{g: g, state: g.State(), spawner: g.spawner}
		if n.state == StateParked {
			n.reason = g.reason
		}
		nodes[g] = n
		order = append(order, n)
	}
	stats := Stats{Live: h.live, Pending: h.count, Spawned: h.spawned.Load(), Switches: h.switches}
	h.mu.Unlock()
	slices.SortFunc(order, func(a, b *node) int {
		switch {
		case a.g.id < b.g.id:
			return -1
		case a.g.id > b.g.id:
			return 1
		}
		return 0
	})
	var roots []*node
	for _, n := range order {
		if p, ok := nodes[n.spawner]; ok && n.spawner != nil {
			p.children = append(p.children, n)
		} else {
			roots = append(roots, n)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hub: %d registered, %d live, %d spawned, %d switches\n",
		stats.Pending, stats.Live, stats.Spawned, stats.Switches)
	var walk func(n *node, prefix string)
	walk = func(n *node, prefix string) {
		fmt.Fprintf(&b, "%s+--- #%d %q %s", prefix, n.g.id, n.g.Name(), n.state)
		if n.reason != "" {
			fmt.Fprintf(&b, " on %s", n.reason)
		}
		b.WriteString("\n")
		for _, c := range n.children {
			walk(c, prefix+"|    ")
		}
	}
	for _, r := range roots {
		walk(r, "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Run runs fn as the hub's main greenlet (gevent's main greenlet) and blocks
// the caller until fn returns, then returns fn's error. Inside fn, greenlets
// spawned with fn's ctx start only when fn reaches a cooperative point, as in
// a gevent program's body. Run does not wait for other greenlets; use Wait
// for that. A kill of the main greenlet makes Run return nil for a default
// kill and the kill's error otherwise. From a greenlet of another hub, Run
// waits cooperatively.
func (h *Hub) Run(ctx context.Context, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("hub: Run with a nil function")
	}
	var out sched.Outcome
	g := h.spawn(ctx, sched.Task{Name: "main", Run: fn, Done: func(_ context.Context, o sched.Outcome) { out = o }})
	_ = Blocking(ctx, "hub.run", func(context.Context) error { <-g.Dead(); return nil })
	if out.Killed && out.Err == ErrKilled {
		return nil
	}
	return out.Err
}

// Run runs fn as the main greenlet of the default hub; see Hub.Run.
func Run(ctx context.Context, fn func(ctx context.Context) error) error {
	return Default().Run(ctx, fn)
}
