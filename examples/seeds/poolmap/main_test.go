package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `map:            [0 1 4 9 16 25 36 49 64 81] after 150ms
imap_unordered: [81 64 49 36 25 16 9 4 1 0]
map with a failing item: no square for 6
`)
}
