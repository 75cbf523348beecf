package local

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/glocal"
	"github.com/gevent-go/gevent/internal/hubtest"
	"github.com/gevent-go/gevent/internal/sched"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Goroutines alive before any test (the ants package's default pool)
	// are not leaks of ours.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// newHub returns a hub stopped when the test ends; a greenlet failure that
// nobody observed fails the test.
func newHub(t testing.TB, opts ...hub.Option) *hub.Hub {
	t.Helper()
	return hubtest.NewHub(t, append([]hub.Option{hubtest.FailOnError(t)}, opts...)...)
}

// run runs body as h's main greenlet and fails the test on its error.
func run(t testing.TB, h *hub.Hub, body func(ctx context.Context) error) {
	t.Helper()
	if err := h.Run(context.Background(), body); err != nil {
		t.Fatalf("main greenlet: %v", err)
	}
}

// spawnAndJoin runs fn in a new greenlet spawned with ctx and waits for it
// to end (cooperatively, if ctx is a greenlet's).
func spawnAndJoin(ctx context.Context, h *hub.Hub, fn func(ctx context.Context)) *hub.G {
	g := hubsched.Spawn(h, ctx, sched.Task{Run: func(ctx context.Context) error { fn(ctx); return nil }})
	hub.Blocking(ctx, "test.join", func(context.Context) error { <-g.Dead(); return nil })
	return g
}

// gevent test__local (item 70): a value set in another greenlet is invisible
// here; each greenlet keeps its own.
func TestLocalPerGreenlet(t *testing.T) {
	h := newHub(t)
	var l Local[string]
	run(t, h, func(ctx context.Context) error {
		l.Set(ctx, "main")
		var seen, after string
		spawnAndJoin(ctx, h, func(ctx context.Context) {
			seen = l.Get(ctx)
			l.Set(ctx, "child")
			after = l.Get(ctx)
		})
		if seen != "" || after != "child" {
			t.Errorf("child saw %q before its Set and %q after; want \"\", child", seen, after)
		}
		if got := l.Get(ctx); got != "main" {
			t.Errorf("main's value became %q", got)
		}
		return nil
	})
}

// gevent re-runs a local subclass's __init__ the first time each greenlet
// touches the object: Init runs once per greenlet, with that greenlet's ctx.
// A Delete goes back to Init's value (gevent: deleting an attribute shows
// the class default again).
func TestLocalInitPerGreenlet(t *testing.T) {
	h := newHub(t)
	var calls atomic.Int32
	l := Local[string]{Init: func(ctx context.Context) string {
		calls.Add(1)
		return "init:" + hub.Current(ctx).Name()
	}}
	run(t, h, func(ctx context.Context) error {
		var got []string
		for i := range 3 {
			g := hubsched.Spawn(h, ctx, sched.Task{Name: fmt.Sprint("g", i), Run: func(ctx context.Context) error {
				got = append(got, l.Get(ctx), l.Get(ctx))
				l.Set(ctx, "set")
				got = append(got, l.Get(ctx))
				l.Delete(ctx)
				got = append(got, l.Get(ctx))
				return nil
			}})
			hub.Blocking(ctx, "test.join", func(context.Context) error { <-g.Dead(); return nil })
		}
		want := []string{
			"init:g0", "init:g0", "set", "init:g0",
			"init:g1", "init:g1", "set", "init:g1",
			"init:g2", "init:g2", "set", "init:g2",
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if n := calls.Load(); n != 6 {
			t.Errorf("Init ran %d times, want 6 (once per greenlet, again after each Delete)", n)
		}
		return nil
	})
}

// Without Init, an untouched or deleted value is the zero value; an
// interface-typed Local may hold nil.
func TestLocalZeroAndNil(t *testing.T) {
	h := newHub(t)
	var n Local[int]
	var e Local[error]
	run(t, h, func(ctx context.Context) error {
		if n.Get(ctx) != 0 {
			t.Error("untouched Local not zero")
		}
		n.Set(ctx, 5)
		n.Delete(ctx)
		if n.Get(ctx) != 0 {
			t.Error("deleted Local not zero")
		}
		e.Set(ctx, fmt.Errorf("x"))
		e.Set(ctx, nil)
		if e.Get(ctx) != nil {
			t.Error("Local[error] set to nil is not nil")
		}
		return nil
	})
}

// gevent test__local (item 72): a greenlet's values are freed when it
// finishes, even while the greenlet itself is still referenced.
func TestLocalFreedAtGreenletEnd(t *testing.T) {
	h := newHub(t)
	type big struct{ buf [1 << 16]byte }
	var l Local[*big]
	var wp weak.Pointer[big]
	var gctx context.Context // the greenlet's ctx, used after its death
	g := spawnAndJoin(context.Background(), h, func(ctx context.Context) {
		gctx = ctx
		b := &big{}
		wp = weak.Make(b)
		l.Set(ctx, b)
	})
	if _, ok, _ := glocal.Load(gctx, key[*big]{&l}); ok {
		t.Error("the dead greenlet still holds its value")
	}
	runtime.GC()
	if wp.Value() != nil {
		t.Error("the value outlived its greenlet")
	}
	// Set and Get through a dead greenlet's ctx keep nothing.
	l.Set(gctx, &big{})
	if l.Get(gctx) != nil {
		t.Error("a dead greenlet's ctx stored a value")
	}
	runtime.KeepAlive(g)
}

// No growth after a million short greenlets that each set a value: the
// values go with their greenlets. (100,000 with -short.)
func TestLocalNoGrowth(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	// No blocking monitor: bursts of 50,000 greenlets under -race on a busy
	// machine trip its 100 ms threshold, and its reports are not the point
	// here (they also expose a data race on G.worker in the hub core).
	h := newHub(t, hub.WithMonitor(0, nil))
	var l Local[[]byte]
	var inits atomic.Int64
	withInit := Local[*[32]byte]{Init: func(context.Context) *[32]byte { inits.Add(1); return new([32]byte) }}
	burst := func(count int) {
		var wg sync.WaitGroup
		wg.Add(count)
		for range count {
			hubsched.Spawn(h, context.Background(), sched.Task{
				Run: func(ctx context.Context) error {
					l.Set(ctx, make([]byte, 64))
					withInit.Get(ctx)
					return nil
				},
				Done: func(context.Context, sched.Outcome) { wg.Done() },
			})
		}
		wg.Wait()
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	burst(10_000) // warm up the hub's pools
	before := heap()
	for done := 0; done < n; done += 50_000 {
		burst(min(50_000, n-done))
	}
	after := heap()
	// Leaking would keep at least ~160 bytes per greenlet (the two values
	// and their map entries): 160 MB for a million. Allow 16 MB of noise.
	const bound = 16 << 20
	if after > before+bound {
		t.Errorf("heap grew from %d to %d bytes after %d greenlets", before, after, n)
	}
	if got := inits.Load(); got != int64(n)+10_000 {
		t.Errorf("Init ran %d times, want once per greenlet (%d)", got, n+10_000)
	}
	t.Logf("heap before %d KB, after %d KB, %d greenlets", before>>10, after>>10, n)
}

// Inherit copies the spawner's value into each child at spawn time; the
// copies are independent; a greenlet spawned from outside any greenlet, or a
// Local without Inherit, passes nothing on.
func TestLocalInherit(t *testing.T) {
	h := newHub(t)
	inherited := Local[string]{Inherit: true}
	plain := Local[string]{Init: func(context.Context) string { return "init" }}
	run(t, h, func(ctx context.Context) error {
		inherited.Set(ctx, "parent")
		plain.Set(ctx, "parent")
		var child, grandchild, childPlain, childAfter string
		spawnAndJoin(ctx, h, func(ctx context.Context) {
			child = inherited.Get(ctx)
			childPlain = plain.Get(ctx)
			inherited.Set(ctx, "child")
			spawnAndJoin(ctx, h, func(ctx context.Context) { grandchild = inherited.Get(ctx) })
			childAfter = inherited.Get(ctx)
		})
		if child != "parent" || grandchild != "child" || childAfter != "child" {
			t.Errorf("child %q, grandchild %q, child after %q", child, grandchild, childAfter)
		}
		if childPlain != "init" {
			t.Errorf("a Local without Inherit passed %q on", childPlain)
		}
		if got := inherited.Get(ctx); got != "parent" {
			t.Errorf("the child's Set changed the parent's value to %q", got)
		}
		return nil
	})
	inherited.Set(context.Background(), "outside")
	var fromOutside string
	spawnAndJoin(context.Background(), h, func(ctx context.Context) { fromOutside = inherited.Get(ctx) })
	if fromOutside != "" {
		t.Errorf("a greenlet spawned from outside inherited %q", fromOutside)
	}
}

// Outside any greenlet there is one process-wide value per Local, shared by
// all plain goroutines; Init runs once for it; greenlets do not see it.
func TestLocalOutsideGreenlets(t *testing.T) {
	var calls atomic.Int32
	l := Local[int]{Init: func(context.Context) int { calls.Add(1); return 7 }}
	bg := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if v := l.Get(bg); v != 7 {
				t.Errorf("Get = %d, want 7", v)
			}
		})
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("Init ran %d times outside greenlets, want 1", calls.Load())
	}
	done := make(chan int)
	go func() { l.Set(bg, 9); done <- 0 }()
	<-done
	if l.Get(bg) != 9 {
		t.Error("another goroutine's Set is not visible: the outside value is not shared")
	}
	h := newHub(t)
	run(t, h, func(ctx context.Context) error {
		if v := l.Get(ctx); v != 7 {
			t.Errorf("a greenlet saw %d; want its own Init value 7", v)
		}
		return nil
	})
	l.Delete(bg)
	if l.Get(bg) != 7 || calls.Load() != 3 {
		t.Errorf("after Delete: Get %d, Init calls %d", l.Get(bg), calls.Load())
	}
}

// Many greenlets on a two-token hub use one Local at
// once: each sees only its own value (and -race sees no race).
func TestLocalConcurrent(t *testing.T) {
	h := newHub(t, hub.WithParallelism(2))
	var l Local[int]
	var wg sync.WaitGroup
	check := func(ctx context.Context, id int) {
		for i := range 100 {
			l.Set(ctx, id*1000+i)
			hub.Yield(ctx)
			if got := l.Get(ctx); got != id*1000+i {
				t.Errorf("greenlet %d saw %d, want %d", id, got, id*1000+i)
				return
			}
		}
	}
	for id := range 50 {
		wg.Add(1)
		hubsched.Spawn(h, context.Background(), sched.Task{
			Run:  func(ctx context.Context) error { check(ctx, id); return nil },
			Done: func(context.Context, sched.Outcome) { wg.Done() },
		})
	}
	wg.Wait()
}

// hubsched is the hub's scheduler as these tests drive it.
var hubsched = sched.Get[*hub.Hub, *hub.G]()
