package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `main: put 6 tasks, waiting in q.Join
worker 1: task 1 (10 ms)
worker 2: task 2 (20 ms)
worker 3: task 3 (30 ms)
worker 1: task 4 (40 ms)
worker 2: task 5 (50 ms)
worker 3: task 6 (60 ms)
main: every task done after 90ms (210 ms of work on 3 workers)
worker 1 did 2 tasks
worker 2 did 2 tasks
worker 3 did 2 tasks
one TaskDone too many: hub: task done called more times than items were put
`)
}
