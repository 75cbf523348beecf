package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `   0s light: green
 35ms car 1: goes
 50ms light: red
 70ms car 2: red, waits
100ms light: green
100ms car 2: goes
105ms car 3: goes
140ms car 4: goes
150ms light: red
175ms car 5: red, waits
200ms light: green, and it stays green
200ms car 5: goes
210ms car 6: goes
`)
}
