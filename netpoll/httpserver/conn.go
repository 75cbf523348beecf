package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/glocal"
	"github.com/gevent-go/gevent/netpoll"
)

// conn is one connection, served by one greenlet from its accept to its
// close: that greenlet reads each request, runs the handler, and writes the
// response, in turn, so nothing here is shared with another goroutine
// except state (the atomic fields) and the request's cancel func, which the
// close hook calls.
type conn struct {
	s       *Server
	g       *hub.G
	nc      *netpoll.Conn // bound to the connection greenlet's ctx
	rwc     net.Conn      // nc, or the TLS connection over it
	r       connReader
	br      *bufio.Reader
	bw      *bufio.Writer // the connection's output buffer; flushed before a read may wait
	rw      *bufio.Writer // a response's buffer before its header is final, reused
	werr    error         // the first write error: the connection is not reused after one
	remote  string
	tlsConn *tls.ConnectionState

	state    atomic.Int32                       // connIdle or connActive, or connShut once a stop closed it
	cancel   atomic.Pointer[context.CancelFunc] // the current request's
	gone     atomic.Bool                        // the connection is closed
	hijacked bool
	rdlArmed bool      // a read deadline is set
	t0       time.Time // when the request's first byte came (for WithReadTimeout)
	lastPOST bool      // the previous request was a POST (RFC 7230 section 3.5 tolerance)
}

const (
	connActive int32 = iota
	connIdle
	connShut
)

// Buffers outlive their connections in pools, as net/http's do: an idle
// keep-alive connection then holds only its 4 KiB read buffer.
var (
	readerPool   sync.Pool
	writerPool   sync.Pool
	prebodyPool  sync.Pool
	bufSize      = 4 << 10
	prebodySize  = 2 << 10 // net/http's bufferBeforeChunkingSize: the largest body that still gets a computed Content-Length
	rstAvoidance = 500 * time.Millisecond
)

func getReader(r io.Reader) *bufio.Reader {
	if br, ok := readerPool.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, bufSize)
}

func getWriter(pool *sync.Pool, w io.Writer, size int) *bufio.Writer {
	if bw, ok := pool.Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, size)
}

func putWriter(pool *sync.Pool, bw *bufio.Writer) {
	bw.Reset(nil)
	pool.Put(bw)
}

// connReader is what the connection's bufio.Reader reads from. It flushes
// the output before every read, so a response is never left in the buffer
// while the greenlet waits for the client (responses to pipelined requests
// already buffered go out together), and it caps what a request's header
// may read.
type connReader struct {
	c      *conn
	remain int64 // bytes still allowed; math.MaxInt64 outside a header
	hit    bool  // the cap ended a read
}

func (r *connReader) Read(p []byte) (int, error) {
	c := r.c
	if c.bw.Buffered() > 0 {
		_ = c.bw.Flush() // an error is in c.werr, and the read will fail too
	}
	if r.remain <= 0 {
		r.hit = true
		return 0, io.EOF
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := c.rwc.Read(p)
	r.remain -= int64(n)
	return n, err
}

// connWriter records the first write error of the connection.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	n, err := w.c.rwc.Write(p)
	if err != nil && w.c.werr == nil {
		w.c.werr = err
	}
	return n, err
}

// serveConn is the StreamServer's handler: the life of one connection, in
// its own greenlet.
func (s *Server) serveConn(ctx context.Context, nc *netpoll.Conn) {
	c := &conn{s: s, g: hub.Current(ctx), nc: nc, rwc: nc}
	if ra := nc.RemoteAddr(); ra != nil {
		c.remote = ra.String()
	}
	c.state.Store(connActive)
	if !s.track(c) {
		return
	}
	defer s.untrack(c)
	nc.OnClosed(c.closed)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, nc.LocalAddr())

	if s.cfg.tls != nil && !c.handshake(ctx) {
		return
	}
	c.r.c, c.r.remain = c, math.MaxInt64
	c.br = getReader(&c.r)
	c.bw = getWriter(&writerPool, connWriter{c}, bufSize)
	c.rw = getWriter(&prebodyPool, nil, prebodySize)
	defer c.release()

	first := true
	for {
		if !c.waitRequest(first) {
			return
		}
		first = false
		w, err := c.readRequest(ctx)
		if err != nil {
			c.refuse(err)
			return
		}
		if w.expectationFailed {
			// RFC 9110 section 10.1.1, answered as net/http does.
			w.cancel()
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusExpectationFailed)
			w.finish()
			return
		}
		if !c.serveRequest(w) {
			return
		}
		glocal.Clear(ctx) // the next request starts with fresh greenlet-locals
	}
}

