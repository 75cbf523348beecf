package netpoll

import (
	"math/bits"
	"sync"
)

// Inbound bytes wait in buffers from a pool of power-of-two size classes, so
// a connection holds a buffer only while it has unread bytes and gives it
// back as soon as they are read: an idle connection holds none, and a busy
// one reuses buffers instead of allocating one per message.
const (
	minBufShift = 12 // 4 KiB
	maxBufShift = 22 // 4 MiB; larger buffers are allocated and dropped
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

// getBuf returns a buffer with room for at least n bytes, empty. The
// pointer is the handle putBuf takes back (pooling it allocates nothing).
func getBuf(n int) *[]byte {
	c := bufClass(n)
	if c < 0 {
		b := make([]byte, 0, n)
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
