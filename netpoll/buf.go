package netpoll

import (
	"math/bits"
	"sync"
)

// Inbound bytes wait in buffers of power-of-two sizes. A connection gives a
// buffer back as soon as its bytes are read, but for one of the smallest
// size (4 KiB), which it keeps for its next message: an idle connection
// holds at most that. Buffers up to 32 KiB are pooled, so a busy
// connection reuses them instead of allocating one per message; larger
// ones (a reader lagging behind) are left to the garbage collector, so a
// burst of them does not linger in the pool.
const (
	minBufShift = 12 // 4 KiB
	maxBufShift = 15 // 32 KiB; larger buffers are allocated and dropped
	copyBuf     = 32 << 10
)

var bufPools [maxBufShift - minBufShift + 1]sync.Pool

// bufClass returns the index of the smallest class holding n bytes, or -1
// past the largest.
func bufClass(n int) int {
	if n <= 1<<minBufShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minBufShift
	if c >= len(bufPools) {
		return -1
	}
	return c
}

// getBuf returns a buffer with room for at least n bytes, empty, of a
// power-of-two size. The pointer is the handle putBuf takes back (pooling it
// allocates nothing).
func getBuf(n int) *[]byte {
	c := bufClass(n)
	if c < 0 {
		b := make([]byte, 0, 1<<bits.Len(uint(n-1)))
		return &b
	}
	if p, ok := bufPools[c].Get().(*[]byte); ok {
		*p = (*p)[:0]
		return p
	}
	b := make([]byte, 0, 1<<(c+minBufShift))
	return &b
}

// putBuf gives p's buffer back to its class; it must not be used
// afterwards. nil, and buffers past the largest class, are dropped.
func putBuf(p *[]byte) {
	if p == nil {
		return
	}
	c := bufClass(cap(*p))
	if c < 0 || cap(*p) != 1<<(c+minBufShift) {
		return
	}
	bufPools[c].Put(p)
}