// waitRequest waits for the first byte of the next request: for the read
// header timeout on a fresh connection, for the idle timeout between
// requests. A graceful stop closes a connection waiting here. It reports
// whether a request is coming.
func (c *conn) waitRequest(first bool) bool {
	cfg := &c.s.cfg
	d := cfg.idleTimeout
	if first {
		d = cfg.readHeaderTimeout
	}
	c.armRead(d)
	// The header limit counts from here: the bytes read for this request.
	c.r.remain = int64(cfg.maxHeaderBytes) + 4096
	c.state.Store(connIdle)
	if c.s.stopping.Load() {
		return false // the stop may have missed this connection: it was busy
	}
	if c.br.Buffered() == 0 {
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	// A stop that closed the connection while bytes came in wins: the
	// request is not half-read from a closed connection.
	if !c.state.CompareAndSwap(connIdle, connActive) {
		return false
	}
	if cfg.readTimeout > 0 {
		c.t0 = time.Now()
	}
	// The header timeout runs from the first byte; a header that is all
	// here already (the usual case) cannot be late, which spares the
	// deadline's timer.
	if !first && cfg.readHeaderTimeout > 0 && !headerBuffered(c.br) {
		c.armRead(cfg.readHeaderTimeout)
	}
	return true
}

// headerBuffered reports whether br holds the end of a request header.
func headerBuffered(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	return bytes.Contains(b, []byte("\n\r\n")) || bytes.Contains(b, []byte("\n\n"))
}

// armRead sets the read deadline d from now (none for d = 0).
func (c *conn) armRead(d time.Duration) {
	switch {
	case d > 0:
		_ = c.rwc.SetReadDeadline(time.Now().Add(d))
		c.rdlArmed = true
	case c.rdlArmed:
		_ = c.rwc.SetReadDeadline(time.Time{})
		c.rdlArmed = false
	}
}

// handshake runs the TLS handshake, bounded by the read header timeout.
func (c *conn) handshake(ctx context.Context) bool {
	tc := tls.Server(c.nc, c.s.cfg.tls)
	if d := c.s.cfg.readHeaderTimeout; d > 0 {
		_ = c.nc.SetDeadline(time.Now().Add(d))
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		// A client speaking plain HTTP to the TLS port gets told so, as
		// net/http does.
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		return false
	}
	_ = c.nc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	c.tlsConn = &st
	c.rwc = tc
	return true
}

func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// closed runs when the connection is closed (its client went away, say):
// it cancels the request in progress, as net/http does.
func (c *conn) closed() {
	c.gone.Store(true)
	if f := c.cancel.Load(); f != nil {
		(*f)()
	}
}

func (c *conn) release() {
	putWriter(&prebodyPool, c.rw)
	if c.hijacked {
		return // the handler owned the reader and the writer
	}
	_ = c.bw.Flush()
	putWriter(&writerPool, c.bw)
	c.br.Reset(nil)
	readerPool.Put(c.br)
}

// errTooLarge: the request's header exceeded the limit.
var errTooLarge = errors.New("httpserver: request header too large")

// statusError is a request refused with a status and a reason.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return fmt.Sprintf("httpserver: %d %s", e.code, e.text) }

// readRequest reads the next request's header with net/http's own parser
// and checks it as net/http's server does.
func (c *conn) readRequest(ctx context.Context) (*response, error) {
	cfg := &c.s.cfg
	if c.lastPOST {
		peek, _ := c.br.Peek(4)
		_, _ = c.br.Discard(leadingCRLF(peek))
	}
	req, err := http.ReadRequest(c.br)
	if err != nil {
		if c.r.hit {
			return nil, errTooLarge
		}
		return nil, err
	}
	c.r.remain = math.MaxInt64
	c.lastPOST = req.Method == "POST"
	if req.ProtoMajor != 1 {
		return nil, statusError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	// http.ReadRequest moves the Host header to req.Host (and drops it
	// when the request line carries an absolute URL).
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != "CONNECT" {
		return nil, statusError{http.StatusBadRequest, "missing required Host header"}
	}
	if req.Host != "" && !httpguts.ValidHostHeader(req.Host) {
		return nil, statusError{http.StatusBadRequest, "malformed Host header"}
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, statusError{http.StatusBadRequest, "invalid header name"}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, statusError{http.StatusBadRequest, "invalid header value"}
			}
		}
	}

	switch {
	case cfg.readTimeout > 0:
		_ = c.rwc.SetReadDeadline(c.t0.Add(cfg.readTimeout))
		c.rdlArmed = true
	case req.Body != http.NoBody:
		// The body may take its time (no ReadTimeout). Without a body the
		// handler reads nothing: the deadline may stay until the next
		// request re-arms it.
		c.armRead(0)
	}
	if cfg.writeTimeout > 0 {
		_ = c.rwc.SetWriteDeadline(time.Now().Add(cfg.writeTimeout))
	}

	rctx, cancel := context.WithCancel(ctx)
	c.cancel.Store(&cancel)
	if c.gone.Load() {
		cancel() // closed before the store: the hook found nothing to cancel
	}
	if req.Trailer == nil && len(req.TransferEncoding) > 0 {
		// The body reader stores trailers in the Request that
		// http.ReadRequest returned, and WithContext copies it: share a
		// map so that the handler's copy sees them too.
		req.Trailer = make(http.Header)
	}
	req = req.WithContext(rctx)
	req.RemoteAddr = c.remote
	req.TLS = c.tlsConn
	w := newResponse(c, req, cancel)

	switch {
	case httpguts.HeaderValuesContainsToken(req.Header["Expect"], "100-continue"):
		if req.ProtoAtLeast(1, 1) && req.ContentLength != 0 {
			w.body.expectContinue, w.body.wantContinue = true, true
		}
	case req.Header.Get("Expect") != "":
		w.expectationFailed = true
	}
	return w, nil
}

