package pool_test

import (
	"context"
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/glocal"
	"github.com/gevent-go/gevent/pool"
	"github.com/gevent-go/gevent/spawn"
)

// sizes are the pool sizes gevent's map tests run with (None is Unbounded).
var sizes = []struct {
	name string
	size int
}{{"1", 1}, {"2", 2}, {"3", 3}, {"10", 10}, {"unbounded", pool.Unbounded}}

func seqOf[T any](xs []T) iter.Seq[T] { return slices.Values(xs) }

func seq2Of[T any](xs []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, x := range xs {
			if !yield(x, nil) {
				return
			}
		}
	}
}

func squares(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i * i
	}
	return out
}

// tracker counts running items and the peak, from item functions (which
// run one at a time at P = 1).
type tracker struct{ running, peak, started int }

func (tr *tracker) enter() {
	tr.running++
	tr.started++
	tr.peak = max(tr.peak, tr.running)
}

func (tr *tracker) leave() { tr.running-- }

// gevent item 35: map keeps input order for sizes 1, 2, 3, 10 and unbounded,
// with random sleeps, for every kind of input; at most size items run at
// once, and with sleeping items exactly that many; map of nothing is empty.
func TestMapOrder(t *testing.T) {
	const n = 50
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	inputs := []struct {
		name string
		mapf func(ctx context.Context, s pool.Spawner, fn func(context.Context, int) (int, error)) ([]int, error)
	}{
		{"slice", func(ctx context.Context, s pool.Spawner, fn func(context.Context, int) (int, error)) ([]int, error) {
			return pool.Map(ctx, s, in, fn)
		}},
		{"seq", func(ctx context.Context, s pool.Spawner, fn func(context.Context, int) (int, error)) ([]int, error) {
			return pool.Map(ctx, s, seqOf(in), fn)
		}},
		{"seq2", func(ctx context.Context, s pool.Spawner, fn func(context.Context, int) (int, error)) ([]int, error) {
			return pool.Map(ctx, s, seq2Of(in), fn)
		}},
		{"imap", func(ctx context.Context, s pool.Spawner, fn func(context.Context, int) (int, error)) ([]int, error) {
			var out []int
			for v, err := range pool.IMap(ctx, s, in, fn) {
				if err != nil {
					return out, err
				}
				out = append(out, v)
			}
			return out, nil
		}},
		{"imap seq", func(ctx context.Context, s pool.Spawner, fn func(context.Context, int) (int, error)) ([]int, error) {
			var out []int
			for v, err := range pool.IMap(ctx, s, seqOf(in), fn) {
				if err != nil {
					return out, err
				}
				out = append(out, v)
			}
			return out, nil
		}},
	}
	for _, sz := range sizes {
		for _, input := range inputs {
			t.Run(sz.name+"/"+input.name, func(t *testing.T) {
				run(t, func(ctx context.Context) error {
					p := pool.New(sz.size)
					rng := rand.New(rand.NewPCG(uint64(sz.size), 7))
					delays := make([]time.Duration, n)
					for i := range delays {
						delays[i] = time.Duration(rng.IntN(100)) * time.Millisecond
					}
					var tr tracker
					out, err := input.mapf(ctx, p, func(ctx context.Context, x int) (int, error) {
						tr.enter()
						defer tr.leave()
						assert.LessOrEqual(t, p.Len(), sz.size, "only workers are members")
						return x * x, hub.Sleep(ctx, delays[x])
					})
					require.NoError(t, err)
					assert.Equal(t, squares(n), out)
					assert.Equal(t, min(sz.size, n), tr.peak)
					assert.Equal(t, n, tr.started)
					assert.Equal(t, 0, p.Len(), "no worker outlives the map")

					empty, err := pool.Map(ctx, p, []int{}, func(context.Context, int) (int, error) { return 0, nil })
					require.NoError(t, err)
					assert.Empty(t, empty)
					return nil
				})
			})
		}
	}
}

// Items that never block run back to back on one worker greenlet.
func TestMapShortItemsShareAWorker(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(100)
		workers := map[*hub.G]bool{}
		out, err := pool.Map(ctx, p, seqOf(make([]int, 1000)), func(ctx context.Context, _ int) (int, error) {
			workers[hub.Current(ctx)] = true
			return 1, nil
		})
		require.NoError(t, err)
		assert.Len(t, out, 1000)
		assert.Less(t, len(workers), 100, "short items do not get a greenlet each")
		return nil
	})
}

