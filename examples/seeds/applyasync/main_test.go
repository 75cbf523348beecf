package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `main: 10 tasks handed to a pool of 4 without blocking; 10 members now
  0s task  1: running (1 running)
  0s task  2: running (2 running)
  0s task  3: running (3 running)
  0s task  4: running (4 running)
10ms callback: 9
10ms task  5: running (4 running)
20ms callback: 1
20ms callback: 16
20ms task  6: running (3 running)
20ms task  7: running (4 running)
30ms callback: 4
30ms callback: 36
30ms task  8: running (3 running)
30ms task  9: running (4 running)
40ms callback: 25
40ms callback: 49
40ms callback: 81
40ms task 10: running (2 running)
60ms callback: 64
60ms callback: 100
60ms main: joined; 10 results, in completion order: [9 1 16 4 36 25 49 81 64 100]
`)
}
