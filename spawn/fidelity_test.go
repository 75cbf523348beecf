package spawn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

// A failure is reported unless its error is handed to a caller: Join, Wait
// and IWait only wait, so the failures they wait for are reported (they used
// to count as observed and vanish); Get, LinkError and JoinAll(RaiseError)
// take the error.
func TestFailuresNeverVanish(t *testing.T) {
	boom := errors.New("boom")
	cases := map[string]struct {
		wait     func(ctx context.Context, g *spawn.Greenlet[int]) error
		reported bool
	}{
		"Join": {func(ctx context.Context, g *spawn.Greenlet[int]) error { return g.Join(ctx) }, true},
		"Wait": {func(ctx context.Context, g *spawn.Greenlet[int]) error {
			spawn.Wait(ctx, []*spawn.Greenlet[int]{g}, 0)
			return nil
		}, true},
		"IWait": {func(ctx context.Context, g *spawn.Greenlet[int]) error {
			for _, err := range spawn.IWait(ctx, []*spawn.Greenlet[int]{g}) {
				if err != nil {
					return err
				}
			}
			return nil
		}, true},
		"JoinAll": {func(ctx context.Context, g *spawn.Greenlet[int]) error {
			_, err := spawn.JoinAll(ctx, []*spawn.Greenlet[int]{g})
			return err
		}, true},
		"Get": {func(ctx context.Context, g *spawn.Greenlet[int]) error {
			if _, err := g.Get(ctx); !errors.Is(err, boom) {
				return err
			}
			return nil
		}, false},
		"JoinAll RaiseError": {func(ctx context.Context, g *spawn.Greenlet[int]) error {
			if _, err := spawn.JoinAll(ctx, []*spawn.Greenlet[int]{g}, spawn.RaiseError()); !errors.Is(err, boom) {
				return err
			}
			return nil
		}, false},
		"LinkError": {func(ctx context.Context, g *spawn.Greenlet[int]) error {
			q := hub.NewQueue[error](0)
			g.LinkError(func(g *spawn.Greenlet[int]) { q.TryPut(g.Err()) })
			err, qerr := q.Get(ctx)
			if !errors.Is(err, boom) {
				return errors.Join(err, qerr)
			}
			return nil
		}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, log := run(t, func(ctx context.Context) error {
				g := spawn.Spawn(ctx, failing(boom))
				return tc.wait(ctx, g)
			})
			if tc.reported {
				require.Len(t, log.All(), 1)
				assert.ErrorIs(t, log.All()[0], boom)
			} else {
				assert.Empty(t, log.All())
			}
		})
	}
}

// Nil is rejected where it is passed, with a message naming the call.
func TestNilRejectedAtTheCall(t *testing.T) {
	run(t, func(ctx context.Context) error {
		g := spawn.Spawn(ctx, value(1))
		assert.PanicsWithValue(t, "spawn: Link with a nil function", func() { g.Link(nil) })
		assert.PanicsWithValue(t, "spawn: LinkValue with a nil function", func() { g.LinkValue(nil) })
		assert.PanicsWithValue(t, "spawn: LinkError with a nil function", func() { g.LinkError(nil) })
		assert.PanicsWithValue(t, "spawn: Subscribe with a nil function", func() { g.Subscribe(nil) })
		gs := []*spawn.Greenlet[int]{g, nil}
		assert.PanicsWithValue(t, "spawn: Wait with a nil entry at index 1", func() { spawn.Wait(ctx, gs, 0) })
		assert.PanicsWithValue(t, "spawn: IWait with a nil entry at index 1", func() { spawn.IWait(ctx, gs) })
		assert.PanicsWithValue(t, "spawn: KillAll with a nil entry at index 1", func() { spawn.KillAll(ctx, gs, nil) })
		var ev *hub.Event
		assert.PanicsWithValue(t, "spawn: Wait with a nil entry at index 0", func() { spawn.Wait(ctx, []spawn.Waitable{ev}, 0) })
		return g.Join(ctx)
	})
}

// The links of a greenlet killed before it ran fire on its hub, where they
// may wait cooperatively; KillAsync returns at once and nothing is lost
// (gevent's link(queue.put) always delivers).
func TestLinksOfUnstartedNeverBlockTheKiller(t *testing.T) {
	h, _ := newHub(t)
	q := hub.NewQueue[int](1)
	require.NoError(t, q.Put(context.Background(), -1)) // full
	gs := make([]*spawn.Greenlet[int], 5)
	for i := range gs {
		var gctx context.Context
		gs[i] = spawn.New(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
			gctx = ctx
			return i, nil
		})
		gs[i].Link(func(g *spawn.Greenlet[int]) {
			// A link may block (here for room in the queue) without
			// blocking the killer.
			assert.True(t, g.Killed())
			assert.Nil(t, gctx, "killed before it ran")
			assert.NoError(t, q.Put(hub.NewContext(context.Background(), h), 1))
		})
	}
	start := time.Now()
	for _, g := range gs {
		g.KillAsync(nil)
	}
	assert.Less(t, time.Since(start), time.Second, "the killer was blocked by a link")
	got := 0
	for range len(gs) + 1 {
		v, err := q.Get(context.Background())
		require.NoError(t, err)
		got += v
	}
	assert.Equal(t, len(gs)-1, got, "every link delivered")
	for _, g := range gs {
		<-g.Done()
		assert.True(t, g.Killed())
		assert.False(t, g.Started())
	}
}
