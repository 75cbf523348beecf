package netpoll

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gevent-go/gevent/internal/echocheck"
)

// DialContext dials TCP with Dial (a *Conn) and other networks with the
// standard library, from a greenlet or from a plain goroutine.
func TestDialContext(t *testing.T) {
	addr, stop, err := echocheck.StdServer(func(c net.Conn) { _, _ = io.Copy(c, c) })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	check := func(ctx context.Context) error {
		c, err := DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("tcp: %w", err)
		}
		defer c.Close()
		if _, ok := c.(*Conn); !ok {
			return fmt.Errorf("tcp: got a %T, want a *Conn", c)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			return fmt.Errorf("echo: %q, %v", buf, err)
		}
		u, err := DialContext(ctx, "udp", udp.LocalAddr().String())
		if err != nil {
			return fmt.Errorf("udp: %w", err)
		}
		defer u.Close()
		if _, ok := u.(*net.UDPConn); !ok {
			return fmt.Errorf("udp: got a %T, want a *net.UDPConn", u)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := check(ctx); err != nil { // a plain goroutine
		t.Fatal(err)
	}
	inGreenlet(t, newHub(t), check)
}
