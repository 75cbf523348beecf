// Package echocheck drives echo servers with standard-library clients that
// check every byte they get back. netpoll's tests and the echo example's
// share it.
package echocheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// HalfClose runs n clients at once against the echo server at addr. Each
// sends a random payload of 1 to maxSize bytes, then shuts down its write
// side (the server sees a FIN), and reads until EOF while it sends. It
// returns nil only if every client got back exactly what it sent, followed
// by EOF; otherwise an error that counts the failures and quotes the first.
// ctx's deadline (or a minute) bounds every client.
func HalfClose(ctx context.Context, addr string, n, maxSize int, seed uint64) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
		first  error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			msg := make([]byte, 1+r.IntN(maxSize))
			for j := range msg {
				msg[j] = byte(r.Uint32())
			}
			if err := halfCloseOne(ctx, addr, msg, deadline); err != nil {
				mu.Lock()
				failed++
				if first == nil {
					first = fmt.Errorf("client %d (%d bytes): %w", i, len(msg), err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		return fmt.Errorf("echocheck: %d of %d half-closing clients failed; first: %w", failed, n, first)
	}
	return nil
}

func halfCloseOne(ctx context.Context, addr string, msg []byte, deadline time.Time) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	got := make(chan error, 1)
	go func() {
		b, err := io.ReadAll(c) // until the server's FIN
		switch {
		case err != nil:
			got <- fmt.Errorf("read after %d bytes: %w", len(b), err)
		case !bytes.Equal(b, msg):
			got <- fmt.Errorf("echo differs: got %d bytes, first difference at %d", len(b), firstDiff(b, msg))
		default:
			got <- nil
		}
	}()
	if _, err := c.Write(msg); err != nil {
		return errors.Join(fmt.Errorf("write: %w", err), <-got)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return errors.Join(fmt.Errorf("close write: %w", err), <-got)
	}
	return <-got
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
