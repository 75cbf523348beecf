package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `  0s customer  1: gets a room (1 busy)
  0s customer  2: gets a room (2 busy)
  0s customer  3: gets a room (3 busy)
  0s customer  4: gets a room (4 busy)
100ms customer  1: leaves
100ms customer  2: leaves
100ms customer  3: leaves
100ms customer  4: leaves
100ms customer  5: gets a room (1 busy)
100ms customer  6: gets a room (2 busy)
100ms customer  7: gets a room (3 busy)
100ms customer  8: gets a room (4 busy)
200ms customer  5: leaves
200ms customer  6: leaves
200ms customer  7: leaves
200ms customer  8: leaves
200ms customer  9: gets a room (1 busy)
200ms customer 10: gets a room (2 busy)
300ms customer  9: leaves
300ms customer 10: leaves
10 customers, 4 rooms: at most 4 rooms busy at once; all done after 300ms
`)
}
