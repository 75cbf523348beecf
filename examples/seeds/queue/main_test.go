package main

import (
	"testing"

	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
)

func TestMain(m *testing.M) { seedtest.Main(m) }

func TestRun(t *testing.T) {
	seedtest.Expect(t, run, `1. one producer, one slow consumer, a queue of 2
producer: putting item-1
producer: putting item-2
producer: putting item-3
consumer: got item-1
producer: putting item-4
consumer: got item-2
producer: putting item-5
consumer: got item-3
producer: done
consumer: got item-4
consumer: got item-5
consumer: the queue is shut down and empty
2. three producers, two consumers, an unbounded queue
consumer 1 got [101 301 202 302 303]
consumer 2 got [201 102 103 203]
9 items in all, none lost, none twice
`)
}
