package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/ants/v2"
)

// Hub schedules greenlets: it owns their run tokens (drivers on its ants
// pool), the ready queue, one timer heap, the offload bounds and a blocking
// monitor. A Hub is safe for concurrent use.
type Hub struct {
	cfg config
	// pool is the hub's own ants pool, created at the first greenlet start:
	// ants starts two background goroutines per pool, and a hub nobody
	// spawns on (a default hub only asked for its stats) should start none.
	// It runs the drivers and the offloaded calls; the hub bounds each kind
	// itself (P drivers, the offload semaphores), so the pool never refuses
	// or blocks a Submit.
	poolMu   sync.Mutex
	pool     *ants.Pool
	poolDone bool // the pool was released (or never made) by Stop
	tm       timers
	mon      monitor
	id       string          // process-unique, in the profiler labels
	labels   context.Context // profiler labels of the hub's drivers and coroutines
	// offload and blocking bound Offload and Blocking calls in flight.
	offload  *Semaphore
	blocking *Semaphore

	mu         sync.Mutex
	drivers    []driver       // one per run token
	busy       int            // drivers not idle and not off
	driverWG   sync.WaitGroup // drivers with a goroutine
	quit       bool           // Stop: drivers exit once idle
	coros      []*coro        // idle coroutines, for greenlets that never ran
	readyQ     queue          // greenlets waiting for a token, FIFO
	timerQ     queue          // greenlets their timer woke, in deadline order: ahead of readyQ
	capQ       queue          // started-never greenlets waiting for live capacity
	capZombies int            // greenlets in capQ killed meanwhile (see freeCapZombiesLocked)
	hasReady   atomic.Bool    // readyQ or timerQ is not empty, for Yield's lock-free check
	live       int            // started and not dead
	count      int            // registered (started or queued) and not dead
	liveHead   *G             // registry of registered, not dead greenlets
	emptyWaits []emptyWait    // Wait callers, woken when count falls to their k
	wakeLater  []*Waiter      // wake-ups due, made once mu is released (unlockWake)
	stopped    bool
	registered int // greenlets ever registered: numbers them (G.num)

	// A seeded hub's generator and schedule (see WithSeed); nil otherwise.
	rng     *rand.Rand
	trace   []Switch
	traceAt int

	spawned    atomic.Uint64
	stopKilled atomic.Int64 // greenlets Stop killed that would otherwise have been reported
	switches   uint64       // guarded by mu
}

// emptyWait is a Hub.Wait caller: w is woken once count <= k (k = 1 when
// the caller is itself a live greenlet of the hub).
type emptyWait struct {
	w *Waiter
	k int
}

type config struct {
	seeded      bool
	seed        uint64
	parallelism int
	capacity    int
	offload     int
	blocking    int
	threshold   time.Duration
	onBlocked   func(BlockedReport)
	onError     func(g *G, err error)
	logger      *slog.Logger
}

// An Option configures a Hub; New reports an invalid one as an error.
type Option interface{ applyHub(*config) error }

// optionFunc is an Option made of a func.
type optionFunc func(*config) error

func (f optionFunc) applyHub(c *config) error { return f(c) }

// WithParallelism sets P, the number of run tokens (default 1). With P = 1 the
// hub keeps gevent's one-at-a-time contract; P > 1 lets CPU-heavy greenlets run
// in parallel and gives that contract up. P < 1 is an error.
func WithParallelism(p int) Option {
	return optionFunc(func(c *config) error {
		if p < 1 {
			return fmt.Errorf("hub: parallelism %d: %w", p, errInvalid)
		}
		c.parallelism = p
		return nil
	})
}

// WithCapacity bounds the number of live (started, not finished) greenlets.
// Greenlets beyond it wait, ready, until one ends. n <= 0 means unbounded,
// the default.
func WithCapacity(n int) Option {
	return optionFunc(func(c *config) error {
		c.capacity = n
		return nil
	})
}