// gevent item 36: imap_unordered yields in completion order: Pool(1) gives
// 10, 1, 2 and bigger pools 1, 2, 10; IMap stays in input order.
func TestIMapUnorderedCompletionOrder(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				p := pool.New(sz.size)
				sleep := func(ctx context.Context, x int) (int, error) {
					return x, hub.Sleep(ctx, time.Duration(x)*10*time.Millisecond)
				}
				var got []int
				for v, err := range pool.IMapUnordered(ctx, p, []int{10, 1, 2}, sleep) {
					require.NoError(t, err)
					got = append(got, v)
				}
				if sz.size == 1 {
					assert.Equal(t, []int{10, 1, 2}, got)
				} else {
					assert.Equal(t, []int{1, 2, 10}, got)
				}
				got = got[:0]
				for v, err := range pool.IMap(ctx, p, []int{10, 1, 2}, sleep) {
					require.NoError(t, err)
					got = append(got, v)
				}
				assert.Equal(t, []int{10, 1, 2}, got)
				return nil
			})
		})
	}
}

// gevent item 37: MaxUnread(1) keeps at most 2 items started ahead of a slow
// reader (gevent's bounded queue test), for IMap and IMapUnordered, slice and
// iterator input.
func TestMaxUnread(t *testing.T) {
	in := make([]int, 100)
	for i := range in {
		in[i] = i
	}
	maps := []struct {
		name string
		imap func(ctx context.Context, p *pool.Pool, fn func(context.Context, int) (int, error)) iter.Seq2[int, error]
	}{
		{"imap", func(ctx context.Context, p *pool.Pool, fn func(context.Context, int) (int, error)) iter.Seq2[int, error] {
			return pool.IMap(ctx, p, in, fn, pool.MaxUnread(1))
		}},
		{"imap seq", func(ctx context.Context, p *pool.Pool, fn func(context.Context, int) (int, error)) iter.Seq2[int, error] {
			return pool.IMap(ctx, p, seqOf(in), fn, pool.MaxUnread(1))
		}},
		{"unordered", func(ctx context.Context, p *pool.Pool, fn func(context.Context, int) (int, error)) iter.Seq2[int, error] {
			return pool.IMapUnordered(ctx, p, in, fn, pool.MaxUnread(1))
		}},
		{"unordered seq", func(ctx context.Context, p *pool.Pool, fn func(context.Context, int) (int, error)) iter.Seq2[int, error] {
			return pool.IMapUnordered(ctx, p, seqOf(in), fn, pool.MaxUnread(1))
		}},
	}
	for _, sz := range sizes {
		for _, m := range maps {
			t.Run(sz.name+"/"+m.name, func(t *testing.T) {
				run(t, func(ctx context.Context) error {
					p := pool.New(sz.size)
					started := 0
					var got []int
					i := 0
					for v, err := range m.imap(ctx, p, func(_ context.Context, x int) (int, error) {
						started++
						return x, nil
					}) {
						require.NoError(t, err)
						assert.LessOrEqual(t, started, i+2, "item %d", i)
						got = append(got, v)
						require.NoError(t, hub.Sleep(ctx, 10*time.Millisecond))
						i++
					}
					slices.Sort(got)
					assert.Equal(t, in, got)
					return nil
				})
			})
		}
	}
	assert.NotPanics(t, func() { pool.MaxUnread(0) }, "the function that takes the option reports it")
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		fn := func(_ context.Context, x int) (int, error) { return x, nil }
		assert.PanicsWithError(t, "pool: MaxUnread(0): must be at least 1", func() { pool.IMap(ctx, p, []int{1}, fn, pool.MaxUnread(0)) }, "at the call, not when iterated")
		assert.PanicsWithError(t, "pool: MaxUnread(-1): must be at least 1", func() { pool.IMapUnordered(ctx, p, []int{1}, fn, pool.MaxUnread(-1)) })
		return nil
	})
}

