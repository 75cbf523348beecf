package hub

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
)

// The seeds' multiprocessing.Pipe() program, with greenlets: a duplex pipe
// carries requests one way and answers the other; closing an end gives the
// other a clean io.EOF after what was sent before.
func TestPipeDuplex(t *testing.T) {
	h := newTestHub(t)
	parent, child := NewPipe[string](true)
	run(t, h, func(ctx context.Context) error {
		var served []string
		var sendErr error
		worker := spawn(ctx, h, "child", func(ctx context.Context) error {
			defer child.Close()
			for {
				req, err := child.Recv(ctx)
				if err != nil {
					return err
				}
				served = append(served, req)
				if sendErr = child.Send(ctx, "echo "+req); sendErr != nil {
					return nil
				}
			}
		})
		var got []string
		for _, req := range []string{"a", "b", "c"} {
			if err := parent.Send(ctx, req); err != nil {
				t.Fatal(err)
			}
			ans, err := parent.Recv(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ans)
		}
		if !slices.Equal(got, []string{"echo a", "echo b", "echo c"}) {
			t.Errorf("answers %v", got)
		}
		parent.Send(ctx, "d")
		parent.Close() // the child still gets "d", then its answer fails
		join(ctx, worker)
		if !slices.Equal(served, []string{"a", "b", "c", "d"}) || !errors.Is(sendErr, io.ErrClosedPipe) {
			t.Errorf("child served %v, last Send: %v", served, sendErr)
		}
		return nil
	})
}

// Close semantics, table-driven: what each end sees after one of them
// closes, in a duplex and a one-way pipe.
func TestPipeClose(t *testing.T) {
	bg := context.Background()
	cases := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"peer gets buffered values then EOF", func(t *testing.T) {
			a, b := NewPipe[int](true)
			a.Send(bg, 1)
			a.Send(bg, 2)
			a.Close()
			var got []int
			var err error
			for {
				var v int
				if v, err = b.Recv(bg); err != nil {
					break
				}
				got = append(got, v)
			}
			if !slices.Equal(got, []int{1, 2}) || err != io.EOF {
				t.Errorf("received %v then %v; want [1 2] then io.EOF", got, err)
			}
			if _, err := b.Recv(bg); err != io.EOF {
				t.Errorf("Recv after EOF: %v", err)
			}
		}},
		{"send to a closed peer", func(t *testing.T) {
			a, b := NewPipe[int](true)
			b.Close()
			if err := a.Send(bg, 1); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Send: %v, want io.ErrClosedPipe", err)
			}
		}},
		{"own end after close", func(t *testing.T) {
			a, _ := NewPipe[int](true)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := a.Send(bg, 1); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Send on a closed end: %v", err)
			}
			if _, err := a.Recv(bg); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Recv on a closed end: %v", err)
			}
		}},
		{"one-way directions", func(t *testing.T) {
			r, w := NewPipe[int](false)
			if err := r.Send(bg, 1); !errors.Is(err, ErrPipeOneWay) {
				t.Errorf("Send on the receiving end: %v", err)
			}
			if _, err := w.Recv(bg); !errors.Is(err, ErrPipeOneWay) {
				t.Errorf("Recv on the sending end: %v", err)
			}
			w.Send(bg, 7)
			if v, err := r.Recv(bg); v != 7 || err != nil {
				t.Errorf("Recv = %d, %v", v, err)
			}
			w.Close()
			if _, err := r.Recv(bg); err != io.EOF {
				t.Errorf("Recv after the writer closed: %v, want io.EOF", err)
			}
		}},
		{"one-way reader closes", func(t *testing.T) {
			r, w := NewPipe[int](false)
			r.Close()
			if err := w.Send(bg, 1); !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("Send after the reader closed: %v", err)
			}
		}},
		{"send with a done ctx", func(t *testing.T) {
			a, b := NewPipe[int](true)
			ctx, cancel := context.WithCancelCause(bg)
			cancel(errTest)
			if err := a.Send(ctx, 1); err != errTest {
				t.Errorf("Send with a cancelled ctx: %v", err)
			}
			if _, err := b.Recv(ctx); err != errTest {
				t.Errorf("Recv found something (%v): the refused Send sent", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.fn)
	}
}

// A greenlet blocked in Recv wakes with io.EOF when the other end closes,
// and with io.ErrClosedPipe when its own end is closed under it.
func TestPipeCloseWakesBlockedRecv(t *testing.T) {
	for _, own := range []bool{false, true} {
		h := newTestHub(t)
		a, b := NewPipe[int](true)
		run(t, h, func(ctx context.Context) error {
			var err error
			g := spawn(ctx, h, "reader", func(ctx context.Context) error {
				_, err = a.Recv(ctx)
				return nil
			})
			Yield(ctx)
			if own {
				a.Close()
			} else {
				b.Close()
			}
			join(ctx, g)
			if own && !errors.Is(err, io.ErrClosedPipe) || !own && err != io.EOF {
				t.Errorf("own=%v: Recv woke with %v", own, err)
			}
			return nil
		})
	}
}
