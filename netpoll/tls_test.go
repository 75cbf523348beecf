package netpoll

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/testcert"
)

// tlsEcho serves TLS on a StreamServer: each line is answered upper-cased;
// "blob N" is answered with N random bytes preceded by their length line.
func tlsEcho(t *testing.T, h *hub.Hub, opts ...Option) *StreamServer {
	t.Helper()
	return startServer(t, h, func(ctx context.Context, c *Conn) {
		tc := tls.Server(c, testcert.Server())
		if err := tc.HandshakeContext(ctx); err != nil {
			return
		}
		r := bufio.NewReader(tc)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			var n int
			if _, err := fmt.Sscanf(line, "blob %d", &n); err == nil {
				blob := make([]byte, n)
				_, _ = rand.Read(blob)
				fmt.Fprintf(tc, "%d\n", n)
				_, _ = tc.Write(blob)
				continue
			}
			_, _ = io.WriteString(tc, strings.ToUpper(line))
		}
	}, serverOpts(opts)...)
}

// A TLS client greenlet and the TLS server's handler greenlets share one
// hub (P = 1): the handshakes and records would deadlock it if any read or
// write kept the run token.
func TestTLSOverNetpoll(t *testing.T) {
	backends(t, func(t *testing.T, opts ...Option) {
		h := newHub(t)
		s := tlsEcho(t, h, opts...)
		inGreenlet(t, h, func(ctx context.Context) error {
			tc, err := DialTLS(ctx, "tcp", s.Addr().String(), testcert.Client(), opts...)
			if err != nil {
				return err
			}
			defer tc.Close()
			if st := tc.ConnectionState(); st.Version != tls.VersionTLS13 || !st.HandshakeComplete {
				return fmt.Errorf("state %+v", st)
			}
			r := bufio.NewReader(tc)
			for _, w := range []string{"hello", "tls"} {
				fmt.Fprintln(tc, w)
				got, err := r.ReadString('\n')
				if err != nil || got != strings.ToUpper(w)+"\n" {
					return fmt.Errorf("echo %q: %q %v", w, got, err)
				}
			}
			// Past the kernel's buffers and most of the inbound limit's
			// default: 3 MiB in records.
			fmt.Fprintln(tc, "blob", 3<<20)
			var n int
			if _, err := fmt.Fscanf(r, "%d\n", &n); err != nil || n != 3<<20 {
				return fmt.Errorf("blob header %d %v", n, err)
			}
			if m, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return fmt.Errorf("blob: %d bytes: %v", m, err)
			}
			return nil
		})
	})
}

// The standard library's TLS client and server interoperate with netpoll's
// TLS, from plain goroutines.
func TestTLSInterop(t *testing.T) {
	s := tlsEcho(t, newHub(t))
	c, err := tls.Dial("tcp", s.Addr().String(), testcert.Client())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "std client")
	if got, err := bufio.NewReader(c).ReadString('\n'); err != nil || got != "STD CLIENT\n" {
		t.Fatalf("std client: %q %v", got, err)
	}

	ln, err := tls.Listen("tcp", "127.0.0.1:0", testcert.Server())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			return
		}
		defer sc.Close()
		_, _ = io.Copy(sc, sc)
	}()
	ctx := testCtx(t, 10*time.Second)
	tc, err := DialTLS(ctx, "tcp", ln.Addr().String(), testcert.Client())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	msg := bytes.Repeat([]byte("x"), 100<<10)
	go func() { _, _ = tc.Write(msg) }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo through a std TLS server: %v", err)
	}
}

// A handshake that fails (an untrusted certificate) or outlives its ctx
// leaves no connection behind.
func TestDialTLSFailures(t *testing.T) {
	s := tlsEcho(t, newHub(t))
	ctx := testCtx(t, 10*time.Second)
	_, err := DialTLS(ctx, "tcp", s.Addr().String(), &tls.Config{})
	var uerr *tls.CertificateVerificationError
	if !errors.As(err, &uerr) {
		t.Fatalf("untrusted certificate: %v", err)
	}
	// A server that accepts and never answers the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := DialTLS(short, "tcp", ln.Addr().String(), testcert.Client()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a silent server: %v", err)
	}
}
