package harness

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Kind says how a workload is driven.
type Kind int

const (
	// Micro workloads run one variant per process and time it there.
	Micro Kind = iota
	// Echo workloads start a server process per variant and drive it with
	// a closed-loop client process.
	Echo
	// Crawl workloads start the site in one process and crawl it from
	// another.
	Crawl
	// HTTP workloads start an HTTP server process per variant and load it
	// with wrk, closed loop (one request in flight per connection); the grid
	// is EchoGrid's connection counts (Size 0).
	HTTP
)

// Languages of variants.
const (
	LangGo     = "go"
	LangPython = "python-gevent"
)

// EchoConfig is one point of the echo grid (and of the HTTP grid, with
// Size 0).
type EchoConfig struct {
	Conns int
	Size  int
}

// Key names the configuration in samples and tables.
func (c EchoConfig) Key() string { return fmt.Sprintf("c%d_s%d", c.Conns, c.Size) }

// Label is the configuration for people: "100 conns 64 B", or "100 conns"
// without a size.
func (c EchoConfig) Label() string {
	if c.Size == 0 {
		return fmt.Sprintf("%d conns", c.Conns)
	}
	return fmt.Sprintf("%d conns %d B", c.Conns, c.Size)
}

// ParseEchoConfig reads a Key back; a malformed key gives the zero config.
func ParseEchoConfig(key string) EchoConfig {
	var c EchoConfig
	if _, err := fmt.Sscanf(key, "c%d_s%d", &c.Conns, &c.Size); err != nil {
		return EchoConfig{}
	}
	return c
}

// SiteFunc serves a crawl site on addr until ctx ends, adding latency to
// every response. It calls ready, once, with the number of distinct pages
// reachable from "/" when it accepts connections.
type SiteFunc func(ctx context.Context, addr string, latency time.Duration, ready func(pages int)) error

// Workload is one measured job and how to report it.
type Workload struct {
	Name  string // "spawn_join"
	Title string // one line for the table heading
	Kind  Kind
	// Size is N in full mode (tasks, round trips, items); QuickSize in -quick.
	Size, QuickSize int
	// Warmup runs the work once, untimed, in the same process first.
	Warmup bool
	// Ref is the reference variant every ratio is taken against.
	Ref string
	// Primary is the metric that ranks variants and is charted.
	Primary string
	// Ratios are the metrics that get a per-pair "x ref" column.
	Ratios []string
	// Columns are the metrics shown, in order.
	Columns []string
	// Echo: the grid in full and in quick mode.
	EchoGrid, QuickEchoGrid []EchoConfig
	// Crawl: the site, its latency and the crawl concurrency. A nil Site
	// makes every variant of the workload unavailable, with SiteMissing as
	// the reason.
	Site        SiteFunc
	SiteMissing string
	Latency     time.Duration
	Concurrency int
}

// B is what a micro variant's function gets: the size of its work and hooks
// for the harness. The time from the call to StopTimer (or to the return)
// is the measurement.
type B struct {
	N int

	ops       int
	start     time.Time
	end       time.Time
	parkedRSS int64
	rss       func() int64
}

// SetOps sets the number of operations the elapsed time is divided by
// (default N); a ping-pong of N round trips is 2N hand-offs, say.
func (b *B) SetOps(n int) { b.ops = n }

// StopTimer ends the timed region; cleanup after it is not timed. Only the
// first call counts.
func (b *B) StopTimer() {
	if b.end.IsZero() {
		b.end = time.Now()
	}
}

// Parked records the process's resident memory now. A memory workload calls
// it while all N of its tasks are parked.
func (b *B) Parked() {
	if b.rss != nil {
		b.parkedRSS = b.rss()
	}
}

// CrawlStats is what a crawl variant did.
type CrawlStats struct {
	Pages  int
	Bytes  int64
	Errors int
}

// Python names a variant written as a gevent script.
type Python struct {
	Script string // source, run as python3 -c Script MODE ...
	Name   string // variant name inside the script
}

// Variant is one way of doing a workload's work.
type Variant struct {
	Workload string
	Name     string
	Lang     string
	// Ours marks gevent-go's own variants.
	Ours bool
	Desc string
	// Env is added to the variant's process environment (GOMAXPROCS=1).
	Env []string

	// Exactly one body, by the workload's kind and the language.
	Micro  func(b *B) error                                                     // Micro, Go
	Server func(ctx context.Context, addr string) error                         // Echo and HTTP, Go: serve until ctx ends
	Crawl  func(ctx context.Context, root string, conc int) (CrawlStats, error) // Crawl, Go
	Python *Python                                                              // any kind, gevent

	// Missing, when set, says why the variant is not implemented in this
	// build and where it plugs in. The harness reports it as not
	// available, never with numbers.
	Missing string
}