// gevent items 37 and 35: an input that makes cooperative calls (here a
// final sleep, and a wait for a greenlet that ends the input later) runs on
// the caller; the iteration ends after the last result.
func TestIMapCooperativeInput(t *testing.T) {
	run(t, func(ctx context.Context) error {
		finalSleep := func(yield func(int) bool) {
			for i := range 3 {
				if !yield(i) {
					return
				}
			}
			_ = hub.Sleep(ctx, 200*time.Millisecond)
		}
		sqr := func(_ context.Context, x int) (int, error) { return x * x, nil }
		p := pool.New(2)
		var got []int
		for v, err := range pool.IMap(ctx, p, iter.Seq[int](finalSleep), sqr) {
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, []int{0, 1, 4}, got)

		got = got[:0]
		for v, err := range pool.IMapUnordered(ctx, p, iter.Seq[int](finalSleep), sqr) {
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, []int{0, 1, 4}, got)

		// A queue-like input: one item now, the end signalled 100ms later by
		// another greenlet.
		var stop hub.Event
		spawn.SpawnLater(ctx, 100*time.Millisecond, func(context.Context) (int, error) { stop.Set(); return 0, nil })
		queue := func(yield func(int) bool) {
			if yield(123) {
				_ = stop.Wait(ctx)
			}
		}
		start := time.Now()
		got = got[:0]
		for v, err := range pool.IMap(ctx, p, iter.Seq[int](queue), func(_ context.Context, x int) (int, error) { return x, nil }) {
			require.NoError(t, err)
			got = append(got, v)
		}
		assert.Equal(t, []int{123}, got)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		return nil
	})
}

var errZero = errors.New("division by zero")

func divideBy(_ context.Context, x int) (float64, error) {
	if x == 0 {
		return 0, errZero
	}
	return 1 / float64(x), nil
}

type step struct {
	v   float64
	err error
}

func collectSteps(seq iter.Seq2[float64, error]) []step {
	var out []step
	for v, err := range seq {
		out = append(out, step{v, err})
	}
	return out
}

// gevent item 40: map of 1/x over [1, 0, 2] fails; imap and imap_unordered
// yield 1.0, the error, 0.5, then end. Item errors are not reported to the
// hub's error handler: they reach the caller.
func TestMapItemErrors(t *testing.T) {
	log := run(t, func(ctx context.Context) error {
		_, err := pool.Map(ctx, pool.New(3), []int{1, 0, 2}, divideBy)
		assert.ErrorIs(t, err, errZero)

		want := []step{{1, nil}, {0, errZero}, {0.5, nil}}
		assert.Equal(t, want, collectSteps(pool.IMap(ctx, pool.New(1), []int{1, 0, 2}, divideBy)))
		assert.Equal(t, want, collectSteps(pool.IMapUnordered(ctx, pool.New(1), []int{1, 0, 2}, divideBy)))

		// A panic is an item error too.
		steps := collectSteps(pool.IMap(ctx, pool.New(2), []int{1, 0, 2}, func(ctx context.Context, x int) (float64, error) {
			if x == 0 {
				panic("zero")
			}
			return divideBy(ctx, x)
		}))
		require.Len(t, steps, 3)
		var pe *hub.PanicError
		require.ErrorAs(t, steps[1].err, &pe)
		assert.Equal(t, "zero", pe.Value)
		assert.Equal(t, 0.5, steps[2].v)
		return nil
	})
	assert.Empty(t, log.All())
}

// Map stops at the first error: the items still running are killed, the
// ones not started never run, and Map returns once they are dead.
func TestMapFirstErrorKillsTheRest(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(3)
		boom := errors.New("boom")
		var started, killed []int
		start := time.Now()
		_, err := pool.Map(ctx, p, []int{0, 1, 2, 3, 4, 5}, func(ctx context.Context, x int) (int, error) {
			started = append(started, x)
			if x == 1 {
				return 0, errors.Join(hub.Sleep(ctx, 10*time.Millisecond), boom)
			}
			defer func() {
				if ctx.Err() != nil {
					killed = append(killed, x)
				}
			}()
			return x, hub.Sleep(ctx, time.Hour)
		})
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		assert.Equal(t, []int{0, 1, 2}, started, "three slots; the rest never ran")
		assert.ElementsMatch(t, []int{0, 2}, killed)
		assert.Equal(t, 0, p.Len())
		assert.Equal(t, 3, p.FreeCount())
		return nil
	})
}

