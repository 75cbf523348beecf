package hub

import (
	"context"
	"math/rand/v2"
	"reflect"
)

// Waitable is anything that becomes ready and says so: spawn's greenlets,
// Event, AsyncResult, Queue, the Semaphore family and Lock. Select waits on
// them (CaseReady), and so do spawn.Wait and spawn.IWait.
type Waitable interface {
	// Ready reports whether the object is ready. It never blocks.
	Ready() bool
	// Subscribe calls fn once the object is ready (at once if it already
	// is); fn must not block. cancel removes the subscription.
	Subscribe(fn func()) (cancel func())
}

// A Case is one alternative of Select: a receive or a send on a Go channel
// (CaseRecv, CaseSend), or a hub object becoming ready (CaseReady).
type Case struct {
	ch   reflect.Value // the channel, or the zero Value for a Waitable
	dir  reflect.SelectDir
	send reflect.Value
	w    Waitable

	try  func() bool                    // a non-blocking attempt; stores the result
	got  func(v reflect.Value, ok bool) // stores the result of reflect.Select
	fire func()                         // calls the case's function with the result
}

// CaseRecv is the case of a receive from ch; fn, if not nil, gets the value
// and ok (false once ch is closed and drained) when Select picks the case.
// A nil ch never proceeds, as in a select statement.
func CaseRecv[T any](ch <-chan T, fn func(v T, ok bool)) Case {
	var v T
	var ok bool
	return Case{
		ch:  reflect.ValueOf(ch),
		dir: reflect.SelectRecv,
		try: func() bool {
			select {
			case v, ok = <-ch:
				return true
			default:
				return false
			}
		},
		got: func(rv reflect.Value, rok bool) {
			var zero T
			v, ok = zero, rok
			if rok {
				if x, isT := rv.Interface().(T); isT { // false for a nil interface value
					v = x
				}
			}
		},
		fire: func() {
			if fn != nil {
				fn(v, ok)
			}
		},
	}
}

// CaseSend is the case of a send of v on ch; fn, if not nil, runs when
// Select picks the case (v was sent). A nil ch never proceeds; a closed one
// makes Select panic, as a send does.
func CaseSend[T any](ch chan<- T, v T, fn func()) Case {
	return Case{
		ch:   reflect.ValueOf(ch),
		dir:  reflect.SelectSend,
		send: reflect.ValueOf(&v).Elem(),
		try: func() bool {
			select {
			case ch <- v:
				return true
			default:
				return false
			}
		},
		got: func(reflect.Value, bool) {},
		fire: func() {
			if fn != nil {
				fn()
			}
		},
	}
}

// CaseReady is the case of w being ready: an Event set, an AsyncResult or
// a greenlet done, an item in a Queue, a free Semaphore permit or Lock.
// Select picks it when it finds w ready and takes nothing from it (a Queue
// item or a permit may go to someone else before the caller asks): fn, if
// not nil, runs then.
func CaseReady(w Waitable, fn func()) Case {
	if w == nil {
		panic("hub: CaseReady with a nil Waitable")
	}
	return Case{
		w:   w,
		try: w.Ready,
		fire: func() {
			if fn != nil {
				fn()
			}
		},
	}
}

// Select waits until one of cases can proceed, performs it (the receive or
// send; a ready Waitable needs nothing done), runs its function and returns
// its index: gevent's wait/select over hub objects and Go channels, in the
// spirit of a select statement. When several cases can proceed, one is
// picked pseudo-randomly, so that none starves. It returns -1 and ctx's
// cause if ctx ends first; a case ready at once is picked whatever ctx's
// state. With no cases it waits for ctx.
//
// From a greenlet, a Select that waits is a cooperative point: the
// greenlet parks, and a kill lands there, unless a channel case went
// through just as the wait was cancelled (then Select returns it and the
// kill lands at the next cooperative point: a value is never lost). While
// it waits on channels, a helper goroutine of the call blocks on them (a
// channel has no other way to be waited on off the run token); a Select on
// hub objects alone needs none. Outside a greenlet, Select blocks the
// calling goroutine.
func Select(ctx context.Context, cases ...Case) (int, error) {
	for {
		if i := tryCases(cases); i >= 0 {
			cases[i].fire()
			return i, nil
		}
		i, err := waitCases(ctx, cases)
		if err != nil {
			return -1, err
		}
		if i >= 0 {
			cases[i].fire()
			return i, nil
		}
		// A Waitable was ready when it said so, and taken (or cleared)
		// since: look again.
	}
}

// tryCases makes one non-blocking attempt at each case, from a random one
// on, and returns the first that proceeded, or -1.
func tryCases(cases []Case) int {
	if len(cases) == 0 {
		return -1
	}
	off := rand.IntN(len(cases))
	for k := range cases {
		i := (off + k) % len(cases)
		if cases[i].try() {
			return i
		}
	}
	return -1
}

// waitCases waits until a channel case proceeds (its index) or a Waitable
// may be ready (-1), or ctx ends.
func waitCases(ctx context.Context, cases []Case) (int, error) {
	var chans []int // indexes of the channel cases
	for i, c := range cases {
		if c.w == nil {
			chans = append(chans, i)
		}
	}
	green := Current(ctx) != nil
	if len(chans) == 0 {
		// Hub objects only: their subscriptions wake the caller.
		w := NewWaiter(ctx)
		stop := subscribe(cases, func() { w.Wake() })
		if err := w.Park(ctx, "select", stop); err != nil {
			return -1, err
		}
		stop()
		return -1, nil
	}

	// Channels and hub objects: one reflect.Select over the channels, a
	// wake channel the subscriptions signal, and a stop channel, so that
	// exactly one of them is taken.
	wake := make(chan struct{}, 1)
	unsubscribe := subscribe(cases, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer unsubscribe()
	sel := make([]reflect.SelectCase, 0, len(chans)+2)
	for _, i := range chans {
		sel = append(sel, reflect.SelectCase{Dir: cases[i].dir, Chan: cases[i].ch, Send: cases[i].send})
	}
	sel = append(sel, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(wake)})
	wakeAt, stopAt := len(chans), len(chans)+1
	pick := func(chosen int, v reflect.Value, ok bool) int {
		if chosen < wakeAt {
			cases[chans[chosen]].got(v, ok)
			return chans[chosen]
		}
		return -1
	}
	if !green {
		sel = append(sel, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
		chosen, v, ok := reflect.Select(sel)
		if chosen == stopAt {
			return -1, context.Cause(ctx)
		}
		return pick(chosen, v, ok), nil
	}

	picked := -1
	err := parkOn(ctx, "select", func(stop <-chan struct{}) {
		sel = append(sel, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(stop)})
		chosen, v, ok := reflect.Select(sel)
		if chosen != stopAt {
			picked = pick(chosen, v, ok)
		}
	})
	switch {
	case picked >= 0:
		return picked, nil // even if the wait was cancelled: the value is not lost
	case err != nil:
		return -1, checkpointErr(ctx, err)
	}
	return -1, nil
}

// subscribe subscribes fn to every Waitable case and returns what cancels
// the subscriptions.
func subscribe(cases []Case, fn func()) (cancel func()) {
	var cancels []func()
	for _, c := range cases {
		if c.w != nil {
			cancels = append(cancels, c.w.Subscribe(fn))
		}
	}
	return func() {
		for _, c := range cancels {
			c()
		}
	}
}
