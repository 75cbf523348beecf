package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"
)

// Hub schedules greenlets: it owns their ants pool, their run tokens, the
// ready queue, one timer heap and a blocking monitor. A Hub is safe for
// concurrent use.
type Hub struct {
	cfg config
	// pool is the hub's own ants pool, created at the first greenlet start:
	// ants starts two background goroutines per pool, and a hub nobody
	// spawns on (a default hub only asked for its stats) should start none.
	poolMu   sync.Mutex
	pool     *ants.Pool
	poolDone bool // the pool was released (or never made) by Stop
	tm       timers
	mon      monitor

	mu       sync.Mutex
	free     []int         // free run-token slots
	holders  []*G          // token slot -> holder
	readyQ   queue         // greenlets waiting for a token, FIFO
	capQ     queue         // started-never greenlets waiting for live capacity
	live     int           // started and not dead
	count    int           // registered (started or queued) and not dead
	liveHead *G            // registry of registered, not dead greenlets
	emptyCh  chan struct{} // closed when count drops to zero
	deathCh  chan struct{} // closed at every death
	stopped  bool
	workers  []*worker // idle worker labels, reused

	spawned  atomic.Uint64
	switches uint64 // guarded by mu
}

type config struct {
	parallelism int
	capacity    int
	threshold   time.Duration
	onBlocked   func(BlockedReport)
	onError     func(g *G, err error)
	logger      *slog.Logger
}

// Option configures a Hub.
type Option func(*config) error

// WithParallelism sets P, the number of run tokens (default 1). With P = 1 the
// hub keeps gevent's one-at-a-time contract; P > 1 lets CPU-heavy greenlets run
// in parallel and gives that contract up. P < 1 is an error.
func WithParallelism(p int) Option {
	return func(c *config) error {
		if p < 1 {
			return fmt.Errorf("hub: parallelism %d: %w", p, errInvalid)
		}
		c.parallelism = p
		return nil
	}
}

// WithCapacity bounds the number of live (started, not finished) greenlets.
// Greenlets beyond it wait, ready, until one ends. n <= 0 means unbounded,
// the default.
func WithCapacity(n int) Option {
	return func(c *config) error {
		c.capacity = n
		return nil
	}
}

// WithMonitor sets the blocking monitor's threshold (default 100 ms; 0
// disables the monitor) and, if report is not nil, what receives its reports
// instead of the logger. A negative threshold is an error.
func WithMonitor(threshold time.Duration, report func(BlockedReport)) Option {
	return func(c *config) error {
		if threshold < 0 {
			return fmt.Errorf("hub: monitor threshold %v: %w", threshold, ErrNegativeDuration)
		}
		c.threshold = threshold
		c.onBlocked = report
		return nil
	}
}

// WithErrorHandler sets what receives failures nobody observed: a greenlet
// that failed with no one joined or linked to it, a panicking link callback.
// The default logs them through the hub's logger.
func WithErrorHandler(f func(g *G, err error)) Option {
	return func(c *config) error {
		c.onError = f
		return nil
	}
}

// WithLogger sets the hub's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("hub: nil logger: %w", errInvalid)
		}
		c.logger = l
		return nil
	}
}

var errInvalid = errors.New("invalid argument")

// New creates a hub. It starts no goroutine until a greenlet is spawned on it.
func New(opts ...Option) (*Hub, error) {
	c := config{parallelism: 1, threshold: 100 * time.Millisecond}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	h := &Hub{cfg: c}
	h.holders = make([]*G, c.parallelism)
	for i := c.parallelism - 1; i >= 0; i-- {
		h.free = append(h.free, i)
	}
	h.tm.init()
	h.mon.init(h)
	return h, nil
}

// MustNew is New for options known to be valid; it panics on an error.
func MustNew(opts ...Option) *Hub {
	h, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return h
}

type antsLogger struct{ l *slog.Logger }

func (a antsLogger) Printf(format string, args ...any) {
	a.l.Warn(fmt.Sprintf(format, args...), "component", "ants")
}

var (
	defaultMu  sync.Mutex
	defaultHub *Hub
)

// Default returns the process's default hub, creating it on first use (P = 1,
// unbounded capacity, 100 ms monitor). After the default hub is stopped, the
// next call creates a fresh one.
func Default() *Hub {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultHub == nil || defaultHub.isStopped() {
		defaultHub = MustNew()
	}
	return defaultHub
}

// For returns the hub of the greenlet carried by ctx, or the default hub.
func For(ctx context.Context) *Hub {
	if g := Current(ctx); g != nil {
		return g.hub
	}
	return Default()
}

func (h *Hub) isStopped() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopped
}

// Parallelism returns P, the hub's number of run tokens.
func (h *Hub) Parallelism() int { return h.cfg.parallelism }

// Stats is a snapshot of a hub's counters.
type Stats struct {
	Live     int    // started and not finished: running + parked + ready-after-park
	Running  int    // holding a run token
	Parked   int    // waiting at a cooperative point
	Ready    int    // queued for a run token (started or not)
	Pending  int    // registered and not finished, started or not
	Spawned  uint64 // greenlets ever started or queued on this hub
	Switches uint64 // run-token hand-offs at cooperative points
}