// WithOffload bounds the calls in flight through Offload (default
// GOMAXPROCS: Offload is for CPU-heavy work) and through Blocking (default
// DefaultBlockingLimit: calls that wait on something the hub cannot see).
// A greenlet calling either at its bound waits cooperatively, FIFO, for a
// slot; plain goroutines are not counted. n <= 0 keeps the default. It is
// gevent's threadpool maxsize.
func WithOffload(offload, blocking int) Option {
	return optionFunc(func(c *config) error {
		if offload > 0 {
			c.offload = offload
		}
		if blocking > 0 {
			c.blocking = blocking
		}
		return nil
	})
}

// DefaultBlockingLimit is the default bound on Blocking calls in flight on a
// hub (see WithOffload).
const DefaultBlockingLimit = 10000

// WithMonitor sets the blocking monitor's threshold (default 100 ms; 0
// disables the monitor) and, if report is not nil, what receives its reports
// instead of the logger. A negative threshold is an error.
func WithMonitor(threshold time.Duration, report func(BlockedReport)) Option {
	return optionFunc(func(c *config) error {
		if threshold < 0 {
			return fmt.Errorf("hub: monitor threshold %v: %w", threshold, ErrNegativeDuration)
		}
		c.threshold = threshold
		c.onBlocked = report
		return nil
	})
}

// WithErrorHandler sets what receives failures nobody observed: a greenlet
// that failed with no one joined or linked to it, a panicking link callback.
// The default logs them through the hub's logger.
func WithErrorHandler(f func(g *G, err error)) Option {
	return optionFunc(func(c *config) error {
		c.onError = f
		return nil
	})
}

// WithLogger sets the hub's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return fmt.Errorf("hub: nil logger: %w", errInvalid)
		}
		c.logger = l
		return nil
	})
}

var errInvalid = errors.New("invalid argument")

