package variants

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/alitto/pond/v2"
	"github.com/gevent-go/gevent/bench/harness"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Go peers of spawn_join: each task increments a shared counter; the join
// must see all N increments.
func init() {
	const w = "spawn_join"
	goMicro(w, "go_waitgroup", "go func + sync.WaitGroup", func(b *harness.B) error {
		var n atomic.Int64
		var wg sync.WaitGroup
		wg.Add(b.N)
		for range b.N {
			go func() { n.Add(1); wg.Done() }()
		}
		wg.Wait()
		return checkCount(w, n.Load(), int64(b.N))
	})
	goMicro(w, "errgroup", "errgroup.Group.Go, no limit", func(b *harness.B) error {
		var n atomic.Int64
		var g errgroup.Group
		for range b.N {
			g.Go(func() error { n.Add(1); return nil })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		return checkCount(w, n.Load(), int64(b.N))
	})
	goMicro(w, "conc_waitgroup", "conc.WaitGroup.Go", func(b *harness.B) error {
		var n atomic.Int64
		var wg conc.WaitGroup
		for range b.N {
			wg.Go(func() { n.Add(1) })
		}
		wg.Wait()
		return checkCount(w, n.Load(), int64(b.N))
	})
	goMicro(w, "conc_pool", "conc pool.New(), unbounded", func(b *harness.B) error {
		var n atomic.Int64
		p := pool.New()
		for range b.N {
			p.Go(func() { n.Add(1) })
		}
		p.Wait()
		return checkCount(w, n.Load(), int64(b.N))
	})
	goMicro(w, "ants_pool10000", "ants.NewPool(10000) + WaitGroup", func(b *harness.B) error {
		return antsSpawn(b, 10000)
	})
	goMicro(w, "ants_unbounded", "ants.NewPool(-1) + WaitGroup", func(b *harness.B) error {
		return antsSpawn(b, -1)
	})
	goMicro(w, "pond_pool10000", "pond.NewPool(10000), one task group", func(b *harness.B) error {
		var n atomic.Int64
		p := pond.NewPool(10000)
		defer p.StopAndWait()
		g := p.NewGroup()
		for range b.N {
			g.Submit(func() { n.Add(1) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		b.StopTimer()
		return checkCount(w, n.Load(), int64(b.N))
	})
}

func antsSpawn(b *harness.B, size int) error {
	p, err := ants.NewPool(size)
	if err != nil {
		return err
	}
	defer p.Release()
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Add(b.N)
	var subErr error
	for range b.N {
		if err := p.Submit(func() { n.Add(1); wg.Done() }); err != nil {
			wg.Done()
			subErr = errors.Join(subErr, err)
		}
	}
	wg.Wait()
	b.StopTimer()
	if subErr != nil {
		return subErr
	}
	return checkCount("spawn_join", n.Load(), int64(b.N))
}