// Stats returns the hub's counters. It does not block beyond a short lock.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := Stats{Live: h.live, Pending: h.count, Spawned: h.spawned.Load(), Switches: h.switches}
	for _, g := range h.holders {
		if g != nil {
			s.Running++
		}
	}
	for g := h.liveHead; g != nil; g = g.liveNext {
		switch g.State() {
		case StateParked:
			s.Parked++
		case StateReady:
			s.Ready++
		}
	}
	return s
}

func (h *Hub) reportError(g *G, err error) {
	if h.cfg.onError != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					h.cfg.logger.Error("hub: error handler panicked", "panic", r)
				}
			}()
			h.cfg.onError(g, err)
		}()
		return
	}
	args := []any{"error", err}
	if g != nil {
		args = append(args, "greenlet", g.Name(), "id", g.id)
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		args = append(args, "stack", string(pe.Stack))
	}
	h.cfg.logger.Error("hub: greenlet failed and nobody observed it", args...)
}

// ReportError hands err to the hub's error handler, as the hub does for a
// failure nobody observed. g may be nil.
func (h *Hub) ReportError(g *G, err error) { h.reportError(g, err) }

// Wait blocks until the hub has no registered greenlet left (gevent's
// wait() with no objects, hub.join) and reports true, or until ctx is done and
// reports false. From a greenlet it waits cooperatively; the calling greenlet
// itself is not counted.
func (h *Hub) Wait(ctx context.Context) bool {
	self := Current(ctx)
	for {
		h.mu.Lock()
		n := h.count
		if self != nil && self.hub == h && self.State() != StateDead {
			n--
		}
		if n <= 0 {
			h.mu.Unlock()
			return true
		}
		if h.emptyCh == nil {
			h.emptyCh = make(chan struct{})
		}
		ch := h.emptyCh
		h.mu.Unlock()
		if self == nil || self.hub != h {
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return false
			}
		}
		// A greenlet of this hub: the count never reaches zero while it is
		// alive, so wait for deaths one at a time.
		death := h.deathSignal()
		Blocking(ctx, "hub.wait", func() {
			select {
			case <-death:
			case <-ctx.Done():
			}
		})
		if ctx.Err() != nil {
			return false
		}
	}
}

// deathSignal returns a channel closed at the next greenlet death.
func (h *Hub) deathSignal() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.deathCh == nil {
		h.deathCh = make(chan struct{})
	}
	return h.deathCh
}

func (h *Hub) noteDeath() {
	h.mu.Lock()
	h.count--
	var toClose []chan struct{}
	if h.count == 0 && h.emptyCh != nil {
		toClose = append(toClose, h.emptyCh)
		h.emptyCh = nil
	}
	if h.deathCh != nil {
		toClose = append(toClose, h.deathCh)
		h.deathCh = nil
	}
	h.mu.Unlock()
	for _, c := range toClose {
		close(c)
	}
}

// Stop stops the hub: nothing more can be spawned on it, every registered
// greenlet is killed with ErrHubStopped, and Stop waits, until ctx is done,
// for them to end; then it stops the timers and the monitor and releases the
// ants pool. If greenlets outlive ctx, Stop returns an error wrapping ctx's
// cause and leaves the hub's workers and timers running for them; a later
// Stop finishes the job. Calling Stop from a greenlet of the hub itself is an
// error. Stop is idempotent.
func (h *Hub) Stop(ctx context.Context) error {
	if g := Current(ctx); g != nil && g.hub == h {
		return fmt.Errorf("hub: stop from one of its own greenlets: %w", errInvalid)
	}
	h.mu.Lock()
	h.stopped = true
	var victims []*G
	for g := h.liveHead; g != nil; g = g.liveNext {
		victims = append(victims, g)
	}
	h.mu.Unlock()
	for _, g := range victims {
		g.Kill(ErrHubStopped)
	}
	if !h.Wait(ctx) {
		// The survivors keep their workers and timers; a later Stop finishes.
		return fmt.Errorf("hub: stop: greenlets still alive: %w", context.Cause(ctx))
	}
	h.tm.stop()
	h.mon.stop()
	h.poolMu.Lock()
	pool := h.pool
	release := !h.poolDone && pool != nil
	h.poolDone = true
	h.poolMu.Unlock()
	if !release {
		return nil
	}
	if err := pool.ReleaseContext(ctx); err != nil {
		return fmt.Errorf("hub: stop: releasing workers: %w", err)
	}
	return nil
}

// submit runs fn on a worker goroutine of the hub's ants pool, creating the
// pool on first use. The pool is unbounded because the hub bounds live
// greenlets itself: a worker goroutine still on its way back to ants must
// never make a Submit fail or block; Nonblocking makes sure nothing ever
// waits inside ants.
func (h *Hub) submit(fn func()) error {
	h.poolMu.Lock()
	if h.poolDone {
		h.poolMu.Unlock()
		return ErrHubStopped
	}
	if h.pool == nil {
		p, err := ants.NewPool(-1, ants.WithNonblocking(true), ants.WithLogger(antsLogger{h.cfg.logger}))
		if err != nil {
			h.poolMu.Unlock()
			return fmt.Errorf("hub: ants pool: %w", err)
		}
		h.pool = p
	}
	p := h.pool
	h.poolMu.Unlock()
	return p.Submit(fn)
}
