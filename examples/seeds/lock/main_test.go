package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `1. 3 depositors x 5 x 100 with no lock: balance 500 (updates lost across the sleep)
2. the same holding a hub.Lock across the sleep: balance 1500
3. an RLock taken again by its holder
other: unlocking a lock it does not hold: hub: unlock of an rlock held by someone else
holder: locked at depth 2
holder: locked at depth 3
holder: unlocking the outer level
other: got the lock once the holder let go of every level
`)
}