// Key is "workload/name".
func (v *Variant) Key() string { return v.Workload + "/" + v.Name }

// Registry holds workloads and their variants.
type Registry struct {
	mu        sync.Mutex
	workloads []*Workload
	variants  map[string]*Variant
	order     []string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{variants: map[string]*Variant{}} }

// AddWorkload registers a workload. It panics on a duplicate name.
func (r *Registry) AddWorkload(w Workload) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.workloads {
		if o.Name == w.Name {
			panic("harness: duplicate workload " + w.Name)
		}
	}
	r.workloads = append(r.workloads, &w)
}

// Add registers a variant. A real variant replaces a slot (a variant with
// Missing set) of the same key, whichever was registered first, so the lead
// fills a slot by adding a file and touching nothing else. Two real variants
// with one key panic.
func (r *Registry) Add(v Variant) {
	if v.Workload == "" || v.Name == "" {
		panic("harness: variant without workload or name")
	}
	if v.Missing == "" && v.Micro == nil && v.Server == nil && v.Crawl == nil && v.Python == nil {
		panic("harness: variant " + v.Key() + " has no body and is not a slot")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := v.Key()
	old, ok := r.variants[k]
	switch {
	case !ok:
		r.order = append(r.order, k)
	case old.Missing != "" && v.Missing == "":
		// a real variant fills the slot
	case old.Missing == "" && v.Missing != "":
		return // the slot was filled already
	default:
		panic("harness: duplicate variant " + k)
	}
	r.variants[k] = &v
}

// Workloads returns the workloads in registration order.
func (r *Registry) Workloads() []*Workload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.workloads)
}

// Workload returns the named workload or nil.
func (r *Registry) Workload(name string) *Workload {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.workloads {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Lookup returns the variant "workload/name" or nil.
func (r *Registry) Lookup(workload, name string) *Variant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.variants[workload+"/"+name]
}

// Variants returns a workload's variants in display order: the reference,
// then ours, then the Go peers, then the Python ones, each by name.
func (r *Registry) Variants(workload string) []*Variant {
	r.mu.Lock()
	w := r.workloadLocked(workload)
	var out []*Variant
	for _, k := range r.order {
		if v := r.variants[k]; v.Workload == workload {
			out = append(out, v)
		}
	}
	r.mu.Unlock()
	ref := ""
	if w != nil {
		ref = w.Ref
	}
	rank := func(v *Variant) int {
		switch {
		case v.Name == ref:
			return 0
		case v.Ours:
			return 1
		case v.Lang == LangGo:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(out, func(a, b *Variant) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.Name, b.Name))
	})
	return out
}

func (r *Registry) workloadLocked(name string) *Workload {
	for _, w := range r.workloads {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Filter selects variants by a comma-separated list of glob patterns. A
// pattern with a slash matches "workload/variant"; one without matches a
// workload name or a variant name. An empty filter selects everything.
type Filter []string

// ParseFilter splits a -only value.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("harness: bad -only pattern %q: %w", p, err)
		}
		f = append(f, p)
	}
	return f, nil
}

// Match reports whether the filter selects v.
func (f Filter) Match(v *Variant) bool {
	if len(f) == 0 {
		return true
	}
	for _, p := range f {
		if strings.Contains(p, "/") {
			if ok, _ := path.Match(p, v.Key()); ok {
				return true
			}
			continue
		}
		if ok, _ := path.Match(p, v.Workload); ok {
			return true
		}
		if ok, _ := path.Match(p, v.Name); ok {
			return true
		}
	}
	return false
}

// Select returns, per workload in order, the variants the filter selects,
// plus the workload's reference whenever any other variant of it is
// selected, since every ratio needs it. Workloads with nothing selected are
// left out.
func (r *Registry) Select(f Filter) []Selection {
	var out []Selection
	for _, w := range r.Workloads() {
		var picked []*Variant
		hasRef := false
		for _, v := range r.Variants(w.Name) {
			if f.Match(v) {
				picked = append(picked, v)
				hasRef = hasRef || v.Name == w.Ref
			}
		}
		if len(picked) == 0 {
			continue
		}
		if !hasRef {
			if ref := r.Lookup(w.Name, w.Ref); ref != nil {
				picked = append([]*Variant{ref}, picked...)
			}
		}
		out = append(out, Selection{Workload: w, Variants: picked})
	}
	return out
}

// Selection is a workload and the variants chosen to run.
type Selection struct {
	Workload *Workload
	Variants []*Variant
}
