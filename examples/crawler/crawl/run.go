package crawl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// stopGrace bounds how long Run waits for its greenlets after the crawl.
const stopGrace = 5 * time.Second

// Run crawls cfg.Start with greenlets, the way a gevent program does it: a
// main greenlet hands each URL to a greenlet of its own, at most
// cfg.Concurrency at a time, and every greenlet fetches with net/http and
// parses with golang.org/x/net/html. The crawl's bookkeeping is shared by all
// greenlets without a lock: they run on one hub with one run token, so only
// one of them runs at a time, and only at a fetch does another get the token.
//
// Run blocks until every reachable URL was fetched once, MaxPages were
// fetched, or ctx ends. Cancelling ctx is an interruption, not an error: the
// fetches in flight are killed, and the summary (Stopped "interrupted") says
// what was done. The error is for a bad Config (ErrConfig) or a failure of
// the hub itself; 404s and failed requests are counted in the summary.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	s, err := newState(cfg)
	if err != nil {
		return Summary{}, err
	}
	h, err := hub.New()
	if err != nil {
		return Summary{}, fmt.Errorf("crawl: %w", err)
	}
	tr := newTransport(http.DefaultTransport, cfg.Concurrency)
	defer closeIdle(tr)
	client := newClient(tr)

	runErr := h.Run(ctx, func(ctx context.Context) error { return crawlGreenlets(ctx, s, client) })
	stopCtx, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	if err := h.Stop(stopCtx); err != nil {
		return s.summary("greenlets"), fmt.Errorf("crawl: %w", err)
	}
	// Every greenlet has ended: the state is ours alone now.
	if runErr != nil && ctx.Err() == nil {
		return s.summary("greenlets"), fmt.Errorf("crawl: %w", runErr)
	}
	return s.end(ctx, "greenlets"), nil
}

// crawlGreenlets is the main greenlet: it spawns a greenlet per URL while
// fewer than Concurrency are in flight, and parks until one finishes.
func crawlGreenlets(ctx context.Context, s *state, client *http.Client) error {
	queue := s.seed()
	inflight := 0
	var idle *hub.Waiter // the main greenlet, parked until a fetch ends
	wake := func() {
		if idle != nil {
			idle.Wake()
			idle = nil
		}
	}
	// Workers get a ctx that the main greenlet's interruption does not
	// cancel: the main greenlet stops them itself, with a default kill, so an
	// interrupted fetch counts as stopped, not failed.
	wctx := context.WithoutCancel(ctx)
	live := map[*spawn.Greenlet[struct{}]]struct{}{}
	defer func() {
		for g := range live {
			g.KillAsync(nil)
		}
		for _, j := range queue {
			s.drop(j)
		}
	}()
	if s.cfg.Progress != nil {
		p := spawn.Spawn(wctx, func(ctx context.Context) (struct{}, error) {
			for hub.Sleep(ctx, s.cfg.ProgressEvery) == nil {
				s.cfg.Progress(s.progress())
			}
			return struct{}{}, nil
		}, spawn.WithName("crawl-progress"))
		defer p.KillAsync(nil)
	}
	for {
		for len(queue) > 0 && inflight < s.cfg.Concurrency {
			j := queue[0]
			queue = queue[1:]
			if !s.begin(j) {
				break // MaxPages: the deferred cleanup drops the rest
			}
			inflight++
			var g *spawn.Greenlet[struct{}]
			g = spawn.Spawn(wctx, func(ctx context.Context) (struct{}, error) {
				defer func() {
					inflight--
					delete(live, g)
					wake()
				}()
				r, err := hub.Offload(ctx, func(ctx context.Context) (result, error) {
					return fetch(ctx, client, &s.cfg, j.u), nil
				})
				if err != nil {
					s.drop(j)
					return struct{}{}, nil
				}
				queue = append(queue, s.finish(j, r)...)
				return struct{}{}, nil
			}, spawn.WithName("fetch "+j.key))
			live[g] = struct{}{}
		}
		if inflight == 0 {
			return nil
		}
		idle = hub.NewWaiter(ctx)
		if err := idle.Park(ctx, "crawl: waiting for a fetch"); err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}
