// Package ring is the FIFO buffer shared by the hub's queues and the pool's
// map engine: a power-of-two circular buffer that doubles when full, so
// steady traffic allocates nothing.
package ring

// Ring is a FIFO of T. The zero value is empty and ready to use. It is not
// safe for concurrent use: its owners call it under their own locks.
type Ring[T any] struct {
	buf  []T
	head int
	n    int
}

// Len returns the number of elements.
func (r *Ring[T]) Len() int { return r.n }

// Push appends v at the back.
func (r *Ring[T]) Push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

func (r *Ring[T]) grow() {
	buf := make([]T, max(8, 2*len(r.buf)))
	m := copy(buf, r.buf[r.head:])
	copy(buf[m:], r.buf[:r.head])
	r.buf, r.head = buf, 0
}

// Pop removes and returns the front element; the ring must not be empty.
func (r *Ring[T]) Pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero // let the element be collected
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// Peek returns the front element; the ring must not be empty.
func (r *Ring[T]) Peek() T { return r.buf[r.head] }

// At returns the i-th element from the front, in place; i must be < Len.
func (r *Ring[T]) At(i int) *T { return &r.buf[(r.head+i)&(len(r.buf)-1)] }
