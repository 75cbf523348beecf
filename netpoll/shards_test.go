package netpoll

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
)

// WithHubs serves on every shard: connections go to the shards in turn,
// each handler runs on its shard's hub, and a per-shard counter needs no
// lock (the race detector checks it); handlers on two shards run at once.
func TestServeOnShards(t *testing.T) {
	shards, err := hub.NewShards(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shards.Stop(context.Background()); err != nil {
			t.Errorf("shards stop: %v", err)
		}
	})
	hits := make([]int, shards.Len()) // hits[i] is touched by shard i's greenlets only
	shardOf := func(h *hub.Hub) int {
		for i := range shards.Len() {
			if shards.Hub(i) == h {
				return i
			}
		}
		panic("not a shard")
	}
	inside := make(chan *hub.Hub, 2)
	both := make(chan struct{})
	var once sync.Once
	s := startServer(t, newHub(t), func(ctx context.Context, c *Conn) {
		h := hub.For(ctx)
		hits[shardOf(h)]++ // lock-free within the shard
		buf := make([]byte, 1)
		if _, err := c.Read(buf); err != nil {
			return
		}
		if buf[0] == 'p' {
			// Parallel: wait, holding the shard's token, until the other
			// shard's handler is inside too (one hub could never do this).
			inside <- h
			select {
			case <-both:
			case <-time.After(10 * time.Second):
				return
			}
		}
		c.Write(buf)
	}, WithHubs(shards.Hubs()...))
	addr := s.Addr().String()
	for i := range 8 {
		if got, err := request(t, addr, "x", 1, 5*time.Second); err != nil || got != "x" {
			t.Fatalf("request %d: %q %v", i, got, err)
		}
	}
	for i := range shards.Len() {
		// Read each counter on its own shard, which orders the read after
		// the handlers' writes.
		var n int
		if err := shards.Hub(i).Run(context.Background(), func(context.Context) error { n = hits[i]; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("shard %d served %d of 8 connections", i, n)
		}
	}
	res := make(chan error, 2)
	for range 2 {
		go func() {
			got, err := request(t, addr, "p", 1, 10*time.Second)
			if err == nil && got != "p" {
				err = fmt.Errorf("got %q", got)
			}
			res <- err
		}()
	}
	a, b := <-inside, <-inside
	if a == b {
		t.Fatal("both parallel handlers on one shard")
	}
	once.Do(func() { close(both) })
	for range 2 {
		if err := <-res; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewStreamServer("127.0.0.1:0", echoHandler, WithHubs()); err == nil {
		t.Error("WithHubs without a hub accepted")
	}
	if _, err := NewStreamServer("127.0.0.1:0", echoHandler, WithHubs(shards.Hub(0)), WithSpawner(func(context.Context, func(context.Context)) error { return nil })); err == nil {
		t.Error("WithHubs with WithSpawner accepted")
	}
}
