package httpserver

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// response is the http.ResponseWriter of one request. It follows
// net/http's server to the letter where the wire is concerned (which
// headers are added, when the body is chunked, when the connection closes)
// so that a handler sees no difference; the tests compare the two servers'
// bytes. Like net/http's, it buffers the first 2 KiB of the body before the
// header is final: a handler that writes less and returns gets a computed
// Content-Length, and the first bytes are sniffed for a Content-Type.
//
// A response is used by its connection's greenlet only (the handler runs
// there), so it has no lock: handing it to another goroutine is the
// programming error it is with net/http.
type response struct {
	c      *conn
	req    *http.Request
	cancel context.CancelFunc
	body   body

	handlerHeader http.Header
	snapshot      http.Header // the header as of WriteHeader, once the handler touched it after
	calledHeader  bool

	status        int
	wroteHeader   bool  // a final status was (logically) written
	sent          bool  // the header was written to the connection
	chunking      bool  // the body goes out chunked
	contentLength int64 // -1 if unknown
	written       int64
	handlerDone   bool
	closeAfter    bool
	fullDuplex    bool
	trailers      []string

	wants10KeepAlive  bool
	wantsClose        bool
	expectationFailed bool // an Expect header other than 100-continue

	dateBuf [len(http.TimeFormat)]byte
	clenBuf [20]byte // the computed Content-Length, until the header is written
	numBuf  [20]byte // scratch: the status code, chunk sizes
}

func newResponse(c *conn, req *http.Request, cancel context.CancelFunc) *response {
	w := &response{
		c:                c,
		req:              req,
		cancel:           cancel,
		handlerHeader:    make(http.Header),
		contentLength:    -1,
		wants10KeepAlive: wants10KeepAlive(req),
		wantsClose:       req.Close,
	}
	w.body = body{src: req.Body, w: w}
	if req.Body != http.NoBody {
		if n := c.s.cfg.maxBodyBytes; n > 0 {
			w.body.limited, w.body.left = true, n
		}
		req.Body = &w.body
	} else {
		w.body.sawEOF = true
	}
	c.rw.Reset(chunkWriter{w})
	return w
}

func wants10KeepAlive(r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 0 {
		return false
	}
	return httpguts.HeaderValuesContainsToken(r.Header["Connection"], "keep-alive")
}

// Header returns the header map the response will send. Changes after
// WriteHeader are ignored, except for trailers, as with net/http.
func (w *response) Header() http.Header {
	if w.snapshot == nil && w.wroteHeader && !w.sent {
		// Between the logical and the physical write of the header:
		// keep what it was when written.
		w.snapshot = w.handlerHeader.Clone()
	}
	w.calledHeader = true
	return w.handlerHeader
}

// WriteHeader sends the status code: a final one once (later calls are
// logged and ignored), 1xx informational ones (103 Early Hints, ...) as
// they come, with the header as it is then. A code outside 100-999 panics,
// as with net/http.
func (w *response) WriteHeader(code int) {
	if w.c.hijacked {
		slog.Warn("httpserver: WriteHeader on a hijacked connection")
		return
	}
	if w.wroteHeader {
		slog.Warn("httpserver: superfluous WriteHeader call", "code", code)
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 101 || code > 199 {
		// Any final status (or an explicit 100) means no automatic
		// "100 Continue" any more.
		w.body.wantContinue = false
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		bw := w.c.bw
		writeStatusLine(bw, w.req.ProtoAtLeast(1, 1), code, w.numBuf[:0])
		_ = w.handlerHeader.WriteSubset(bw, excludedNoBody)
		_, _ = bw.WriteString("\r\n")
		_ = bw.Flush()
		return
	}
	w.wroteHeader = true
	w.status = code
	if w.calledHeader && w.snapshot == nil {
		w.snapshot = w.handlerHeader.Clone()
	}
	if cl := w.handlerHeader.Get("Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			w.contentLength = v
		} else {
			slog.Warn("httpserver: invalid Content-Length", "value", cl)
			w.handlerHeader.Del("Content-Length")
		}
	}
}

var excludedNoBody = map[string]bool{"Content-Length": true, "Transfer-Encoding": true}

