package hub

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// At P = 1, a greenlet receiving from a plain channel that another greenlet
// of the hub sends on deadlocks; with Recv and Send both park.
func TestRecvSendBetweenGreenlets(t *testing.T) {
	h := newTestHub(t)
	run(t, h, func(ctx context.Context) error {
		ch := make(chan int)
		var got []int
		r := spawn(ctx, h, "receiver", func(ctx context.Context) error {
			for {
				v, ok, err := Recv(ctx, ch)
				if err != nil {
					return err
				}
				if !ok {
					return nil
				}
				got = append(got, v)
			}
		})
		for i := range 3 {
			if err := Send(ctx, ch, i); err != nil {
				return err
			}
		}
		close(ch)
		join(ctx, r)
		if len(got) != 3 || got[0] != 0 || got[2] != 2 {
			t.Errorf("received %v", got)
		}
		// And the other way round: the sender parks first.
		ch2 := make(chan string)
		s := spawn(ctx, h, "sender", func(ctx context.Context) error { return Send(ctx, ch2, "hi") })
		if err := Yield(ctx); err != nil { // the sender runs and parks
			return err
		}
		v, ok, err := Recv(ctx, ch2)
		if v != "hi" || !ok || err != nil {
			t.Errorf("Recv = %q %v %v", v, ok, err)
		}
		join(ctx, s)
		return nil
	})
}

func TestRecvSendCtx(t *testing.T) {
	h := newTestHub(t)
	ch := make(chan int)
	for name, ctx := range map[string]context.Context{"plain": context.Background(), "greenlet": nil} {
		t.Run(name, func(t *testing.T) {
			body := func(ctx context.Context) error {
				tctx := timeout(t, ctx, 20*time.Millisecond)
				if _, _, err := Recv(tctx, ch); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Recv: %v", err)
				}
				tctx = timeout(t, ctx, 20*time.Millisecond)
				if err := Send(tctx, ch, 1); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Send: %v", err)
				}
				// Ready at once: done whatever ctx's state.
				done, cancel := context.WithCancel(ctx)
				cancel()
				buf := make(chan int, 1)
				if err := Send(done, buf, 7); err != nil {
					t.Errorf("ready Send with a done ctx: %v", err)
				}
				if v, ok, err := Recv(done, buf); v != 7 || !ok || err != nil {
					t.Errorf("ready Recv with a done ctx: %v %v %v", v, ok, err)
				}
				return nil
			}
			if ctx != nil {
				_ = body(ctx)
				return
			}
			run(t, h, body)
		})
	}
}

// A kill racing with a value never loses the value: it is either returned
// by Recv (and the kill lands later) or still in the channel.
func TestRecvKillLosesNothing(t *testing.T) {
	killRace(t, func(ctx context.Context, ch chan int, got *atomic.Int64) error {
		v, _, err := Recv(ctx, ch)
		if err == nil {
			got.Store(int64(v))
		}
		return err
	})
}

// killRace runs 200 rounds of a greenlet waiting with wait for a value on
// ch while, at once, a value is sent and the greenlet killed; the value
// must end either received (stored in got) or in the channel.
func killRace(t *testing.T, wait func(ctx context.Context, ch chan int, got *atomic.Int64) error) {
	h := newTestHub(t)
	for i := range 200 {
		ch := make(chan int, 1)
		var got atomic.Int64
		got.Store(-1)
		var parked Event
		g := spawn(context.Background(), h, "waiter", func(ctx context.Context) error {
			parked.Set()
			if err := wait(ctx, ch, &got); err != nil {
				return err
			}
			return Yield(ctx) // where a pending kill lands
		})
		parked.Wait(context.Background())
		sent := make(chan struct{})
		go func() { ch <- i; close(sent) }() // races with the kill
		g.Kill(nil)
		<-g.Dead()
		<-sent
		left := len(ch)
		if (got.Load() == int64(i)) == (left == 1) {
			t.Fatalf("round %d: received %d, %d left in the channel: the value was lost or duplicated", i, got.Load(), left)
		}
		if left == 1 {
			<-ch
		}
	}
}

// Send on a closed channel panics in the caller, as a send does. (A channel
// closed while a Send waits panics in the helper goroutine, which hands the
// panic to the caller; the race detector rightly calls a close concurrent
// with a send a race, so that path has no test here.)
func TestSendOnClosedChannelPanics(t *testing.T) {
	h := newTestHub(t)
	ch := make(chan int)
	close(ch)
	run(t, h, func(ctx context.Context) error {
		msg := mustPanic(t, func() { _ = Send(ctx, ch, 1) })
		if !strings.Contains(msg, "send on closed channel") {
			t.Errorf("panic %q", msg)
		}
		msg = mustPanic(t, func() { _, _ = Select(ctx, CaseSend(ch, 1, nil)) })
		if !strings.Contains(msg, "send on closed channel") {
			t.Errorf("Select panic %q", msg)
		}
		return nil
	})
}

