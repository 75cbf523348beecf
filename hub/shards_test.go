package hub

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gevent-go/gevent/internal/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shards run in parallel: two greenlets on two shards each spin (no
// cooperative point) until the other has started, which one hub with one
// run token could never do.
func TestShardsRunInParallel(t *testing.T) {
	s, err := NewShards(2, WithMonitor(0, nil))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Stop(context.Background())) }()
	var started [2]atomic.Bool
	outs := make([]<-chan sched.Outcome, 2)
	for i := range 2 {
		_, outs[i] = spawnFn(context.Background(), s.Hub(i), "", func(context.Context) error {
			started[i].Store(true)
			deadline := time.Now().Add(10 * time.Second)
			for !started[1-i].Load() {
				if time.Now().After(deadline) {
					return fmt.Errorf("shard %d ran alone", i)
				}
			}
			return nil
		})
	}
	for _, out := range outs {
		assert.NoError(t, (<-out).Err)
	}
	assert.NoError(t, s.Wait(context.Background()))
}

// Within a shard the contract holds: greenlets share a plain counter
// without locks (the race detector agrees), while each shard has its own.
func TestShardsLockFreeWithin(t *testing.T) {
	s, err := NewShards(0)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Stop(context.Background())) }()
	counts := make([]int, s.Len()) // counts[i] only touched on shard i
	for range 100 * s.Len() {
		h := s.Next()
		i := indexOf(s, h)
		h.spawn(context.Background(), sched.Task{Run: func(ctx context.Context) error {
			for range 10 {
				counts[i]++
				Yield(ctx)
			}
			return nil
		}})
	}
	require.NoError(t, s.Wait(context.Background()))
	for i, c := range counts {
		assert.Equal(t, 1000, c, "shard %d", i)
	}
}

func indexOf(s *Shards, h *Hub) int {
	for i, x := range s.Hubs() {
		if x == h {
			return i
		}
	}
	return -1
}

func TestShardsOptions(t *testing.T) {
	_, err := NewShards(2, WithParallelism(2))
	assert.ErrorIs(t, err, errInvalid)
	s, err := NewShards(0)
	require.NoError(t, err)
	var g *G
	g, out := spawnFn(context.Background(), s.Hub(0), "", func(ctx context.Context) error { return s.Stop(ctx) })
	assert.ErrorIs(t, (<-out).Err, errInvalid)
	<-g.Dead()
	require.NoError(t, s.Stop(context.Background()))
}