func leadingCRLF(v []byte) int {
	n := 0
	for _, b := range v {
		if b != '\r' && b != '\n' {
			break
		}
		n++
	}
	return n
}

// refuse answers a request that could not be read, if it deserves an
// answer, and leaves the connection to be closed.
func (c *conn) refuse(err error) {
	const errorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	var se statusError
	var msg string
	switch {
	case err == errTooLarge:
		msg = "HTTP/1.1 431 Request Header Fields Too Large" + errorHeaders + "431 Request Header Fields Too Large"
	case errors.As(err, &se):
		status := fmt.Sprintf("%d %s: %s", se.code, http.StatusText(se.code), se.text)
		msg = "HTTP/1.1 " + status + errorHeaders + status
	case isCommonNetReadError(err):
		return // the client went away or timed out: nothing to say
	case strings.Contains(err.Error(), "unsupported transfer encoding"):
		// RFC 9112 section 6.1: a transfer coding the server does not
		// understand gets 501. (net/http's error type for it is unexported.)
		msg = "HTTP/1.1 501 Not Implemented" + errorHeaders + "Unsupported transfer encoding"
	default:
		msg = "HTTP/1.1 400 Bad Request" + errorHeaders + "400 Bad Request"
	}
	_, _ = c.bw.WriteString(msg)
	_ = c.bw.Flush()
	if err == errTooLarge {
		c.lingerClose()
	}
}

func isCommonNetReadError(err error) bool {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "read"
}

// serveRequest runs the handler for w's request in the connection's
// greenlet and finishes the response. It reports whether the connection
// may serve another request.
func (c *conn) serveRequest(w *response) bool {
	defer func() {
		w.cancel()
		c.cancel.Store(nil)
		if w.req.MultipartForm != nil {
			_ = w.req.MultipartForm.RemoveAll()
		}
	}()
	if !c.runHandler(w) {
		return false
	}
	if c.hijacked {
		return false
	}
	w.finish()
	if c.s.cfg.writeTimeout > 0 {
		_ = c.rwc.SetWriteDeadline(time.Time{})
	}
	if !w.reusable() {
		_ = c.bw.Flush()
		if w.body.tooLarge || w.body.earlyClose {
			c.lingerClose()
		}
		return false
	}
	return true
}

// runHandler calls the handler. A panic other than a kill is answered with
// 500 if the response header has not gone out yet (the connection is closed
// after it either way) and reported to the hub's error handler, except
// http.ErrAbortHandler, which only aborts the response. A kill of the
// greenlet goes on unwinding. runHandler reports whether the handler
// returned normally.
func (c *conn) runHandler(w *response) (ok bool) {
	defer func() {
		if ok {
			return
		}
		r := recover()
		if r == nil {
			return // runtime.Goexit: let it go on
		}
		if hub.IsKill(r) {
			panic(r)
		}
		if r != http.ErrAbortHandler {
			c.report(w.req, hubsched.PanicError(r))
		}
		if !w.sent && !c.hijacked && r != http.ErrAbortHandler {
			w.internalError()
		}
		_ = c.bw.Flush()
	}()
	c.s.handler.ServeHTTP(w, w.req)
	return true
}

// report hands a handler's panic to the hub's error handler.
func (c *conn) report(req *http.Request, perr error) {
	err := fmt.Errorf("httpserver: panic serving %s %s for %s: %w", req.Method, req.URL.RequestURI(), c.remote, perr)
	if c.g != nil {
		hubsched.ReportError(c.g.Hub(), c.g, err)
		return
	}
	hubsched.ReportError(hub.Default(), nil, err)
}

// lingerClose reads and drops what the client still sends, for a short
// while, before the connection closes: a client still sending a request
// body the server refused would otherwise get a reset that can destroy the
// response before it reads it (RFC 9112 section 9.6; net/http waits the
// same 500 ms after a half-close, which gnet cannot do).
func (c *conn) lingerClose() {
	_ = c.bw.Flush()
	_ = c.rwc.SetReadDeadline(time.Now().Add(rstAvoidance))
	c.r.remain = math.MaxInt64
	_, _ = io.Copy(io.Discard, c.rwc)
}