var errInput = errors.New("input failed")

// errorIter yields 1, 2, then fails (gevent's error_iter).
func errorIter(yield func(int, error) bool) {
	if yield(1, nil) && yield(2, nil) {
		yield(0, errInput)
	}
}

// gevent item 40: an error from the input propagates: Map returns it, and
// the iterators yield it after the items read before it, then end.
func TestMapInputError(t *testing.T) {
	run(t, func(ctx context.Context) error {
		double := func(_ context.Context, x int) (int, error) { return 2 * x, nil }
		p := pool.New(3)
		_, err := pool.Map(ctx, p, iter.Seq2[int, error](errorIter), double)
		assert.ErrorIs(t, err, errInput)

		for _, imap := range []func() iter.Seq2[int, error]{
			func() iter.Seq2[int, error] { return pool.IMap(ctx, p, iter.Seq2[int, error](errorIter), double) },
			func() iter.Seq2[int, error] {
				return pool.IMapUnordered(ctx, p, iter.Seq2[int, error](errorIter), double)
			},
		} {
			var vals []int
			var errs []error
			for v, err := range imap() {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				vals = append(vals, v)
			}
			assert.Equal(t, []int{2, 4}, vals)
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], errInput)
		}
		// A nil iterator is an empty input.
		out, err := pool.Map(ctx, p, iter.Seq[int](nil), double)
		require.NoError(t, err)
		assert.Empty(t, out)
		assert.Equal(t, 0, p.Len())
		return nil
	})
}

// gevent item 38: killing the pool mid-map stops it at once (gevent: under
// 0.5 s); the map returns an error matching the kill; nothing survives.
func TestKillMidMap(t *testing.T) {
	for _, mode := range []string{"map", "imap", "unordered"} {
		t.Run(mode, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				p := pool.New(10)
				var sleeps []time.Duration
				for range 20 {
					sleeps = append(sleeps, 100*time.Millisecond)
				}
				sleep := func(ctx context.Context, d time.Duration) (int, error) { return 0, hub.Sleep(ctx, d) }
				n := 0 // results read before the kill
				mapper := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
					seq := pool.IMap(ctx, p, sleeps, sleep)
					switch mode {
					case "map":
						_, err := pool.Map(ctx, p, sleeps, sleep)
						return 0, err
					case "unordered":
						seq = pool.IMapUnordered(ctx, p, sleeps, sleep)
					}
					for _, err := range seq {
						if err != nil {
							return 0, err
						}
						n++
					}
					return 0, nil
				})
				require.NoError(t, hub.Sleep(ctx, 150*time.Millisecond))
				assert.Equal(t, 10, p.Len())
				start := time.Now()
				require.NoError(t, p.Kill(ctx, nil))
				assert.Less(t, time.Since(start), 500*time.Millisecond)
				_, err := mapper.Get(ctx)
				assert.ErrorIs(t, err, hub.ErrKilled)
				assert.ErrorContains(t, err, "pool: map stopped")
				if mode != "map" {
					assert.Equal(t, 10, n, "the first wave finished before the kill")
				}
				assert.Equal(t, 0, p.Len())
				assert.Equal(t, 10, p.FreeCount())
				return nil
			})
		})
	}
}

