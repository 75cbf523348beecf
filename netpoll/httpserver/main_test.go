package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/hubtest"
	"github.com/gevent-go/gevent/internal/leaktest"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/netpoll/httpserver"
)

func TestMain(m *testing.M) {
	leaktest.Main(m, leaktest.StopDefaultHub, netpoll.Shutdown)
}

// testServer is a started server on its own hub, stopped (with the hub)
// when the test ends, and an HTTP client whose idle connections are closed
// then too.
type testServer struct {
	*httpserver.Server
	hub    *hub.Hub
	url    string
	client *http.Client
	errs   *hubtest.ErrLog
}

func start(t *testing.T, h http.Handler, opts ...httpserver.Option) *testServer {
	t.Helper()
	errs := &hubtest.ErrLog{}
	hb := hubtest.NewHub(t, hub.WithErrorHandler(errs.Handle))
	opts = append([]httpserver.Option{httpserver.WithHubs(hb)}, opts...)
	srv, err := httpserver.New("127.0.0.1:0", h, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	ts := &testServer{Server: srv, hub: hb, url: "http://" + srv.Addr().String(), client: &http.Client{Transport: tr}, errs: errs}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return ts
}

// inHub runs fn in a greenlet of the server's hub, to read what handlers
// wrote without a lock: the run token's hand-off orders it after them.
func (ts *testServer) inHub(t *testing.T, fn func()) {
	t.Helper()
	if err := ts.hub.Run(context.Background(), func(context.Context) error { fn(); return nil }); err != nil {
		t.Fatal(err)
	}
}

// get fetches path and returns the response with its body read.
func (ts *testServer) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return ts.do(t, mustRequest(t, "GET", ts.url+path, nil))
}

func (ts *testServer) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

func mustRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// rawConn is a plain TCP client for the tests that need the exact bytes.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{Conn: c, r: bufio.NewReader(c)}
}

func (c *rawConn) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// response reads one response to a request with the given method.
func (c *rawConn) response(t *testing.T, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}
	return resp, string(b)
}

// closedByServer reports whether the server closed the connection: a read
// gets EOF (or a reset) before the client's deadline, with no more bytes.
func (c *rawConn) closedByServer(t *testing.T) bool {
	t.Helper()
	b, err := io.ReadAll(c.r)
	if len(b) > 0 {
		t.Errorf("unexpected bytes after the response: %q", b)
	}
	var ne net.Error
	return err == nil || !errors.As(err, &ne) || !ne.Timeout()
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

func request(method, path string, headers ...string) string {
	return fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\n%s\r\n", method, path, strings.Join(headers, ""))
}
