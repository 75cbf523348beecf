package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testQueue is what Queue and Channel have in common.
type testQueue interface {
	Put(context.Context, int) error
	Get(context.Context) (int, error)
	TryPut(int) error
	TryGet() (int, error)
	Shutdown()
}

// counts returns the lengths of q's wait lists.
func (q *qcore[T, K]) counts() (getters, putters, peekers int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.getters.n, q.putters.n, q.peekers.n
}

// gevent test__queue: two put_nowait calls on Queue(1) give None, then Full;
// on a Channel with no getter, Full and Full (item 45).
func TestQueueTryPut(t *testing.T) {
	q := NewQueue[int](1)
	if err := q.TryPut(1); err != nil {
		t.Errorf("first TryPut: %v", err)
	}
	if err := q.TryPut(2); !errors.Is(err, ErrFull) {
		t.Errorf("second TryPut: %v, want ErrFull", err)
	}
	c := NewChannel[int]()
	for range 2 {
		if err := c.TryPut(1); !errors.Is(err, ErrFull) {
			t.Errorf("Channel TryPut with no getter: %v, want ErrFull", err)
		}
	}
	if _, err := c.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Errorf("Channel TryGet with no putter: %v, want ErrEmpty", err)
	}
	if _, err := NewQueue[int](0).TryGet(); !errors.Is(err, ErrEmpty) {
		t.Errorf("TryGet on an empty queue: %v, want ErrEmpty", err)
	}
}

// gevent test__queue: a put_nowait from outside the greenlet wakes a greenlet
// blocked in get, and the queue stays empty; a get_nowait unblocks a putter
// waiting on a full Queue(1) (item 46). Here the outsider is a plain
// goroutine, for both Queue and Channel.
func TestQueueTryOpsWakeBlockedGreenlets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		make   func() testQueue
		prefil bool
	}{
		{"Queue(1)", func() testQueue { return NewQueue[int](1) }, true},
		{"Channel", func() testQueue { return NewChannel[int]() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHub(t)
			q := tc.make()
			got := make(chan int, 1)
			g := spawn(context.Background(), h, "getter", func(ctx context.Context) error {
				v, err := q.Get(ctx)
				got <- v
				return err
			})
			waitParked(t, g)
			if err := q.TryPut(7); err != nil {
				t.Fatalf("TryPut with a getter waiting: %v", err)
			}
			if v := <-got; v != 7 {
				t.Errorf("getter got %d, want 7", v)
			}
			<-g.Dead()
			if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
				t.Errorf("queue not empty after the hand-off: %v", err)
			}

			want := []int{2}
			if tc.prefil {
				if err := q.TryPut(1); err != nil {
					t.Fatal(err)
				}
				want = []int{1, 2}
			}
			g = spawn(context.Background(), h, "putter", func(ctx context.Context) error {
				return q.Put(ctx, 2)
			})
			waitParked(t, g)
			var gotAll []int
			for range want {
				v, err := q.TryGet()
				if err != nil {
					t.Fatalf("TryGet with a putter waiting: %v", err)
				}
				gotAll = append(gotAll, v)
			}
			<-g.Dead()
			if !slices.Equal(gotAll, want) {
				t.Errorf("got %v, want %v", gotAll, want)
			}
		})
	}
}