// Cancelling the ctx stops a map at once, with the ctx's cause; breaking out
// of an iterator kills what runs; in both cases the call returns only once
// the workers are dead.
func TestMapCancelAndBreak(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(4)
		var started, killed int
		slow := func(ctx context.Context, x int) (int, error) {
			started++
			defer func() {
				if ctx.Err() != nil {
					killed++
				}
			}()
			return x, hub.Sleep(ctx, time.Duration(x)*10*time.Millisecond)
		}
		in := []int{1, 100, 100, 100, 100, 100}

		stop := errors.New("stop")
		cctx, cancel := context.WithCancelCause(ctx)
		spawn.SpawnLater(ctx, 50*time.Millisecond, func(context.Context) (int, error) { cancel(stop); return 0, nil })
		start := time.Now()
		_, err := pool.Map(cctx, p, in, slow)
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, err, stop)
		assert.Equal(t, 4, killed, "item 0 finished; items 1-4 were killed; 5 never ran")
		assert.Equal(t, 0, p.Len())

		killed = 0
		cctx, cancel = context.WithCancelCause(ctx)
		spawn.SpawnLater(ctx, 50*time.Millisecond, func(context.Context) (int, error) { cancel(stop); return 0, nil })
		var steps []error
		for _, err := range pool.IMapUnordered(cctx, p, in, slow) {
			steps = append(steps, err)
		}
		require.Len(t, steps, 2)
		assert.NoError(t, steps[0])
		assert.ErrorIs(t, steps[1], stop)
		assert.Equal(t, 4, killed)

		started, killed = 0, 0
		start = time.Now()
		for v, err := range pool.IMap(ctx, p, in, slow) {
			require.NoError(t, err)
			assert.Equal(t, 1, v)
			break
		}
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		// Item 4 may have started in the freed slot before the loop body ran.
		assert.Contains(t, []int{4, 5}, started)
		assert.Equal(t, started-1, killed, "every item but the first was killed")
		assert.Equal(t, 0, p.Len())
		assert.Equal(t, 4, p.FreeCount())
		return nil
	})
}

// A map shares its pool with other callers: it never exceeds the slots left,
// and its requests for workers queue FIFO with them.
func TestMapSharesThePool(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(3)
		pool.Spawn(ctx, p, sleeper(100*time.Millisecond))
		pool.Spawn(ctx, p, sleeper(100*time.Millisecond))
		var tr tracker
		start := time.Now()
		out, err := pool.Map(ctx, p, []int{1, 2, 3, 4}, func(ctx context.Context, x int) (int, error) {
			tr.enter()
			defer tr.leave()
			if time.Since(start) < 100*time.Millisecond {
				assert.Equal(t, 1, tr.running, "one slot was free")
			}
			return x, hub.Sleep(ctx, 50*time.Millisecond)
		})
		require.NoError(t, err)
		assert.Equal(t, []int{1, 2, 3, 4}, out)
		// 0-50: item 1; 50-100: item 2; 100-150: items 3 and 4.
		assert.Equal(t, 2, tr.peak)
		assert.Equal(t, 150*time.Millisecond, time.Since(start))

		// On Pool(0) nothing starts: the map waits until ctx ends.
		tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		ran := false
		_, err = pool.Map(tctx, pool.New(0), []int{1}, func(context.Context, int) (int, error) { ran = true; return 0, nil })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, ran)
		return nil
	})
}

// A map called by a member of a full pool runs the items itself rather than
// deadlock waiting for workers (gevent's re-entry case, for maps).
func TestMapFromMemberOfFullPool(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		v, err := pool.Apply(ctx, p, func(ctx context.Context) (int, error) {
			out, err := pool.Map(ctx, p, []int{1, 2, 3}, func(ctx context.Context, x int) (int, error) {
				return x, hub.Sleep(ctx, time.Millisecond)
			})
			if err != nil {
				return 0, err
			}
			sum := 0
			for r, err := range pool.IMapUnordered(ctx, p, seqOf(out), func(_ context.Context, x int) (int, error) { return x, nil }) {
				if err != nil {
					return 0, err
				}
				sum += r
			}
			return sum, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 6, v)
		return nil
	})
}

// With P = 2, called from plain goroutines, maps on a shared pool keep their
// results straight and the pool's bound.
func TestMapParallel(t *testing.T) {
	h := hub.MustNew(hub.WithParallelism(2))
	defer func() { require.NoError(t, h.Stop(context.Background())) }()
	p := pool.New(8)
	ctx := hub.NewContext(context.Background(), h) // the members run on h
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			in := make([]int, 2000)
			for i := range in {
				in[i] = g*10000 + i
			}
			out, err := pool.Map(ctx, p, in, func(ctx context.Context, x int) (int, error) {
				if x%100 == 0 {
					if err := hub.Yield(ctx); err != nil {
						return 0, err
					}
				}
				return x + 1, nil
			})
			assert.NoError(t, err)
			for i, v := range out {
				assert.Equal(t, in[i]+1, v)
			}
			var n int
			for v, err := range pool.IMapUnordered(ctx, p, seqOf(in), func(_ context.Context, x int) (int, error) { return x, nil }) {
				assert.NoError(t, err)
				assert.GreaterOrEqual(t, v, g*10000)
				n++
			}
			assert.Equal(t, len(in), n)
		}()
	}
	for range 4 {
		<-done
	}
	assert.Equal(t, 0, p.Len())
	assert.Equal(t, 8, p.FreeCount())
}

