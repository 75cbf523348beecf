package netpoll

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/sched"
)

// hangingAddr returns the address of a listening socket with a backlog of
// 0 whose one queue slot is taken, so a further connect hangs (Linux drops
// the SYN while the accept queue is full).
func hangingAddr(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(filler) })
	if err := syscall.Connect(filler, sa); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestKillParkedDial: a greenlet parked in a Dial that hangs dies promptly
// when killed, and a Dial's ctx deadline bounds it.
func TestKillParkedDial(t *testing.T) {
	addr := hangingAddr(t)
	h := newHub(t)
	inGreenlet(t, h, func(ctx context.Context) error {
		g := hubsched.Spawn(h, ctx, sched.Task{Run: func(gctx context.Context) error {
			c, err := Dial(gctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			return err
		}})
		// While it hangs in Dial, other greenlets run.
		hub.Sleep(ctx, 30*time.Millisecond)
		killPromptly(ctx, g)

		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := Dial(dctx, "tcp", addr)
		if el := time.Since(start); err == nil || el < 90*time.Millisecond || el > time.Second {
			failf("Dial with a 100ms deadline: %v after %v", err, el)
		}
		return nil
	})
}