// gevent test__queue (item 47): a peek with a timeout on an empty queue gives
// up (gevent: Empty; here the ctx's error); after a put, peek and then get
// return the same item. A blocked peek is woken by a put and does not take
// the item.
func TestQueuePeek(t *testing.T) {
	h := newTestHub(t)
	q := NewQueue[string](0)
	run(t, h, func(ctx context.Context) error {
		if _, err := q.Peek(timeout(t, ctx, 10*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Peek on empty queue: %v, want DeadlineExceeded", err)
		}
		if _, err := q.TryPeek(); !errors.Is(err, ErrEmpty) {
			t.Errorf("TryPeek on empty queue: %v, want ErrEmpty", err)
		}
		q.Put(ctx, "x")
		p, err := q.Peek(ctx)
		g, err2 := q.Get(ctx)
		if p != "x" || g != "x" || err != nil || err2 != nil {
			t.Errorf("Peek, Get = %q %v, %q %v", p, err, g, err2)
		}

		var peeked []string
		for range 2 {
			spawn(ctx, h, "peeker", func(ctx context.Context) error {
				v, err := q.Peek(ctx)
				peeked = append(peeked, v)
				return err
			})
		}
		Yield(ctx)
		if _, _, n := q.counts(); n != 2 {
			t.Fatalf("%d peekers waiting, want 2", n)
		}
		q.Put(ctx, "y")
		h.Wait(ctx)
		if !slices.Equal(peeked, []string{"y", "y"}) || q.Len() != 1 {
			t.Errorf("peekers saw %v, Len %d; want [y y], 1", peeked, q.Len())
		}
		if v, _ := q.TryPeek(); v != "y" {
			t.Errorf("TryPeek = %q", v)
		}
		return nil
	})
}

// gevent test__queue (item 48): Queue(2): a putter puts a and b without
// blocking, blocks on c, and resumes after one get.
func TestQueuePutterBlocksWhenFull(t *testing.T) {
	h := newTestHub(t)
	q := NewQueue[string](2)
	run(t, h, func(ctx context.Context) error {
		var log []string
		spawn(ctx, h, "putter", func(ctx context.Context) error {
			for _, s := range []string{"a", "b", "c"} {
				log = append(log, "put "+s)
				if err := q.Put(ctx, s); err != nil {
					return err
				}
			}
			log = append(log, "done")
			return nil
		})
		Yield(ctx)
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		v, _ := q.Get(ctx)
		log = append(log, "got "+v)
		Yield(ctx)
		want := "put a,put b,put c,len 2,got a,done"
		if got := strings.Join(log, ","); got != want {
			t.Errorf("log %s, want %s", got, want)
		}
		if q.Len() != 2 || q.Cap() != 2 {
			t.Errorf("Len %d Cap %d, want 2, 2", q.Len(), q.Cap())
		}
		return nil
	})
}

// gevent test__queue (item 49): with four blocked getters, each put wakes
// exactly one: 1, 2, then 4 results. Getters are served FIFO.
func TestQueueEachPutWakesOneGetter(t *testing.T) {
	h := newTestHub(t)
	q := NewQueue[int](0)
	run(t, h, func(ctx context.Context) error {
		var results []string
		for i := range 4 {
			spawn(ctx, h, "getter", func(ctx context.Context) error {
				v, err := q.Get(ctx)
				results = append(results, fmt.Sprintf("g%d:%d", i, v))
				return err
			})
		}
		Yield(ctx)
		q.Put(ctx, 10)
		Yield(ctx)
		if len(results) != 1 {
			t.Errorf("after one put: %v", results)
		}
		q.Put(ctx, 11)
		Yield(ctx)
		if len(results) != 2 {
			t.Errorf("after two puts: %v", results)
		}
		q.Put(ctx, 12)
		q.Put(ctx, 13)
		Yield(ctx)
		want := []string{"g0:10", "g1:11", "g2:12", "g3:13"}
		if !slices.Equal(results, want) {
			t.Errorf("results %v, want %v", results, want)
		}
		return nil
	})
}

// gevent test__queue (item 50): a getter cancelled by a zero timeout does not
// consume a later item.
func TestQueueCancelledGetterConsumesNothing(t *testing.T) {
	h := newTestHub(t)
	q := NewQueue[int](0)
	run(t, h, func(ctx context.Context) error {
		_, err := WithTimeout(ctx, 0, func(ctx context.Context) (int, error) { return q.Get(ctx) })
		if !errors.Is(err, ErrTimeout) {
			t.Error("Get with a zero timeout did not time out")
		}
		q.Put(ctx, 5)
		if v, err := q.Get(ctx); v != 5 || err != nil {
			t.Errorf("Get = %d, %v; want 5", v, err)
		}
		if g, p, _ := q.counts(); g != 0 || p != 0 {
			t.Errorf("wait lists not empty: %d getters %d putters", g, p)
		}
		return nil
	})
}

// Orders of the variants: FIFO, LIFO (gevent: put 3, 1, 2 gets 2, 1, 3),
// priority (least first; equal items FIFO), priority by a cmp function.
func TestQueueVariantsOrder(t *testing.T) {
	type pair struct{ pri, seq int }
	cases := []struct {
		name string
		make func() *Queue[pair]
		in   []pair
		want []pair
	}{
		{"fifo", func() *Queue[pair] { return NewQueue[pair](0) },
			[]pair{{3, 0}, {1, 0}, {2, 0}}, []pair{{3, 0}, {1, 0}, {2, 0}}},
		{"lifo", func() *Queue[pair] { return NewLifoQueue[pair](0) },
			[]pair{{3, 0}, {1, 0}, {2, 0}}, []pair{{2, 0}, {1, 0}, {3, 0}}},
		{"priority func, ties FIFO", func() *Queue[pair] {
			return NewPriorityQueueFunc(0, func(a, b pair) int { return a.pri - b.pri })
		},
			[]pair{{3, 1}, {1, 1}, {2, 1}, {1, 2}, {3, 2}, {1, 3}, {0, 1}},
			[]pair{{0, 1}, {1, 1}, {1, 2}, {1, 3}, {2, 1}, {3, 1}, {3, 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.make()
			for _, v := range tc.in {
				if err := q.TryPut(v); err != nil {
					t.Fatal(err)
				}
			}
			if p, _ := q.TryPeek(); p != tc.want[0] {
				t.Errorf("TryPeek = %v, want %v", p, tc.want[0])
			}
			var got []pair
			for range tc.in {
				v, err := q.TryGet()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// A larger heap against sorting.
	q := NewPriorityQueue[int](0)
	in := []int{5, 9, 1, 7, 3, 8, 2, 6, 4, 0, 5, 1, 9}
	for _, v := range in {
		q.TryPut(v)
	}
	var got []int
	for v := range q.All(context.Background()) {
		got = append(got, v)
		if q.Len() == 0 {
			q.Shutdown()
		}
	}
	if want := slices.Sorted(slices.Values(in)); !slices.Equal(got, want) {
		t.Errorf("priority order %v, want %v", got, want)
	}
}

// A ring that wraps and grows keeps FIFO order.
func TestQueueRingGrowthKeepsOrder(t *testing.T) {
	q := NewQueue[int](0)
	next, want := 0, 0
	for round := range 50 {
		for range round + 3 {
			q.TryPut(next)
			next++
		}
		for range round + 1 {
			v, _ := q.TryGet()
			if v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
			want++
		}
	}
	if q.Len() != next-want {
		t.Errorf("Len %d, want %d", q.Len(), next-want)
	}
}

// gevent test__queue (item 52), the Channel: a getter first gives
// sending, hello, sent hello, world, sent world; a putter first gives
// waiting, sending hello, hello, sending world, world, and 'sent world' only
// after a yield. Ranging over a Channel ends at shutdown.
func TestChannelOrder(t *testing.T) {
	t.Run("getter first", func(t *testing.T) {
		h := newTestHub(t)
		c := NewChannel[string]()
		run(t, h, func(ctx context.Context) error {
			var events []string
			spawn(ctx, h, "getter", func(ctx context.Context) error {
				for range 2 {
					v, err := c.Get(ctx)
					if err != nil {
						return err
					}
					events = append(events, v)
				}
				return nil
			})
			events = append(events, "sending")
			c.Put(ctx, "hello")
			events = append(events, "sent hello")
			c.Put(ctx, "world")
			events = append(events, "sent world")
			want := "sending,hello,sent hello,world,sent world"
			if got := strings.Join(events, ","); got != want {
				t.Errorf("events %s, want %s", got, want)
			}
			return nil
		})
	})
	t.Run("putter first", func(t *testing.T) {
		h := newTestHub(t)
		c := NewChannel[string]()
		run(t, h, func(ctx context.Context) error {
			var events []string
			spawn(ctx, h, "putter", func(ctx context.Context) error {
				events = append(events, "sending hello")
				c.Put(ctx, "hello")
				events = append(events, "sending world")
				c.Put(ctx, "world")
				events = append(events, "sent world")
				return nil
			})
			events = append(events, "waiting")
			for range 2 {
				v, _ := c.Get(ctx)
				events = append(events, v)
			}
			want := "waiting,sending hello,hello,sending world,world"
			if got := strings.Join(events, ","); got != want {
				t.Errorf("events %s, want %s", got, want)
			}
			Yield(ctx)
			if events[len(events)-1] != "sent world" {
				t.Errorf("after a yield: %v", events)
			}
			return nil
		})
	})
	t.Run("range ends at shutdown", func(t *testing.T) {
		h := newTestHub(t)
		c := NewChannel[int]()
		run(t, h, func(ctx context.Context) error {
			spawn(ctx, h, "putter", func(ctx context.Context) error {
				for i := range 3 {
					if err := c.Put(ctx, i); err != nil {
						return err
					}
				}
				c.Shutdown()
				return nil
			})
			var got []int
			for v := range c.All(ctx) {
				got = append(got, v)
			}
			if !slices.Equal(got, []int{0, 1, 2}) {
				t.Errorf("ranged %v", got)
			}
			if err := c.Put(ctx, 9); !errors.Is(err, ErrQueueShutDown) {
				t.Errorf("Put after Shutdown: %v", err)
			}
			return nil
		})
	})
}

// gevent test__queue (item 53, issue 45): after a put and a get one task is
// unfinished; TaskDone finishes it and Join returns. Join on an unused queue
// returns at once; TaskDone once too often is an error.
func TestQueueJoinable(t *testing.T) {
	h := newTestHub(t)
	run(t, h, func(ctx context.Context) error {
		if err := NewQueue[int](0).Join(timeout(t, ctx, time.Second)); err != nil {
			t.Errorf("Join on an unused queue: %v", err)
		}
		q := NewQueue[int](0)
		if err := q.TaskDone(); !errors.Is(err, ErrTaskDone) {
			t.Errorf("TaskDone on an unused queue: %v, want ErrTaskDone", err)
		}
		q.Put(ctx, 1)
		q.Get(ctx)
		if err := q.Join(timeout(t, ctx, 10*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Join with a task unfinished: %v, want DeadlineExceeded", err)
		}
		joined := false
		spawn(ctx, h, "joiner", func(ctx context.Context) error {
			err := q.Join(ctx)
			joined = true
			return err
		})
		Yield(ctx)
		if joined {
			t.Fatal("Join returned with a task unfinished")
		}
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
		Yield(ctx)
		if !joined {
			t.Error("Join did not return after the last TaskDone")
		}
		if err := q.TaskDone(); !errors.Is(err, ErrTaskDone) {
			t.Errorf("TaskDone once too often: %v, want ErrTaskDone", err)
		}
		return nil
	})
}

// gevent test__queue (item 54): shutdown makes puts fail; gets drain the queue
// and then fail; ShutdownNow fails them at once and hands back the items.
// Blocked putters and getters wake with the error; a blocked putter keeps its
// item.
func TestQueueShutdown(t *testing.T) {
	for _, now := range []bool{false, true} {
		t.Run(fmt.Sprintf("now=%v", now), func(t *testing.T) {
			h := newTestHub(t)
			run(t, h, func(ctx context.Context) error {
				full := NewQueue[int](2)
				full.Put(ctx, 1)
				full.Put(ctx, 2)
				full.Get(ctx)
				var putErr error
				putter := spawn(ctx, h, "putter", func(ctx context.Context) error {
					full.Put(ctx, 3)
					putErr = full.Put(ctx, 4)
					return nil
				})
				empty := NewQueue[int](0)
				var getErr error
				getter := spawn(ctx, h, "getter", func(ctx context.Context) error {
					_, getErr = empty.Get(ctx)
					return nil
				})
				Yield(ctx)
				var dropped []int
				if now {
					dropped = full.ShutdownNow()
					empty.ShutdownNow()
				} else {
					full.Shutdown()
					empty.Shutdown()
				}
				join(ctx, putter)
				join(ctx, getter)
				if !errors.Is(putErr, ErrQueueShutDown) || !errors.Is(getErr, ErrQueueShutDown) {
					t.Errorf("blocked putter: %v, getter: %v; want ErrQueueShutDown", putErr, getErr)
				}
				if err := full.Put(ctx, 5); !errors.Is(err, ErrQueueShutDown) {
					t.Errorf("Put after shutdown: %v", err)
				}
				if err := full.TryPut(5); !errors.Is(err, ErrQueueShutDown) {
					t.Errorf("TryPut after shutdown: %v", err)
				}
				var drained []int
				for v := range full.All(ctx) {
					drained = append(drained, v)
				}
				if now {
					if len(drained) != 0 || !slices.Equal(dropped, []int{2, 3}) {
						t.Errorf("drained %v dropped %v; want none, [2 3]", drained, dropped)
					}
				} else if !slices.Equal(drained, []int{2, 3}) {
					t.Errorf("drained %v, want [2 3] (4 was refused)", drained)
				}
				if _, err := full.Get(ctx); !errors.Is(err, ErrQueueShutDown) {
					t.Errorf("Get after drain: %v", err)
				}
				if _, err := full.Peek(ctx); !errors.Is(err, ErrQueueShutDown) {
					t.Errorf("Peek after drain: %v", err)
				}
				if _, err := full.TryGet(); !errors.Is(err, ErrQueueShutDown) {
					t.Errorf("TryGet after drain: %v", err)
				}
				return nil
			})
		})
	}
}

// ShutdownNow counts the dropped items as done, so Join returns.
func TestQueueShutdownNowReleasesJoin(t *testing.T) {
	h := newTestHub(t)
	run(t, h, func(ctx context.Context) error {
		q := NewQueue[int](0)
		q.Put(ctx, 1)
		q.Put(ctx, 2)
		q.Get(ctx) // one being processed, one in the queue
		if got := q.ShutdownNow(); !slices.Equal(got, []int{2}) {
			t.Errorf("ShutdownNow = %v", got)
		}
		if err := q.Join(timeout(t, ctx, 10*time.Millisecond)); err == nil {
			t.Error("Join returned with the taken item unfinished")
		}
		q.TaskDone()
		if err := q.Join(ctx); err != nil {
			t.Errorf("Join: %v", err)
		}
		return nil
	})
}

// gevent test__queue (item 55): get with a timeout gives up after about the
// timeout for every variant (gevent: Empty; here DeadlineExceeded), and so
// does a put on a full queue or a Channel. Fake clock: the bound is exact.
func TestQueueTimeouts(t *testing.T) {
	const d = 50 * time.Millisecond
	type op func(ctx context.Context) error
	get := func(q testQueue) op { return func(c context.Context) error { _, err := q.Get(c); return err } }
	put := func(q testQueue) op { return func(c context.Context) error { return q.Put(c, 2) } }
	full := func(q *Queue[int]) testQueue { q.TryPut(1); return q }
	cases := []struct {
		name string
		op   func() op
	}{
		{"Queue.Get", func() op { return get(NewQueue[int](0)) }},
		{"Lifo.Get", func() op { return get(NewLifoQueue[int](3)) }},
		{"Priority.Get", func() op { return get(NewPriorityQueue[int](0)) }},
		{"Channel.Get", func() op { return get(NewChannel[int]()) }},
		{"Queue.Peek", func() op {
			q := NewQueue[int](0)
			return func(c context.Context) error { _, err := q.Peek(c); return err }
		}},
		{"Queue.Put", func() op { return put(full(NewQueue[int](1))) }},
		{"Lifo.Put", func() op { return put(full(NewLifoQueue[int](1))) }},
		{"Priority.Put", func() op { return put(full(NewPriorityQueue[int](1))) }},
		{"Channel.Put", func() op { return put(NewChannel[int]()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newBubbleHub(t)
				do := tc.op()
				run(t, h, func(ctx context.Context) error {
					start := time.Now()
					err := do(timeout(t, ctx, d))
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("err = %v, want DeadlineExceeded", err)
					}
					if got := time.Since(start); got != d {
						t.Errorf("gave up after %v, want %v", got, d)
					}
					return nil
				})
			})
		})
	}
}

// Blocked putters are served FIFO, and a newcomer does not overtake them.
func TestQueuePuttersFIFO(t *testing.T) {
	h := newTestHub(t)
	q := NewQueue[int](1)
	run(t, h, func(ctx context.Context) error {
		q.Put(ctx, 0)
		for i := 1; i <= 4; i++ {
			spawn(ctx, h, "putter", func(ctx context.Context) error { return q.Put(ctx, i) })
		}
		Yield(ctx)
		if _, p, _ := q.counts(); p != 4 {
			t.Fatalf("%d putters waiting, want 4", p)
		}
		if err := q.TryPut(99); !errors.Is(err, ErrFull) {
			t.Errorf("TryPut with putters waiting: %v, want ErrFull", err)
		}
		var got []int
		for range 5 {
			v, _ := q.Get(ctx)
			got = append(got, v)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
			t.Errorf("got %v", got)
		}
		return nil
	})
}

// Bad input: a negative capacity and a nil cmp panic with a hub: message.
func TestQueueBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func()
		want string
	}{
		{"negative capacity", func() { NewQueue[int](-1) }, "hub: negative queue capacity -1"},
		{"negative lifo capacity", func() { NewLifoQueue[int](-2) }, "hub: negative queue capacity -2"},
		{"negative priority capacity", func() { NewPriorityQueue[int](-3) }, "hub: negative queue capacity -3"},
		{"nil cmp", func() { NewPriorityQueueFunc[int](0, nil) }, "hub: NewPriorityQueueFunc with a nil cmp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := mustPanic(t, tc.fn); !strings.HasPrefix(msg, tc.want) {
				t.Errorf("panic %q, want prefix %q", msg, tc.want)
			}
		})
	}
	if NewQueue[int](0).Cap() != 0 || NewQueue[int](5).Cap() != 5 {
		t.Error("Cap")
	}
}

// The zero values are ready to use: a zero Queue is an unbounded, joinable
// FIFO queue, a zero Channel a rendezvous channel.
func TestQueueZeroValues(t *testing.T) {
	h := newTestHub(t)
	var q Queue[int]
	var c Channel[string]
	run(t, h, func(ctx context.Context) error {
		require.NoError(t, q.Join(ctx), "nothing unfinished on a fresh zero queue")
		assert.Equal(t, 0, q.Cap())
		for i := range 1000 {
			require.NoError(t, q.TryPut(i), "unbounded")
		}
		assert.Equal(t, 1000, q.Len())
		for i := range 1000 {
			v, err := q.Get(ctx)
			require.NoError(t, err)
			require.Equal(t, i, v, "FIFO")
			require.NoError(t, q.TaskDone())
		}
		require.NoError(t, q.Join(ctx))

		assert.ErrorIs(t, c.TryPut("x"), ErrFull, "no getter waits on a rendezvous channel")
		got := make(chan string, 1)
		spawn(ctx, h, "getter", func(ctx context.Context) error {
			v, err := c.Get(ctx)
			got <- v
			return err
		})
		require.NoError(t, c.Put(ctx, "hello"))
		assert.Equal(t, "hello", <-got)
		return nil
	})
}

// Many producers and consumers, greenlets and plain goroutines, on hubs with
// one and two run tokens, with consumers abandoning gets at random: every
// item arrives exactly once and nothing is lost to a cancelled getter or
// putter.
func TestQueueStressNothingLost(t *testing.T) {
	for _, p := range []int{1, 2} {
		for _, capacity := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("P=%d/cap=%d", p, capacity), func(t *testing.T) {
				h := newTestHub(t, WithParallelism(p))
				var q testQueue
				if capacity == 0 {
					q = NewChannel[int]()
				} else {
					q = NewQueue[int](capacity)
				}
				const producers, perProducer, consumers = 4, 300, 4
				var mu sync.Mutex
				seen := make(map[int]int)
				var wg sync.WaitGroup
				consume := func(ctx context.Context, id int) error {
					defer wg.Done()
					for n := 0; ; n++ {
						c := ctx
						var cancel context.CancelFunc
						if n%3 == id%3 { // every third get may be abandoned early
							c, cancel = context.WithTimeout(ctx, time.Duration(n%5)*time.Microsecond)
						}
						v, err := q.Get(c)
						if cancel != nil {
							cancel()
						}
						if errors.Is(err, ErrQueueShutDown) {
							return nil
						}
						if err != nil {
							continue // abandoned: it must not have taken anything
						}
						mu.Lock()
						seen[v]++
						mu.Unlock()
					}
				}
				produce := func(ctx context.Context, id int) error {
					defer wg.Done()
					for i := 0; i < perProducer; {
						v := id*perProducer + i
						c, cancel := context.WithTimeout(ctx, time.Duration(i%4)*time.Microsecond)
						err := q.Put(c, v)
						cancel()
						if err == nil {
							i++
						} // else it was not put: try the same item again
					}
					return nil
				}
				for i := range consumers {
					wg.Add(1)
					if i%2 == 0 {
						spawn(context.Background(), h, "consumer", func(ctx context.Context) error { return consume(ctx, i) })
					} else {
						go consume(context.Background(), i)
					}
				}
				var pw sync.WaitGroup
				for i := range producers {
					wg.Add(1)
					pw.Add(1)
					f := func(ctx context.Context) error { defer pw.Done(); return produce(ctx, i) }
					if i%2 == 0 {
						spawn(context.Background(), h, "producer", f)
					} else {
						go f(context.Background())
					}
				}
				pw.Wait()
				q.Shutdown() // every item was put: consumers drain the rest, then stop
				wg.Wait()
				if len(seen) != producers*perProducer {
					t.Errorf("%d distinct items arrived, want %d", len(seen), producers*perProducer)
				}
				for v, n := range seen {
					if n != 1 {
						t.Errorf("item %d arrived %d times", v, n)
					}
				}
			})
		}
	}
}

// A zero Queue sets itself up on first use under its lock, so Cap may race
// with that first use (run with -race).
func TestQueueZeroCapRace(t *testing.T) {
	var q Queue[int]
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = q.TryPut(1)
	}()
	assert.Equal(t, 0, q.Cap())
	<-done
}
