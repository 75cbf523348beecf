package httpserver_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// oracleHandler behaves in every way the response side can: the oracle test
// serves it from net/http's server and from this package's, and compares.
func oracleHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("<html>", 1000)) })
	mux.HandleFunc("/exact2048", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, strings.Repeat("x", 2048)) })
	mux.HandleFunc("/cl", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/cl-short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/cl-over", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		_, err := fmt.Fprint(w, "hello")
		w.Header().Set("X-Ignored", fmt.Sprint(err))
	})
	mux.HandleFunc("/cl-bad", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "nope")
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.Header().Set("Content-Type", "text/x-mine")
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(code)
		_, err := fmt.Fprint(w, "body")
		if err != nil {
			w.Header().Set("X-Err", err.Error()) // too late to matter: checks it is ignored
		}
	})
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad thing", http.StatusTeapot) })
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "a")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "b")
	})
	mux.HandleFunc("/type", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-thing")
		fmt.Fprint(w, "<html>")
	})
	mux.HandleFunc("/nosniff", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		fmt.Fprint(w, "<html>")
	})
	mux.HandleFunc("/encoded", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		fmt.Fprint(w, "not really gzip")
	})
	mux.HandleFunc("/identity", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Transfer-Encoding", "identity")
		fmt.Fprint(w, "until close")
	})
	mux.HandleFunc("/chunked-set", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Transfer-Encoding", "chunked")
		fmt.Fprint(w, "chunks")
	})
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-One, X-Two")
		fmt.Fprint(w, "with trailers")
		w.Header().Set("X-One", "1")
		w.Header().Set("X-Two", "2")
		w.Header().Set(http.TrailerPrefix+"X-Three", "3")
	})
	mux.HandleFunc("/conn-close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "bye")
	})
	mux.HandleFunc("/keep-alive", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "keep-alive")
		w.Header().Set("Content-Length", "2")
		fmt.Fprint(w, "ka")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %q %v trailer=%v", len(b), b[:min(len(b), 16)], err, r.Trailer)
	})
	mux.HandleFunc("/ignore-body", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ignored") })
	mux.HandleFunc("/read-some", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 3)
		n, _ := io.ReadFull(r.Body, buf)
		fmt.Fprintf(w, "read %q", buf[:n])
	})
	mux.HandleFunc("/close-body", func(w http.ResponseWriter, r *http.Request) {
		r.Body.Close()
		_, err := r.Body.Read(make([]byte, 1))
		fmt.Fprint(w, err)
	})
	mux.HandleFunc("/early-hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("X-Final", "yes")
		fmt.Fprint(w, "final")
	})
	mux.HandleFunc("/header-after", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Before", "1")
		w.WriteHeader(http.StatusAccepted)
		w.Header().Set("X-After", "ignored")
		fmt.Fprint(w, "late header")
	})
	mux.HandleFunc("/write-header-twice", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusConflict)
	})
	mux.HandleFunc("/date", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		fmt.Fprint(w, "dated")
	})
	mux.HandleFunc("/odd-status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) })
	mux.HandleFunc("/request", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s host=%q close=%v cl=%d te=%v ua=%q", r.Method, r.RequestURI, r.Proto, r.Host, r.Close,
			r.ContentLength, r.TransferEncoding, r.UserAgent())
	})
	return mux
}