// An item that swallows the kill of the pool does not keep the map going.
func TestMapSwallowedKill(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := pool.New(2)
		stubborn := func(ctx context.Context, _ int) (n int, err error) {
			defer func() {
				if r := recover(); r != nil {
					require.True(t, hub.IsKill(r))
					n, err = 1, nil // swallowed
				}
			}()
			return 0, hub.Sleep(ctx, time.Hour)
		}
		mapper := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			out, err := pool.Map(ctx, p, make([]int, 10), stubborn)
			return len(out), err
		})
		require.NoError(t, hub.Yield(ctx))
		require.NoError(t, hub.Yield(ctx))
		p.KillAsync(nil)
		_, err := mapper.Get(ctx)
		assert.ErrorIs(t, err, hub.ErrKilled)
		assert.Equal(t, 0, p.Len())
		return nil
	})
}

// The same kill on the real clock, and a hub stopped under a map run from a
// plain goroutine: both return promptly and leave nothing behind.
func TestStopMidMapRealClock(t *testing.T) {
	h := hub.MustNew()
	p := pool.New(10)
	hctx := hub.NewContext(context.Background(), h) // the members run on h
	sleeps := make([]time.Duration, 20)
	for i := range sleeps {
		sleeps[i] = 100 * time.Millisecond
	}
	sleep := func(ctx context.Context, d time.Duration) (int, error) { return 0, hub.Sleep(ctx, d) }

	errc := make(chan error, 1)
	go func() { _, err := pool.Map(hctx, p, sleeps, sleep); errc <- err }()
	require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
		if err := hub.Sleep(ctx, 150*time.Millisecond); err != nil {
			return err
		}
		start := time.Now()
		require.NoError(t, p.Kill(ctx, nil))
		assert.Less(t, time.Since(start), 500*time.Millisecond)
		return nil
	}))
	assert.ErrorIs(t, <-errc, hub.ErrKilled)

	started := make(chan struct{}, len(sleeps)) // never blocks a greenlet
	go func() {
		_, err := pool.Map(hctx, p, sleeps, func(ctx context.Context, d time.Duration) (int, error) {
			started <- struct{}{}
			return sleep(ctx, d)
		})
		errc <- err
	}()
	for range 10 {
		<-started
	}
	assert.Equal(t, 10, p.Len())
	start := time.Now()
	require.NoError(t, h.Stop(context.Background()))
	assert.ErrorIs(t, <-errc, hub.ErrHubStopped)
	assert.Less(t, time.Since(start), 500*time.Millisecond)
	assert.Equal(t, 0, p.Len())
}

// Items that never block do not starve the hub's other greenlets: a worker
// (or a caller running items inline) yields after a time slice, as one
// greenlet per item would let them run between items. Real clock: the slice
// measures time spent running.
func TestMapTimeSlice(t *testing.T) {
	busyMap := func(ctx context.Context, s pool.Spawner, done *int) error {
		_, err := pool.Map(ctx, s, make([]int, 400), func(_ context.Context, x int) (int, error) {
			for start := time.Now(); time.Since(start) < 50*time.Microsecond; {
			}
			*done++
			return x, nil
		})
		return err
	}
	cases := []struct {
		name string
		run  func(ctx context.Context, done *int) error
	}{
		{"workers", func(ctx context.Context, done *int) error { return busyMap(ctx, pool.New(4), done) }},
		{"inline", func(ctx context.Context, done *int) error {
			p := pool.New(1)
			_, err := pool.Apply(ctx, p, func(ctx context.Context) (int, error) { return 0, busyMap(ctx, p, done) })
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := hub.MustNew()
			defer func() { require.NoError(t, h.Stop(context.Background())) }()
			require.NoError(t, h.Run(context.Background(), func(ctx context.Context) error {
				done, doneWhenOtherRan := 0, -1
				other := spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
					if err := hub.Sleep(ctx, 2*time.Millisecond); err != nil {
						return 0, err
					}
					doneWhenOtherRan = done
					return 0, nil
				})
				require.NoError(t, tc.run(ctx, &done))
				require.NoError(t, other.Join(ctx))
				assert.Equal(t, 400, done)
				assert.GreaterOrEqual(t, doneWhenOtherRan, 0)
				assert.Less(t, doneWhenOtherRan, 400, "the other greenlet ran during the map")
				return nil
			}))
		})
	}
}

