package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

// Run under -race: the lock-free sharing is race-free because greenlets of
// one hub take turns.
func TestRun(t *testing.T) {
	seedtest.ExpectRealTime(t, run, `1. after the child: num = 3.1415927, arr = [0 -1 -2 -3 -4 -5 -6 -7 -8 -9]
2. 10 greenlets x 1000 increments, no lock: counter = 10000
3. the same with a yield between read and write: counter = 1000 (updates lost: hold a hub.Lock across the yield)
`)
}
