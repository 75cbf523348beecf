package crawl

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
	"github.com/gevent-go/gevent/spawn"
)

// stopGrace bounds how long Run waits for its greenlets after the crawl.
const stopGrace = 5 * time.Second

// Run crawls cfg.Start with greenlets, the way a gevent program does it: a
// main greenlet hands each URL to a pool.Pool of cfg.Concurrency greenlets,
// and every greenlet fetches with net/http, made cooperative by monkey (an
// http.Transport of the crawl's own, for its header limit, wrapped with
// monkey.WrapTransport as monkey.PatchAll wraps the default one), and
// parses with golang.org/x/net/html off the hub's run token, on at most
// GOMAXPROCS goroutines at once (hub.Offload, gevent's threadpool), so a
// parse-heavy site keeps every core busy. The crawl's bookkeeping is shared
// by all greenlets without a lock: they run on one hub with one run token,
// so only one of them runs at a time, and another gets the token only while
// one waits for the network or a parse.
//
// Run blocks until every reachable URL was fetched once, MaxPages were
// fetched, or ctx ends. Cancelling ctx is an interruption, not an error: the
// fetches in flight are killed, and the summary (Stopped "interrupted") says
// what was done. The error is for a bad Config (ErrConfig) or a failure of
// the hub itself; 404s and failed requests are counted in the summary. The crawl
// runs on a hub of its own; called from a greenlet, Run waits for it
// cooperatively, and a kill of the caller interrupts it.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	s, err := newState(cfg)
	if err != nil {
		return Summary{}, err
	}
	h, err := hub.New()
	if err != nil {
		return Summary{}, fmt.Errorf("crawl: %w", err)
	}
	client := newClient(&s.cfg, true)
	defer client.CloseIdleConnections()

	// The hub is stopped even if a kill of a calling greenlet (of another
	// hub) unwinds through here.
	var (
		stopped bool
		stopErr error
	)
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopCtx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		stopErr = h.Stop(stopCtx)
	}
	defer stop()
	runErr := h.Run(ctx, func(ctx context.Context) error { return crawlGreenlets(ctx, s, client) })
	stop()
	if stopErr != nil {
		return s.summary("greenlets"), fmt.Errorf("crawl: %w", stopErr)
	}
	// Every greenlet has ended: the state is ours alone now.
	if runErr != nil && ctx.Err() == nil {
		return s.summary("greenlets"), fmt.Errorf("crawl: %w", runErr)
	}
	return s.end(ctx, "greenlets"), nil
}

// crawlGreenlets is the main greenlet, gevent's classic crawler: a
// joinable queue of URLs, a loop that spawns a greenlet per URL into the pool
// (which parks the loop while the pool is full), and a greenlet that shuts
// the queue down once every URL put in it was done, which ends the loop.
func crawlGreenlets(ctx context.Context, s *state, client *http.Client) error {
	p := pool.New(s.cfg.Concurrency)
	parse := newParser(&s.cfg)
	urls := hub.NewQueue[job](0) // unbounded; every put counts a task until TaskDone
	put := func(js []job) {
		for _, j := range js {
			_ = urls.TryPut(j) // never full; shut down only once nothing is left to do
		}
	}
	// Workers get a ctx that the main greenlet's interruption does not
	// cancel: the main greenlet stops them itself, with a default kill, so
	// an interrupted fetch counts as stopped, not failed.
	wctx := context.WithoutCancel(ctx)
	closer := spawn.Go(wctx, func(ctx context.Context) error {
		if err := urls.Join(ctx); err != nil {
			return err
		}
		urls.Shutdown()
		return nil
	}, spawn.WithName("crawl closer"))
	// On the way out (an interruption, MaxPages, the end) stop whatever is
	// left; the URLs it leaves unfetched are dropped when the crawl ends.
	defer func() {
		p.KillAsync(nil)
		closer.KillAsync(nil)
	}()
	if s.cfg.Progress != nil {
		pg := spawn.Go(wctx, func(ctx context.Context) error {
			for hub.Sleep(ctx, s.cfg.ProgressEvery) == nil {
				s.cfg.Progress(s.progress())
			}
			return nil
		}, spawn.WithName("crawl progress"))
		defer pg.KillAsync(nil)
	}
	visit := func(j job) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			defer urls.TaskDone() // after the URLs it found were put
			r := parse.fetch(ctx, client, j.u)
			if ctx.Err() != nil {
				return nil // killed: not fetched
			}
			put(s.finish(j, r))
			return nil
		}
	}

	put(s.seed())
	for j := range urls.All(ctx) {
		if !s.begin(j) { // MaxPages reached: drain the queue
			_ = urls.TaskDone()
			continue
		}
		// A fetch that never got a slot (wctx ended) stops the crawl; one
		// that ran and failed is the crawl's to record, not a spawn error.
		if err := pool.Submit(wctx, p, visit(j), spawn.WithName("fetch "+j.key)); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.Join(ctx) // every URL is done; let the workers end
}
