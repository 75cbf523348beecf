package variants

import (
	"errors"
	"sync"

	"github.com/alitto/pond/v2"
	"github.com/gevent-go/gevent/bench/harness"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/iter"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Go peers of pool_map: out[i] = mapFn(i) with at most mapConc tasks at a
// time; the output is checked in order.
func init() {
	const w = "pool_map"
	goMicro(w, "errgroup_limit100", "errgroup.Group with SetLimit(100), one Go per item", func(b *harness.B) error {
		out := make([]int, b.N)
		var g errgroup.Group
		g.SetLimit(mapConc)
		for i := range b.N {
			g.Go(func() error { out[i] = mapFn(i); return nil })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		return checkMapped(out)
	})
	goMicro(w, "go_workers_chan", "100 worker goroutines reading indices from a channel", func(b *harness.B) error {
		out := make([]int, b.N)
		idx := make(chan int, mapConc)
		var wg sync.WaitGroup
		for range mapConc {
			wg.Go(func() {
				for i := range idx {
					out[i] = mapFn(i)
				}
			})
		}
		for i := range b.N {
			idx <- i
		}
		close(idx)
		wg.Wait()
		return checkMapped(out)
	})
	goMicro(w, "conc_pool100", "conc pool.New().WithMaxGoroutines(100)", func(b *harness.B) error {
		out := make([]int, b.N)
		p := pool.New().WithMaxGoroutines(mapConc)
		for i := range b.N {
			p.Go(func() { out[i] = mapFn(i) })
		}
		p.Wait()
		return checkMapped(out)
	})
	goMicro(w, "conc_iter_map100", "conc iter.Mapper{MaxGoroutines: 100}.Map", func(b *harness.B) error {
		in := make([]int, b.N)
		for i := range in {
			in[i] = i
		}
		out := iter.Mapper[int, int]{MaxGoroutines: mapConc}.Map(in, func(p *int) int { return mapFn(*p) })
		return checkMapped(out)
	})
	goMicro(w, "ants_pool100", "ants.NewPool(100) (blocking Submit) + WaitGroup", func(b *harness.B) error {
		p, err := ants.NewPool(mapConc)
		if err != nil {
			return err
		}
		defer p.Release()
		out := make([]int, b.N)
		var wg sync.WaitGroup
		var subErr error
		for i := range b.N {
			wg.Add(1)
			if err := p.Submit(func() { out[i] = mapFn(i); wg.Done() }); err != nil {
				wg.Done()
				subErr = errors.Join(subErr, err)
			}
		}
		wg.Wait()
		b.StopTimer()
		if subErr != nil {
			return subErr
		}
		return checkMapped(out)
	})
	goMicro(w, "pond_pool100", "pond.NewResultPool[int](100), one result group", func(b *harness.B) error {
		p := pond.NewResultPool[int](mapConc)
		defer p.StopAndWait()
		g := p.NewGroup()
		for i := range b.N {
			g.Submit(func() int { return mapFn(i) })
		}
		out, err := g.Wait()
		b.StopTimer()
		if err != nil {
			return err
		}
		if len(out) != b.N {
			return errors.New("pool_map: pond returned a short result")
		}
		return checkMapped(out)
	})
}
