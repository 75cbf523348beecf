package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `1. joinall: three tasks of 30, 10 and 20 ms
task-2: done after 10 ms
task-3: done after 20 ms
task-1: done after 30 ms
finished in this order: task-2, task-3, task-1
all done after 30ms: they slept at the same time, not one after the other (60ms)
2. joinall with a 25 ms timeout: tasks of 10, 40 and 20 ms
task-1: done after 10 ms
task-3: done after 20 ms
timed out (true): finished task-1, task-3; task-2 still running: true
killed task-2: ready true, successful true (a plain kill is not a failure)
3. joinall with raise_error: tasks of 10 ms, a failure, 20 ms
task-2: failing
joinall returned at the first failure: task-2 failed (finished so far: task-2)
task-1: done after 10 ms
task-3: done after 20 ms
then all three are ready: true true true
`)
}