func TestSelect(t *testing.T) {
	h := newTestHub(t)
	run(t, h, func(ctx context.Context) error {
		var ev Event
		q := NewQueue[string](0)
		in := make(chan int)
		out := make(chan int)
		var got string
		cases := func() []Case {
			return []Case{
				CaseRecv(in, func(v int, ok bool) { got = "recv " + string(rune('0'+v)) }),
				CaseReady(&ev, func() { got = "event" }),
				CaseReady(q, func() { got = "queue" }),
				CaseSend(out, 5, func() { got = "sent" }),
			}
		}
		check := func(want string, wantIdx int, trigger func()) {
			got = ""
			trigger()
			i, err := Select(ctx, cases()...)
			if err != nil || i != wantIdx || got != want {
				t.Errorf("Select = %d, %v, %q; want %d, %q", i, err, got, wantIdx, want)
			}
		}
		// Each case wins while the others cannot proceed, triggered by
		// another greenlet after Select parked.
		check("event", 1, func() { spawn(ctx, h, "set", func(context.Context) error { ev.Set(); return nil }) })
		ev.Clear()
		check("queue", 2, func() { spawn(ctx, h, "put", func(context.Context) error { return q.Put(ctx, "x") }) })
		if v, err := q.TryGet(); v != "x" || err != nil {
			t.Errorf("the queue item: %q %v", v, err)
		}
		check("recv 3", 0, func() { spawn(ctx, h, "send", func(ctx context.Context) error { return Send(ctx, in, 3) }) })
		var received int
		var receiver *G
		check("sent", 3, func() {
			receiver = spawn(ctx, h, "recv", func(ctx context.Context) error {
				v, _, err := Recv(ctx, out)
				received = v
				return err
			})
		})
		join(ctx, receiver)
		if received != 5 {
			t.Errorf("the receiver got %d, want 5", received)
		}
		// Ready at once.
		ev.Set()
		check("event", 1, func() {})
		ev.Clear()
		// Nothing comes.
		tctx := timeout(t, ctx, 20*time.Millisecond)
		if i, err := Select(tctx, cases()...); i != -1 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Select with nothing ready = %d, %v", i, err)
		}
		tctx = timeout(t, ctx, 20*time.Millisecond)
		if i, err := Select(tctx, CaseReady(&ev, nil)); i != -1 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Select on an Event alone = %d, %v", i, err)
		}
		tctx = timeout(t, ctx, 20*time.Millisecond)
		if i, err := Select(tctx); i != -1 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Select with no case = %d, %v", i, err)
		}
		return nil
	})
}

// From a plain goroutine Select blocks it, channels and hub objects alike.
func TestSelectPlainGoroutine(t *testing.T) {
	var ev Event
	ch := make(chan int)
	go func() { ch <- 1 }()
	if i, err := Select(context.Background(), CaseReady(&ev, nil), CaseRecv(ch, nil)); i != 1 || err != nil {
		t.Fatalf("Select = %d, %v", i, err)
	}
	go ev.Set()
	if i, err := Select(context.Background(), CaseReady(&ev, nil), CaseRecv(ch, nil)); i != 0 || err != nil {
		t.Fatalf("Select = %d, %v", i, err)
	}
}

// Two cases always ready are both picked, over many Selects.
func TestSelectFair(t *testing.T) {
	a, b := make(chan int, 1), make(chan int, 1)
	picked := [2]int{}
	for range 1000 {
		a <- 0
		b <- 0
		i, _ := Select(context.Background(), CaseRecv(a, nil), CaseRecv(b, nil))
		picked[i]++
		select { // drain the other
		case <-a:
		case <-b:
		}
	}
	if picked[0] < 100 || picked[1] < 100 {
		t.Fatalf("picked %v: one case starves", picked)
	}
}

// A kill lands in a Select that waits, and a channel value racing with it
// is never lost.
func TestSelectKill(t *testing.T) {
	var ev Event
	killRace(t, func(ctx context.Context, ch chan int, got *atomic.Int64) error {
		_, err := Select(ctx, CaseReady(&ev, nil), CaseRecv(ch, func(v int, ok bool) { got.Store(int64(v)) }))
		return err
	})
}

// Queue.Ready and Subscribe: an item put (not one handed to a waiting
// getter) or a shutdown fires the subscribers; a cancelled one stays silent.
func TestQueueSubscribe(t *testing.T) {
	q := NewQueue[int](0)
	if q.Ready() {
		t.Fatal("an empty queue is ready")
	}
	var fired, cancelledFired atomic.Int32
	q.Subscribe(func() { fired.Add(1) })
	cancel := q.Subscribe(func() { cancelledFired.Add(1) })
	cancel()
	if err := q.Put(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if !q.Ready() || fired.Load() != 1 || cancelledFired.Load() != 0 {
		t.Fatalf("after a put: ready %v, fired %d, cancelled fired %d", q.Ready(), fired.Load(), cancelledFired.Load())
	}
	q.Subscribe(func() { fired.Add(1) }) // ready: at once
	if fired.Load() != 2 {
		t.Fatalf("a subscription to a ready queue fired %d times", fired.Load()-1)
	}
	if _, err := q.TryGet(); err != nil {
		t.Fatal(err)
	}
	q.Subscribe(func() { fired.Add(1) })
	q.Shutdown()
	if !q.Ready() || fired.Load() != 3 {
		t.Fatalf("after a shutdown: ready %v, fired %d", q.Ready(), fired.Load())
	}
}
