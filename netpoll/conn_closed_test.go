package netpoll

import (
	"context"
	"testing"
	"time"
)

// OnClosed runs its function once the connection is closed: locally on both
// backends, at the peer's close on gnet, and at once if already closed.
func TestOnClosed(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		ctx := testCtx(t, 10*time.Second)
		c1, c2 := pipe(t, context.Background(), opts...)
		local := make(chan struct{})
		c1.OnClosed(func() { close(local) })
		peer := make(chan struct{})
		c2.OnClosed(func() { close(peer) })
		select {
		case <-local:
			t.Fatal("OnClosed ran on an open connection")
		default:
		}
		if err := c1.Close(); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, ctx, local, "local close")
		if len(opts) == 0 {
			waitClosed(t, ctx, peer, "peer's close (gnet)")
		}
		ran := false
		c1.OnClosed(func() { ran = true })
		if !ran {
			t.Fatal("OnClosed on a closed connection did not run at once")
		}
	})
}

func waitClosed(t *testing.T, ctx context.Context, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("OnClosed did not run after the %s", what)
	}
}
