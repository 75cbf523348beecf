package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `1. three greenlets, each hub.Sleep(50ms)
task 1: sleeping
task 2: sleeping
task 3: sleeping
task 1: awake
task 2: awake
task 3: awake
took 50ms: they slept at the same time
2. hub.Yield is gevent.sleep(0): A; yield; B in three greenlets
1A 2A 3A 1B 2B 3B 
3. three greenlets, each time.Sleep(50ms): not a cooperative point
task 1: sleeping, holding the hub
task 1: awake
task 2: sleeping, holding the hub
task 2: awake
task 3: sleeping, holding the hub
task 3: awake
took 150ms: one after the other
`)
}