// Write writes body bytes, sending a 200 header first if none was written.
// Bytes go to the connection's buffer and then to netpoll, which hands them
// to the kernel; while the kernel's send buffer is full it parks the
// greenlet until the client takes them.
func (w *response) Write(p []byte) (int, error) {
	if err := w.beforeWrite(len(p)); err != nil || len(p) == 0 {
		return 0, err
	}
	return w.c.rw.Write(p)
}

// WriteString is Write for a string, without a copy.
func (w *response) WriteString(s string) (int, error) {
	if err := w.beforeWrite(len(s)); err != nil || len(s) == 0 {
		return 0, err
	}
	return w.c.rw.WriteString(s)
}

func (w *response) beforeWrite(n int) error {
	if w.c.hijacked {
		return http.ErrHijacked
	}
	w.body.wantContinue = false
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if n == 0 {
		return nil
	}
	if !bodyAllowedForStatus(w.status) {
		return http.ErrBodyNotAllowed
	}
	w.written += int64(n)
	if w.contentLength != -1 && w.written > w.contentLength {
		return http.ErrContentLength
	}
	return nil
}

// Flush sends what the handler wrote so far (http.Flusher).
func (w *response) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting the error (http.ResponseController).
func (w *response) FlushError() error {
	if w.c.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	err := w.c.rw.Flush()
	if !w.sent {
		w.writeHeader(nil)
	}
	if err2 := w.c.bw.Flush(); err == nil {
		err = err2
	}
	return err
}

// SetReadDeadline sets the connection's read deadline, for the request body
// (http.ResponseController).
func (w *response) SetReadDeadline(t time.Time) error { return w.c.rwc.SetReadDeadline(t) }

// SetWriteDeadline sets the connection's write deadline
// (http.ResponseController).
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.rwc.SetWriteDeadline(t) }

// EnableFullDuplex lets the handler go on reading the request body after
// it began to write the response (http.ResponseController): the server no
// longer reads the rest of the body away when the header goes out.
func (w *response) EnableFullDuplex() error {
	w.fullDuplex = true
	return nil
}

// Hijack hands the connection to the handler (http.Hijacker): the server
// writes nothing more on it. The connection stays bound to the
// connection's greenlet (its blocking calls park that greenlet) and is
// closed when the handler returns.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c := w.c
	if w.handlerDone {
		panic("httpserver: Hijack called after the handler returned")
	}
	if c.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.body.wantContinue = false
	if w.wroteHeader {
		_ = c.rw.Flush()
		if !w.sent {
			w.writeHeader(nil)
		}
	}
	if err := c.bw.Flush(); err != nil {
		return nil, nil, err
	}
	c.hijacked = true
	_ = c.rwc.SetDeadline(time.Time{})
	c.rdlArmed = false
	return c.rwc, bufio.NewReadWriter(c.br, c.bw), nil
}

// requestTooLarge is called when the body limit is hit: the connection
// will close after the response.
func (w *response) requestTooLarge() {
	w.closeAfter = true
	if !w.wroteHeader {
		w.handlerHeader.Set("Connection", "close")
	}
}

// finish completes the response after the handler returned.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.c.rw.Flush()
	if !w.sent {
		w.writeHeader(nil)
	}
	if w.chunking {
		bw := w.c.bw
		_, _ = bw.WriteString("0\r\n")
		if t := w.finalTrailers(); t != nil {
			_ = t.Write(bw)
		}
		_, _ = bw.WriteString("\r\n")
	}
}

// reusable reports whether the connection may serve another request.
func (w *response) reusable() bool {
	switch {
	case w.closeAfter, w.c.werr != nil, w.body.earlyClose, w.c.s.stopping.Load():
		return false
	case w.req.Method != "HEAD" && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written:
		return false // too few bytes for the announced length: out of sync
	}
	return true
}

// internalError replaces a response whose handler panicked before its
// header went out with a 500, and closes the connection after it.
func (w *response) internalError() {
	w.c.rw.Reset(chunkWriter{w})
	w.handlerHeader = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	w.snapshot = nil
	w.wroteHeader, w.contentLength, w.written = false, -1, 0
	w.closeAfter = true
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.WriteString("500 Internal Server Error\n")
	w.finish()
}

