package hub

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
)

// Shards is a set of hubs meant to use every core: each shard is a hub with
// one run token (P = 1), so the one-at-a-time contract holds inside a shard
// and greenlets of one shard share plain variables without locks, while the
// shards run in parallel. State shared between shards needs what state
// shared between goroutines needs (a lock, an atomic, or a hub primitive:
// Event, Queue, Semaphore and the rest work across hubs). A server puts
// each connection on one shard (netpoll's StreamServer and httpserver take
// the shards' hubs); a crawler or a worker pool spreads its greenlets with
// Next.
//
// Shards is safe for concurrent use.
type Shards struct {
	hubs []*Hub
	next atomic.Uint64
}

// NewShards creates n hubs with opts (n <= 0 means GOMAXPROCS). A
// WithParallelism among opts is an error: a shard has one run token, which
// is what keeps its greenlets lock-free among themselves.
func NewShards(n int, opts ...Option) (*Shards, error) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s := &Shards{hubs: make([]*Hub, n)}
	for i := range s.hubs {
		h, err := New(opts...)
		if err != nil {
			return nil, err
		}
		if h.cfg.parallelism != 1 {
			return nil, fmt.Errorf("hub: shards with parallelism %d: a shard has one run token: %w", h.cfg.parallelism, errInvalid)
		}
		s.hubs[i] = h
	}
	return s, nil
}

// Len returns the number of shards.
func (s *Shards) Len() int { return len(s.hubs) }

// Hub returns shard i (0 <= i < Len): a key hashed to a shard always finds
// the same hub, and so the same lock-free state.
func (s *Shards) Hub(i int) *Hub { return s.hubs[i] }

// Next returns the shards' hubs in turn, round robin.
func (s *Shards) Next() *Hub {
	return s.hubs[(s.next.Add(1)-1)%uint64(len(s.hubs))]
}

// Hubs returns the shards' hubs, in order (a new slice).
func (s *Shards) Hubs() []*Hub { return append([]*Hub(nil), s.hubs...) }

// Wait waits, like Hub.Wait, until no shard has a registered greenlet left
// and returns nil, or until ctx is done and returns ctx's cause.
func (s *Shards) Wait(ctx context.Context) error {
	for _, h := range s.hubs {
		if err := h.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every shard, as Hub.Stop does, all under ctx, and returns
// their errors joined.
func (s *Shards) Stop(ctx context.Context) error {
	if g := Current(ctx); g != nil {
		for _, h := range s.hubs {
			if g.hub == h {
				return fmt.Errorf("hub: stop of shards from one of their own greenlets: %w", errInvalid)
			}
		}
	}
	errs := make([]error, len(s.hubs))
	done := make(chan int, len(s.hubs))
	plain := Detach(ctx) // the stops run on goroutines of their own
	for i, h := range s.hubs {
		go func() {
			errs[i] = h.Stop(plain)
			done <- i
		}()
	}
	_ = Blocking(ctx, "shards.stop", func(context.Context) error {
		for range s.hubs {
			<-done
		}
		return nil
	})
	return errors.Join(errs...)
}