// Items of a map share their worker greenlet, but never its locals.
func TestMapItemsDoNotShareLocals(t *testing.T) {
	type key struct{}
	run(t, func(ctx context.Context) error {
		p := pool.New(1)
		seen, err := pool.Map(ctx, p, []int{1, 2, 3}, func(ctx context.Context, i int) (any, error) {
			prev, _, _ := glocal.Load(ctx, key{})
			glocal.Store(ctx, key{}, i)
			return prev, nil
		})
		require.NoError(t, err)
		assert.Equal(t, []any{nil, nil, nil}, seen)
		return nil
	})
}

// ints is a named slice type, which Source accepts as it is.
type ints []int

// intSeq is a named iterator type.
type intSeq func(yield func(int) bool)

// intSeq2 is a named iterator type with errors.
type intSeq2 func(yield func(int, error) bool)

// Map, IMap and IMapUnordered take any slice type and any func shaped like
// iter.Seq or iter.Seq2[T, error], named or not, without a conversion.
func TestMapInputShapes(t *testing.T) {
	in := []int{1, 2, 3, 4}
	want := []int{1, 4, 9, 16}
	lit := func(yield func(int) bool) {
		for _, x := range in {
			if !yield(x) {
				return
			}
		}
	}
	lit2 := func(yield func(int, error) bool) {
		for _, x := range in {
			if !yield(x, nil) {
				return
			}
		}
	}
	sq := func(_ context.Context, x int) (int, error) { return x * x, nil }
	run(t, func(ctx context.Context) error {
		p := pool.New(2)
		check := func(name string, got []int, err error) {
			t.Helper()
			require.NoError(t, err, name)
			assert.Equal(t, want, got, name)
		}
		collect := func(seq iter.Seq2[int, error]) ([]int, error) {
			var out []int
			for v, err := range seq {
				if err != nil {
					return out, err
				}
				out = append(out, v)
			}
			return out, nil
		}
		got, err := pool.Map(ctx, p, ints(in), sq)
		check("named slice", got, err)
		got, err = pool.Map(ctx, p, lit, sq)
		check("func literal", got, err)
		got, err = pool.Map(ctx, p, lit2, sq)
		check("func literal with errors", got, err)
		got, err = pool.Map(ctx, p, intSeq(lit), sq)
		check("named func type", got, err)
		got, err = pool.Map(ctx, p, intSeq2(lit2), sq)
		check("named func type with errors", got, err)
		bad := errors.New("bad input")
		_, err = pool.Map(ctx, p, intSeq2(func(yield func(int, error) bool) { yield(0, bad) }), sq)
		require.ErrorIs(t, err, bad, "a named iter.Seq2 shape still ends at its error")
		got, err = pool.Map(ctx, p, slices.Values(in), sq)
		check("iter.Seq", got, err)
		got, err = pool.Map(ctx, p, seq2Of(in), sq)
		check("iter.Seq2", got, err)
		got, err = pool.Map(ctx, p, in, sq)
		check("slice", got, err)
		got, err = collect(pool.IMap(ctx, p, ints(in), sq))
		check("IMap named slice", got, err)
		got, err = collect(pool.IMap(ctx, p, lit, sq))
		check("IMap func literal", got, err)
		got, err = collect(pool.IMapUnordered(ctx, p, lit, sq))
		require.NoError(t, err)
		assert.ElementsMatch(t, want, got, "IMapUnordered func literal")

		var nilInts ints
		got, err = pool.Map(ctx, p, nilInts, sq)
		require.NoError(t, err)
		assert.Empty(t, got, "a nil named slice is empty")
		var nilSeq intSeq
		got, err = pool.Map(ctx, p, nilSeq, sq)
		require.NoError(t, err)
		assert.Empty(t, got, "a nil named iterator is empty")
		return nil
	})
}
