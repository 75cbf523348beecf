package monkey

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/gevent-go/gevent/hub"
)

// WrapTransport returns a RoundTripper that makes rt cooperative for
// greenlets: a request whose context carries a greenlet waits for rt's
// RoundTrip off the greenlet's run token (other greenlets run meanwhile), and
// the response body's Read and Close wait the same way. A request whose
// context carries no greenlet goes straight to rt. A nil rt means the current
// http.DefaultTransport; an rt that is already cooperative is returned as is.
//
// Kill: the request's context derives from the greenlet's, so a kill cancels
// the request (rt aborts it and the server sees its context done); the kill
// lands when RoundTrip or Read returns, and a response that arrived just as
// the kill landed is closed.
//
// The response body belongs to the requesting greenlet: read and close it
// there. Reading it from another greenlet of a hub with P = 1, or after the
// requesting greenlet has ended, is safe but blocks the reader's token the
// unpatched way. Reading it from a plain goroutine (or another hub's
// greenlet) while the requesting greenlet runs is the ctx-sharing error of
// package hub and corrupts its run token: hand such a body over only while
// the requester is parked, or read it with hub.Offload.
//
// Hooks the standard library calls during the round trip (httptrace hooks,
// the request body's Read) run off the run token, as they already run on the
// transport's own goroutines: they must not touch greenlet-shared state
// without a lock.
func WrapTransport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t, ok := rt.(*transport); ok {
		return t
	}
	return &transport{base: rt}
}

// transport is the cooperative wrapper around base.
type transport struct {
	base http.RoundTripper
}

// RoundTrip performs req through the base RoundTripper, off the run token of
// the greenlet req's context carries (see WrapTransport).
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if hub.Current(ctx) == nil || req.URL == nil {
		return t.base.RoundTrip(req) // a nil URL is the base's error to report
	}
	resp, err := offToken(ctx, "http "+req.Method+" "+req.URL.Host, func() (*http.Response, error) {
		return t.base.RoundTrip(req)
	}, closeResponse)
	if resp != nil && resp.Body != nil {
		resp.Body = newBody(ctx, resp.Body)
	}
	return resp, err
}

// CloseIdleConnections closes the base RoundTripper's idle connections, if it
// has that method (http.Client.CloseIdleConnections reaches it through here).
// It does not block beyond closing sockets.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func closeResponse(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
}

// body is a response body whose Read and Close wait off the run token of the
// greenlet that made the request.
type body struct {
	ctx context.Context
	rc  io.ReadCloser
	eof atomic.Bool // Read returned io.EOF
}

// rwBody is the body of a 101 Switching Protocols response, which the
// standard library makes writable; the wrapper keeps it writable so callers'
// io.ReadWriteCloser assertions still hold.
type rwBody struct {
	body
	w io.Writer
}

func newBody(ctx context.Context, rc io.ReadCloser) io.ReadCloser {
	switch rc.(type) {
	case *body, *rwBody:
		return rc // a cooperative transport under another one
	}
	if w, ok := rc.(io.Writer); ok {
		return &rwBody{body: body{ctx: ctx, rc: rc}, w: w}
	}
	return &body{ctx: ctx, rc: rc}
}

// Read reads from the response body off the requesting greenlet's run token;
// a kill of that greenlet cancels the request, so Read returns, and the kill
// lands here.
func (b *body) Read(p []byte) (int, error) {
	n, err := offToken(b.ctx, "http.body.read", func() (int, error) { return b.rc.Read(p) }, nil)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

// Close closes the response body off the requesting greenlet's run token:
// closing a body not read to the end waits for the transport's reader
// goroutine. net/http's body read to io.EOF has handed its connection back
// already and closes without waiting, so after io.EOF Close is called
// directly, saving a token hand-off per request.
func (b *body) Close() error {
	if b.eof.Load() {
		return b.rc.Close()
	}
	_, err := offToken(b.ctx, "http.body.close", func() (struct{}, error) { return struct{}{}, b.rc.Close() }, nil)
	return err
}

// Write writes to a 101 response's connection off the run token.
func (b *rwBody) Write(p []byte) (int, error) {
	return offToken(b.ctx, "http.body.write", func() (int, error) { return b.w.Write(p) }, nil)
}
