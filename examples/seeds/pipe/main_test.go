package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `1. a duplex pipe: parent and child talk both ways
child: received "hello"
parent: received "echo: hello"
child: received "how are you"
parent: received "echo: how are you"
child: parent hung up
2. a one-way pipe: the first end only receives, the second only sends
receiver: 1
receiver: 4
receiver: 9
receiver: end of stream
sending on the receiving end: hub: wrong direction on a one-way pipe end
`)
}