// New creates a hub. It starts no goroutine until a greenlet is spawned on it.
func New(opts ...Option) (*Hub, error) {
	c := config{parallelism: 1, threshold: 100 * time.Millisecond,
		offload: runtime.GOMAXPROCS(0), blocking: DefaultBlockingLimit}
	for _, o := range opts {
		if err := o.applyHub(&c); err != nil {
			return nil, err
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.seeded && c.parallelism != 1 {
		return nil, fmt.Errorf("hub: a seeded schedule with parallelism %d: it needs one run token: %w", c.parallelism, errInvalid)
	}
	h := &Hub{cfg: c}
	h.id, h.labels = hubLabels()
	if c.seeded {
		h.rng = newRand(c.seed)
		h.trace = make([]Switch, 0, 64)
	}
	h.drivers = make([]driver, c.parallelism)
	for i := range h.drivers {
		h.drivers[i] = driver{kick: make(chan struct{}, 1), lastPoint: "idle"}
	}
	h.offload = NewSemaphore(c.offload)
	h.blocking = NewSemaphore(c.blocking)
	h.tm.init(h)
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

// hubKey is the context key under which NewContext binds a hub; a
// greenlet's ctx answers it with the greenlet's hub, so the nearest binding
// wins.
type hubKey struct{}

// NewContext returns a copy of ctx bound to h: spawn, pool and netpoll called
// with it (or a ctx derived from it) put their greenlets on h. A greenlet's
// own ctx is bound to its hub, so code inside a greenlet spawns on that hub
// unless it binds another. This is the one way to choose a hub; nothing
// blocks.
func NewContext(ctx context.Context, h *Hub) context.Context {
	if h == nil {
		panic("hub: NewContext with a nil hub")
	}
	return context.WithValue(ctx, hubKey{}, h)
}

// For returns the hub ctx is bound to: the hub given to NewContext, else the
// hub of the greenlet carried by ctx, else the default hub.
func For(ctx context.Context) *Hub {
	if ctx != nil {
		if h, ok := ctx.Value(hubKey{}).(*Hub); ok {
			return h
		}
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
	for i := range h.drivers {
		if h.drivers[i].holder != nil {
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
	if g != nil && g.hub == h && g.killed.Load() && g.cause == ErrHubStopped && errors.Is(err, ErrHubStopped) {
		// Stop killed it: not a failure anyone missed. Stop reports how
		// many it killed, in one line.
		h.stopKilled.Add(1)
		return
	}
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

// Wait blocks until the hub has no registered greenlet left (gevent's
// wait() with no objects, hub.join) and returns nil, or until ctx is done and
// returns ctx's cause. From a greenlet (of this hub or another) it waits
// cooperatively, and a kill lands there; the calling greenlet itself is not
// counted.
func (h *Hub) Wait(ctx context.Context) error {
	self := Current(ctx)
	h.mu.Lock()
	k := 0
	if self != nil && self.hub == h && self.State() != StateDead {
		k = 1
	}
	if h.count <= k {
		h.mu.Unlock()
		return nil
	}
	w := NewWaiter(ctx)
	h.emptyWaits = append(h.emptyWaits, emptyWait{w: w, k: k})
	h.mu.Unlock()
	return w.Park(ctx, "hub.wait", func() {
		h.mu.Lock()
		h.emptyWaits = slices.DeleteFunc(h.emptyWaits, func(e emptyWait) bool { return e.w == w })
		h.mu.Unlock()
	})
}

// noteDeathLocked counts a death and queues the wake-ups of the Wait
// callers it satisfies (see unlockWake).
func (h *Hub) noteDeathLocked() {
	h.count--
	if len(h.emptyWaits) == 0 {
		return
	}
	h.emptyWaits = slices.DeleteFunc(h.emptyWaits, func(e emptyWait) bool {
		if h.count <= e.k {
			h.wakeLater = append(h.wakeLater, e.w)
			return true
		}
		return false
	})
}

// unlockWake releases mu and makes the wake-ups queued under it. Waking
// under mu could deadlock: a waiter may belong to this hub or another.
func (h *Hub) unlockWake() {
	ws := h.wakeLater
	h.wakeLater = nil
	h.mu.Unlock()
	for _, w := range ws {
		w.Wake()
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
	if err := h.Wait(ctx); err != nil {
		// The survivors keep their drivers and timers; a later Stop finishes.
		return fmt.Errorf("hub: stop: greenlets still alive: %w", err)
	}
	if n := h.stopKilled.Swap(0); n > 0 {
		h.cfg.logger.Info("hub: stop killed greenlets that were still running", "count", n)
	}
	h.tm.stop()
	if err := h.mon.stop(ctx); err != nil {
		return err
	}
	// Every greenlet is dead: the drivers exit once idle, stopping the idle
	// coroutines on their way out (a coroutine is stopped from a driver,
	// whose OS-thread state it was made with).
	h.mu.Lock()
	h.quit = true
	var idle []*driver
	for i := range h.drivers {
		if d := &h.drivers[i]; d.state == drvIdle {
			d.state = drvBusy
			h.busy++
			idle = append(idle, d)
		}
	}
	h.mu.Unlock()
	for _, d := range idle {
		h.wake(d)
	}
	return Blocking(ctx, "hub.stop", func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			h.driverWG.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("hub: stop: drivers still running: %w", context.Cause(ctx))
		}
		h.poolMu.Lock()
		pool := h.pool
		release := !h.poolDone && pool != nil
		h.poolDone = true
		h.poolMu.Unlock()
		if release {
			if err := pool.ReleaseContext(ctx); err != nil {
				return fmt.Errorf("hub: stop: releasing workers: %w", err)
			}
		}
		return nil
	})
}

// submit runs fn on a worker goroutine of the hub's ants pool, creating the
// pool on first use. The pool is unbounded because the hub bounds what runs
// on it itself (P drivers, the offload semaphores): a worker goroutine still
// on its way back to ants must never make a Submit fail or block;
// Nonblocking makes sure nothing ever waits inside ants.
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
