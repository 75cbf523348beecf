package pool

// ring is a FIFO on a circular buffer that doubles when full. The map engine
// keeps pulled items and results in rings, and a set keeps its queue of slot
// requests in one, so steady traffic costs no allocation.
type ring[E any] struct {
	buf  []E
	head int
	n    int
}

func (r *ring[E]) len() int { return r.n }

func (r *ring[E]) push(v E) {
	if r.n == len(r.buf) {
		buf := make([]E, max(16, 2*len(r.buf)))
		k := copy(buf, r.buf[r.head:])
		copy(buf[k:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

// at returns the i-th element from the front; i must be < len.
func (r *ring[E]) at(i int) *E { return &r.buf[(r.head+i)%len(r.buf)] }

// pop removes and returns the front element; the ring must not be empty.
func (r *ring[E]) pop() E {
	var zero E
	v := r.buf[r.head]
	r.buf[r.head] = zero // drop the reference for the garbage collector
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v
}