// oracleCases are byte streams a client may send; a stream may hold several
// pipelined requests.
var oracleCases = []struct {
	name    string
	methods []string // the method of each request, to read the responses
	req     string
}{
	{"get", []string{"GET"}, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"empty", []string{"GET"}, "GET /empty HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"big chunked", []string{"GET"}, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"exactly the buffer", []string{"GET"}, "GET /exact2048 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"content-length", []string{"GET"}, "GET /cl HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"content-length short", []string{"GET"}, "GET /cl-short HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"content-length over", []string{"GET"}, "GET /cl-over HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"content-length invalid", []string{"GET"}, "GET /cl-bad HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"204", []string{"GET"}, "GET /status/204 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"304", []string{"GET"}, "GET /status/304 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"201", []string{"GET"}, "GET /status/201 HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"404", []string{"GET"}, "GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"http.Error", []string{"GET"}, "GET /error HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"flush", []string{"GET"}, "GET /flush HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"content type set", []string{"GET"}, "GET /type HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"no sniffing", []string{"GET"}, "GET /nosniff HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"content-encoding", []string{"GET"}, "GET /encoded HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"identity", []string{"GET"}, "GET /identity HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"chunked set by handler", []string{"GET"}, "GET /chunked-set HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"trailers", []string{"GET"}, "GET /trailer HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"handler closes", []string{"GET"}, "GET /conn-close HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"client closes", []string{"GET"}, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
	{"early hints", []string{"GET"}, "GET /early-hints HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"header after WriteHeader", []string{"GET"}, "GET /header-after HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"WriteHeader twice", []string{"GET"}, "GET /write-header-twice HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"handler's Date", []string{"GET"}, "GET /date HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"status without text", []string{"GET"}, "GET /odd-status HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"request fields", []string{"GET"}, "GET /request?q=1 HTTP/1.1\r\nHost: example.com:80\r\nUser-Agent: oracle\r\n\r\n"},
	{"absolute URL", []string{"GET"}, "GET http://other/request HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"head small", []string{"HEAD"}, "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"head big", []string{"HEAD"}, "HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"head content-length", []string{"HEAD"}, "HEAD /cl HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"head empty", []string{"HEAD"}, "HEAD /empty HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"http/1.0", []string{"GET"}, "GET /hello HTTP/1.0\r\n\r\n"},
	{"http/1.0 keep-alive", []string{"GET", "GET"}, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /cl HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{"http/1.0 keep-alive unknown length", []string{"GET"}, "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{"http/1.0 handler keep-alive", []string{"GET"}, "GET /keep-alive HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
	{"post", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
	{"post chunked", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: v\r\n\r\n"},
	{"post bad chunk", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
	{"body ignored small", []string{"POST", "GET"}, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"body ignored chunked", []string{"POST", "GET"}, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"body partly read", []string{"POST", "GET"}, "POST /read-some HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"body closed", []string{"POST", "GET"}, "POST /close-body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"body ignored huge", []string{"POST"}, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" + strings.Repeat("z", 300000)},
	{"expect continue with body", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"},
	{"expect unknown", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: weird\r\n\r\nhello"},
	{"pipelined", []string{"GET", "HEAD", "GET", "POST"}, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nHEAD /big HTTP/1.1\r\nHost: a\r\n\r\nGET /flush HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"},
	{"leading CRLF after POST", []string{"POST", "GET"}, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n"},
	{"no host", []string{"GET"}, "GET /hello HTTP/1.1\r\n\r\n"},
	{"bad request line", []string{"GET"}, "GARBAGE\r\n\r\n"},
	{"http/2 line", []string{"GET"}, "GET /hello HTTP/2.0\r\nHost: a\r\n\r\n"},
	{"unsupported te", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
	{"two lengths", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
	{"te and cl", []string{"POST"}, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"},
}

// exchange is what a server answered to one case: each response (status
// line, header without Date, body, trailer) and whether the connection was
// still open after them.
type exchange struct {
	responses []string
	open      bool
}

// probe is sent after a case's requests: answered only if the server kept
// the connection open.
const probe = "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

func runOracleCase(t *testing.T, addr, req string, methods []string) exchange {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req+probe); err != nil {
		t.Fatalf("write: %v", err)
	}
	r := bufio.NewReader(c)
	var ex exchange
	for _, m := range append(methods, "GET") {
		resp, err := http.ReadResponse(r, &http.Request{Method: m})
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("no response (%v)", err)
			}
			break // closed
		}
		for resp.StatusCode >= 100 && resp.StatusCode <= 199 && resp.StatusCode != 101 {
			ex.responses = append(ex.responses, describe(resp, nil, nil))
			if resp, err = http.ReadResponse(r, &http.Request{Method: m}); err != nil {
				t.Fatalf("after a 1xx: %v", err)
			}
		}
		body, err := io.ReadAll(resp.Body)
		ex.responses = append(ex.responses, describe(resp, body, err))
		if err != nil || resp.Close {
			break
		}
	}
	ex.open = len(ex.responses) > 0 && strings.Contains(ex.responses[len(ex.responses)-1], "probe-answered")
	return ex
}

func describe(resp *http.Response, body []byte, err error) string {
	h := resp.Header.Clone()
	h.Del("Date")
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	_ = h.Write(&b)
	fmt.Fprintf(&b, "cl=%d te=%v close=%v\n", resp.ContentLength, resp.TransferEncoding, resp.Close)
	if string(body) == "hello" && resp.Request.Method == "GET" && resp.Close {
		b.WriteString("probe-answered ")
	}
	fmt.Fprintf(&b, "body=%q err=%v trailer=%v", body, err, resp.Trailer)
	return b.String()
}

// The response side is this package's own code: it must put on the wire
// what net/http's server puts there, for every behaviour of a handler and
// every kind of request, pipelined ones and broken ones included.
func TestOracleNetHTTP(t *testing.T) {
	h := oracleHandler()
	ours := start(t, h)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	std := &http.Server{Handler: h, ErrorLog: discardLog()}
	go func() { _ = std.Serve(ln) }()
	t.Cleanup(func() { _ = std.Close() })

	for _, tc := range oracleCases {
		t.Run(tc.name, func(t *testing.T) {
			want := runOracleCase(t, ln.Addr().String(), tc.req, tc.methods)
			got := runOracleCase(t, ours.Addr().String(), tc.req, tc.methods)
			assert.Equal(t, want.responses, got.responses)
			assert.Equal(t, want.open, got.open, "connection reused")
		})
	}
}
