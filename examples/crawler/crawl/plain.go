package crawl

import (
	"context"
	"sync"
	"time"
)

// RunPlain crawls like Run, the way plain Go does it: a goroutine per URL,
// a buffered channel as the semaphore that bounds requests in flight, a
// mutex around the shared state, net/http. It is the baseline Run is
// measured against; it fetches, parses and counts exactly as Run does. It
// blocks until the crawl ends; see Run for ctx, errors and Progress.
func RunPlain(ctx context.Context, cfg Config) (Summary, error) {
	s, err := newState(cfg)
	if err != nil {
		return Summary{}, err
	}
	client := newClient(&s.cfg, false)
	defer client.CloseIdleConnections()

	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, s.cfg.Concurrency)
	)
	var schedule func([]job)
	visit := func(j job) {
		defer wg.Done()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			s.drop(j)
			mu.Unlock()
			return
		}
		defer func() { <-sem }()
		mu.Lock()
		ok := ctx.Err() == nil && s.begin(j)
		mu.Unlock()
		if !ok {
			return
		}
		r := fetchStreaming(ctx, client, &s.cfg, j.u)
		mu.Lock()
		var next []job
		if ctx.Err() != nil {
			s.drop(j) // interrupted, not failed
		} else {
			next = s.finish(j, r)
		}
		mu.Unlock()
		schedule(next)
	}
	schedule = func(js []job) {
		for _, j := range js {
			wg.Add(1)
			go visit(j)
		}
	}

	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if s.cfg.Progress == nil {
			return
		}
		t := time.NewTicker(s.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				mu.Lock()
				p := s.progress()
				mu.Unlock()
				s.cfg.Progress(p)
			case <-stopProgress:
				return
			}
		}
	}()

	mu.Lock()
	first := s.seed()
	mu.Unlock()
	schedule(first)
	wg.Wait()
	close(stopProgress)
	<-progressDone
	return s.end(ctx, "goroutines"), nil
}

// end finishes a crawl whose workers have all stopped: it drops what was
// not fetched, notes an interruption, reports progress one last time and
// returns the summary.
func (s *state) end(ctx context.Context, engine string) Summary {
	s.abandon()
	if ctx.Err() != nil {
		s.stopped = StopInterrupted
	}
	if s.cfg.Progress != nil {
		s.cfg.Progress(s.progress())
	}
	return s.summary(engine)
}
