package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `main: spawning workers 1, 2 and 3
main: spawned; none has run yet: they start when main yields (its first Get)
worker 1: started, working for 10 ms
worker 2: started, working for 20 ms
worker 3: started, working for 30 ms
worker 1: done
main: joined worker-1, result 1
worker 2: done
main: joined worker-2, result 4
worker 3: done
main: joined worker-3, result 9
main: created worker-4, started: false
worker 4: started, working for 40 ms
worker 4: done
main: joined worker-4, successful: true, result 16
`)
}