// chunkWriter is what the response's buffer writes to: the first write
// makes the header final, and the body goes to the connection's buffer,
// chunked if need be.
type chunkWriter struct{ w *response }

func (cw chunkWriter) Write(p []byte) (int, error) {
	w := cw.w
	if !w.sent {
		w.writeHeader(p)
	}
	if w.req.Method == "HEAD" {
		return len(p), nil // a HEAD response has no body
	}
	bw := w.c.bw
	if w.chunking {
		_, _ = bw.Write(strconv.AppendInt(w.numBuf[:0], int64(len(p)), 16))
		_, _ = bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunking && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	return n, err
}

// writeHeader makes the header final and writes it to the connection's
// buffer; p is the start of the body (sniffed for a Content-Type, and, if
// the handler is done, its whole length). This is net/http's
// chunkWriter.writeHeader, decision for decision.
func (w *response) writeHeader(p []byte) {
	w.sent = true
	isHEAD := w.req.Method == "HEAD"
	header := w.snapshot
	if header == nil {
		header = w.handlerHeader
	}
	var exclude map[string]bool
	del := func(key string) {
		if _, ok := header[key]; !ok {
			return
		}
		if exclude == nil {
			exclude = make(map[string]bool)
		}
		exclude[key] = true
	}
	var extra extraHeader

	// Fake "Trailer:foo" keys are not sent; declared trailers are noted.
	trailers := false
	for k := range header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			del(k)
			trailers = true
		}
	}
	for _, v := range header["Trailer"] {
		trailers = true
		for _, k := range strings.Split(v, ",") {
			if k = http.CanonicalHeaderKey(strings.TrimSpace(k)); k != "" && httpguts.ValidTrailerHeader(k) {
				w.trailers = append(w.trailers, k)
			}
		}
	}

	te := header.Get("Transfer-Encoding")
	hasTE := te != ""

	// A handler done before the buffer filled gets a computed length
	// (never for 1xx, 204, 304, trailers or a Transfer-Encoding, nor for an
	// empty HEAD response, whose real length is unknown).
	if w.handlerDone && !trailers && !hasTE && bodyAllowedForStatus(w.status) && header.Get("Content-Length") == "" && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		extra.contentLength = strconv.AppendInt(w.clenBuf[:0], int64(len(p)), 10)
	}

	if w.wants10KeepAlive && header.Get("Content-Length") != "" && header.Get("Connection") == "keep-alive" {
		w.closeAfter = false
	}
	hasCL := w.contentLength != -1
	if w.wants10KeepAlive && (isHEAD || hasCL || !bodyAllowedForStatus(w.status)) {
		if _, set := header["Connection"]; !set {
			extra.connection = "keep-alive"
		}
	} else if !w.req.ProtoAtLeast(1, 1) || w.wantsClose {
		w.closeAfter = true
	}
	if header.Get("Connection") == "close" || w.c.s.stopping.Load() {
		w.closeAfter = true
	}

	// A client that asked for "100 Continue" and did not get it may or
	// may not send its body: the connection cannot be trusted after this.
	if w.body.expectContinue && !w.body.sawEOF {
		w.closeAfter = true
	}
	w.body.wantContinue = false

	// Read away what the handler left of the body before answering
	// (clients that send a whole request before reading the response
	// would otherwise deadlock), within bounds.
	if w.req.ContentLength != 0 && !w.closeAfter && !w.fullDuplex && !w.body.discardRest() {
		w.closeAfter = true
		if w.body.earlyClose || w.body.tooLarge {
			del("Connection")
			extra.connection = "close"
		}
	}

	code := w.status
	if bodyAllowedForStatus(code) {
		_, haveType := header["Content-Type"]
		if header.Get("Content-Encoding") == "" && !haveType && !hasTE && len(p) > 0 {
			extra.contentType = http.DetectContentType(p)
		}
	} else {
		for _, k := range suppressedHeaders(code) {
			del(k)
		}
	}

	if _, ok := header["Date"]; !ok {
		extra.date = time.Now().UTC().AppendFormat(w.dateBuf[:0], http.TimeFormat)
	}

	if hasCL && hasTE && te != "identity" {
		slog.Warn("httpserver: both Transfer-Encoding and Content-Length set; dropping Content-Length", "te", te)
		del("Content-Length")
		hasCL = false
	}

	switch {
	case isHEAD || !bodyAllowedForStatus(code) || code == http.StatusNoContent:
		del("Transfer-Encoding")
	case hasCL:
		del("Transfer-Encoding")
	case w.req.ProtoAtLeast(1, 1):
		if hasTE && te == "identity" {
			// Delimited by closing the connection (server-sent events).
			w.closeAfter = true
			del("Transfer-Encoding")
		} else {
			w.chunking = true
			extra.transferEncoding = "chunked"
			if hasTE && te == "chunked" {
				del("Transfer-Encoding") // written below, once
			}
		}
	default:
		// HTTP/1.0 without a length: the body ends with the connection.
		w.closeAfter = true
		del("Transfer-Encoding")
	}
	if w.chunking {
		del("Content-Length")
	}

	if w.closeAfter && !httpguts.HeaderValuesContainsToken(header["Connection"], "close") && !isProtocolSwitch(code, header) {
		del("Connection")
		if w.req.ProtoAtLeast(1, 1) {
			extra.connection = "close"
		}
	}

	bw := w.c.bw
	writeStatusLine(bw, w.req.ProtoAtLeast(1, 1), code, w.numBuf[:0])
	_ = header.WriteSubset(bw, exclude)
	extra.write(bw)
	_, _ = bw.WriteString("\r\n")
}

