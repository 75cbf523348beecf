package hub

import "github.com/gevent-go/gevent/internal/ring"

// store is the buffer behind a Queue: it decides the order in which items
// come out (FIFO, LIFO, priority). Methods are called under the queue's lock;
// the queue counts the items itself and calls pop and peek only when there
// is one.
type store[T any] interface {
	push(v T)
	pop() T
	peek() T
}

// fifo is the FIFO store: the shared ring buffer, so steady-state puts and
// gets allocate nothing.
type fifo[T any] struct{ ring.Ring[T] }

func (f *fifo[T]) push(v T) { f.Push(v) }
func (f *fifo[T]) pop() T   { return f.Pop() }
func (f *fifo[T]) peek() T  { return f.Peek() }

// stack is a LIFO store.
type stack[T any] struct{ s []T }

func (s *stack[T]) push(v T) { s.s = append(s.s, v) }
func (s *stack[T]) peek() T  { return s.s[len(s.s)-1] }
func (s *stack[T]) pop() T {
	var zero T
	v := s.s[len(s.s)-1]
	s.s[len(s.s)-1] = zero
	s.s = s.s[:len(s.s)-1]
	return v
}

// prioHeap is a priority store: a binary min-heap under cmp. Equal items come
// out in the order they went in (each entry carries its arrival number), so a
// priority queue of equal priorities behaves as a FIFO queue.
type prioHeap[T any] struct {
	h   []prioEntry[T]
	seq uint64
	cmp func(a, b T) int
}

type prioEntry[T any] struct {
	v   T
	seq uint64
}

func (p *prioHeap[T]) less(i, j int) bool {
	if c := p.cmp(p.h[i].v, p.h[j].v); c != 0 {
		return c < 0
	}
	return p.h[i].seq < p.h[j].seq
}

func (p *prioHeap[T]) peek() T { return p.h[0].v }

func (p *prioHeap[T]) push(v T) {
	p.seq++
	p.h = append(p.h, prioEntry[T]{v: v, seq: p.seq})
	for i := len(p.h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !p.less(i, parent) {
			break
		}
		p.h[i], p.h[parent] = p.h[parent], p.h[i]
		i = parent
	}
}

func (p *prioHeap[T]) pop() T {
	v := p.h[0].v
	last := len(p.h) - 1
	p.h[0] = p.h[last]
	p.h[last] = prioEntry[T]{}
	p.h = p.h[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < last && p.less(l, small) {
			small = l
		}
		if r < last && p.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		p.h[i], p.h[small] = p.h[small], p.h[i]
		i = small
	}
	return v
}
