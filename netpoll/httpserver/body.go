package httpserver

import (
	"io"
	"net/http"
)

// maxPostHandlerReadBytes is net/http's: the most of a request body the
// handler left unread that the server reads (and drops) to keep the
// connection; with more left, it closes the connection instead.
const maxPostHandlerReadBytes = 256 << 10

// body is the Request.Body handlers see: net/http's own reader for the
// request's framing (from http.ReadRequest, which decodes chunked bodies and
// stops at the Content-Length), plus what the server needs to know about it:
// how far the handler read, the WithMaxBodyBytes limit, and the
// "100 Continue" owed to a client that asked for one.
type body struct {
	src io.ReadCloser
	w   *response

	limited  bool  // WithMaxBodyBytes applies
	left     int64 // bytes the limit still allows
	read     int64 // bytes handed to the handler
	sawEOF   bool  // read to the end: the next request starts right after
	closed   bool  // the handler closed it
	err      error // a read error other than io.EOF: the framing is lost
	tooLarge bool  // the limit was hit
	// earlyClose: the handler left more unread than the server will read
	// for it; the connection closes after the response.
	earlyClose bool

	// The client asked for "100 Continue" (expectContinue); it is sent on
	// the first Read unless the response began first (wantContinue).
	expectContinue bool
	wantContinue   bool
}

// Read reads the body. The first Read of a body whose client asked for it
// sends "100 Continue" first, unless the response has begun.
func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.closed:
		return 0, http.ErrBodyReadAfterClose
	case b.sawEOF:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	}
	if b.wantContinue {
		b.wantContinue = false
		if !b.w.wroteHeader {
			c := b.w.c
			_, _ = c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			_ = c.bw.Flush()
		}
	}
	if b.limited {
		// As http.MaxBytesReader: read one byte more than allowed, to
		// tell a body of exactly the limit from a longer one.
		if int64(len(p)) > b.left+1 {
			p = p[:b.left+1]
		}
	}
	n, err := b.src.Read(p)
	if b.limited {
		if int64(n) > b.left {
			n = int(b.left)
			b.left = 0
			b.tooLarge = true
			b.w.requestTooLarge()
			b.err = &http.MaxBytesError{Limit: b.w.c.s.cfg.maxBodyBytes}
			return n, b.err
		}
		b.left -= int64(n)
	}
	b.read += int64(n)
	switch {
	case err == io.EOF:
		b.sawEOF = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// Close marks the body closed: later Reads fail. What the handler left
// unread is dealt with when the response's header goes out.
func (b *body) Close() error {
	b.closed = true
	return nil
}

// discardRest reads and drops what the handler left of the body, up to
// maxPostHandlerReadBytes, so that the connection can serve the next
// request; it reports false if the connection must close instead (too much
// left, the limit was hit, or the framing is lost).
func (b *body) discardRest() bool {
	switch {
	case b.sawEOF:
		return true
	case b.err != nil || b.tooLarge:
		return false
	case b.w.req.ContentLength > 0 && b.w.req.ContentLength-b.read >= maxPostHandlerReadBytes:
		b.earlyClose = true
		return false
	}
	n, err := io.CopyN(io.Discard, b.src, maxPostHandlerReadBytes+1)
	b.read += n
	switch {
	case err == io.EOF:
		b.sawEOF = true
		return true
	case err == nil:
		b.earlyClose = true // even more left
	default:
		b.err = err
	}
	return false
}