// extraHeader is what writeHeader adds to the handler's header, written
// without a map, in net/http's order.
type extraHeader struct {
	contentType      string
	connection       string
	transferEncoding string
	date             []byte
	contentLength    []byte
}

func (h *extraHeader) write(bw *bufio.Writer) {
	if h.date != nil {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.Write(h.date)
		_, _ = bw.WriteString("\r\n")
	}
	if h.contentLength != nil {
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(h.contentLength)
		_, _ = bw.WriteString("\r\n")
	}
	for _, kv := range [...][2]string{{"Content-Type", h.contentType}, {"Connection", h.connection}, {"Transfer-Encoding", h.transferEncoding}} {
		if kv[1] != "" {
			_, _ = bw.WriteString(kv[0])
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(kv[1])
			_, _ = bw.WriteString("\r\n")
		}
	}
}

// finalTrailers collects the trailers to send after a chunked body: the
// declared ones and the http.TrailerPrefix keys.
func (w *response) finalTrailers() http.Header {
	var t http.Header
	for k, vv := range w.handlerHeader {
		if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = make(http.Header)
			}
			t[kk] = vv
		}
	}
	for _, k := range w.trailers {
		if t == nil {
			t = make(http.Header)
		}
		for _, v := range w.handlerHeader[k] {
			t.Add(k, v)
		}
	}
	return t
}

func writeStatusLine(bw *bufio.Writer, is11 bool, code int, scratch []byte) {
	if is11 {
		_, _ = bw.WriteString("HTTP/1.1 ")
	} else {
		_, _ = bw.WriteString("HTTP/1.0 ")
	}
	_, _ = bw.Write(strconv.AppendInt(scratch, int64(code), 10))
	_ = bw.WriteByte(' ')
	if text := http.StatusText(code); text != "" {
		_, _ = bw.WriteString(text)
	} else {
		_, _ = bw.WriteString("status code " + strconv.Itoa(code))
	}
	_, _ = bw.WriteString("\r\n")
}

func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}

var (
	suppressedHeaders304    = []string{"Content-Type", "Content-Length", "Transfer-Encoding"}
	suppressedHeadersNoBody = []string{"Content-Length", "Transfer-Encoding"}
)

func suppressedHeaders(status int) []string {
	switch {
	case status == http.StatusNotModified:
		return suppressedHeaders304
	case !bodyAllowedForStatus(status):
		return suppressedHeadersNoBody
	}
	return nil
}

func isProtocolSwitch(code int, h http.Header) bool {
	return code == http.StatusSwitchingProtocols && h.Get("Upgrade") != "" &&
		httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade")
}
