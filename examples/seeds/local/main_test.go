package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `Hello, Alice (in Greenlet-A, no classroom yet)
Hello, Alice (in Greenlet-A, room 101)
Hello, Bob (in Greenlet-B, no classroom yet)
Hello, Bob (in Greenlet-B, room 101)
main greenlet's own student: ""
child: school "Greenlet High" (inherited), student "" (not inherited)
`)
}
