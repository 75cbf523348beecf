package netpoll

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestPlainGoroutineEcho(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		ctx := testCtx(t, 20*time.Second)
		c1, c2 := pipe(t, ctx, opts...)
		go io.Copy(c2, c2)
		msg := bytes.Repeat([]byte("hello netpoll "), 1000)
		if _, err := c1.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c1, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatal("echo differs")
		}
		if c1.LocalAddr().String() != c2.RemoteAddr().String() || c1.RemoteAddr().String() != c2.LocalAddr().String() {
			t.Fatalf("addresses: %v->%v vs %v->%v", c1.LocalAddr(), c1.RemoteAddr(), c2.RemoteAddr(), c2.LocalAddr())
		}
		if err := c1.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c1.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := c1.Read(got); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}
	})
}
