package httpserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/local"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/netpoll/httpserver"
	"github.com/gevent-go/gevent/pool"
)

func TestServesNetHTTPClient(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		laddr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		fmt.Fprintf(w, "%s %s host=%s body=%q remote=%v local=%v", r.Method, r.URL.Path, r.Host, b, r.RemoteAddr != "", laddr != nil)
	}))
	var reused []bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
	for i := range 3 {
		req := mustRequest(t, "POST", ts.url+"/p/"+strconv.Itoa(i), strings.NewReader("body"+strconv.Itoa(i)))
		req = req.WithContext(httptrace.WithClientTrace(context.Background(), trace))
		resp, body := ts.do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		want := fmt.Sprintf("POST /p/%d host=%s body=%q remote=true local=true", i, strings.TrimPrefix(ts.url, "http://"), "body"+strconv.Itoa(i))
		assert.Equal(t, want, body)
		assert.Equal(t, int64(len(want)), resp.ContentLength, "a short body gets a computed Content-Length")
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"), "sniffed")
		assert.NotEmpty(t, resp.Header.Get("Date"))
	}
	assert.Equal(t, []bool{false, true, true}, reused, "keep-alive: one connection for all requests")
}

// Handlers run as greenlets of the server's hub: a handler parked on a hub
// primitive lets another handler of the same hub run (at P = 1 a blocked
// token would deadlock this test), and they share a plain counter without
// a lock (the race detector checks it).
func TestHandlersAreCooperativeGreenlets(t *testing.T) {
	var ev hub.Event
	counter := 0
	var seenHub *hub.Hub
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := hub.Current(r.Context())
		if g == nil {
			http.Error(w, "not a greenlet", http.StatusInternalServerError)
			return
		}
		seenHub = g.Hub()
		switch r.URL.Path {
		case "/wait":
			if ev.Wait(r.Context()) != nil {
				http.Error(w, "wait failed", http.StatusInternalServerError)
				return
			}
		case "/set":
			ev.Set()
		case "/inc":
			counter++ // no lock: one greenlet at a time
			if err := hub.Yield(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		case "/count":
			fmt.Fprint(w, counter)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	waited := make(chan string, 1)
	go func() {
		resp, err := ts.client.Get(ts.url + "/wait")
		if err != nil {
			waited <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		waited <- string(b)
	}()
	_, body := ts.get(t, "/set")
	require.Equal(t, "ok", body)
	require.Equal(t, "ok", <-waited)
	ts.inHub(t, func() { assert.Same(t, ts.hub, seenHub) })

	const clients, each = 8, 25
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range each {
				resp, err := ts.client.Get(ts.url + "/inc")
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	_, body = ts.get(t, "/count")
	assert.Equal(t, strconv.Itoa(clients*each), body)
}

// Greenlet-local values do not leak from one request to the next on the
// same connection.
func TestLocalsArePerRequest(t *testing.T) {
	var loc local.Local[string]
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "[%s]", loc.Get(r.Context()))
		loc.Set(r.Context(), r.URL.Path)
	}))
	for range 3 {
		_, body := ts.get(t, "/x")
		assert.Equal(t, "[]", body)
	}
}

// A handler calls another handler of the same server through monkey's
// cooperative transport: with one run token this works only if the outer
// handler parks while it waits.
func TestMonkeyCallsInsideHandler(t *testing.T) {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: monkey.WrapTransport(tr)}
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/inner":
			if err := hub.Sleep(r.Context(), time.Millisecond); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprint(w, "inner")
		case "/outer":
			req, _ := http.NewRequestWithContext(r.Context(), "GET", "http://"+r.Host+"/inner", nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			fmt.Fprintf(w, "outer(%s)", b)
		}
	}))
	_, body := ts.get(t, "/outer")
	assert.Equal(t, "outer(inner)", body)
}

// Pipelined requests, sent in one write, are answered in order, bodies
// included.
func TestPipelining(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, b)
	}))
	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/a")+
		request("POST", "/b", "Content-Length: 5\r\n")+"hello"+
		request("POST", "/c", "Transfer-Encoding: chunked\r\n")+"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"+
		request("HEAD", "/d")+
		request("GET", "/e", "Connection: close\r\n"))
	for _, want := range []string{"GET /a ", "POST /b hello", "POST /c abcde", "", "GET /e "} {
		method := "GET"
		if want == "" {
			method = "HEAD"
		}
		resp, body := c.response(t, method)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, want, body)
	}
	assert.True(t, c.closedByServer(t))
}

func TestChunkedBodiesAndTrailers(t *testing.T) {
	big := strings.Repeat("0123456789", 1000)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Request-TE", strings.Join(r.TransferEncoding, ","))
		w.Header().Set("Trailer", "X-Length")
		_, _ = w.Write(b)
		w.(http.Flusher).Flush()
		_, _ = w.Write([]byte(big))
		w.Header().Set("X-Length", strconv.Itoa(len(b)+len(big)))
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	}))
	pr, pw := io.Pipe()
	go func() {
		for i := range 10 {
			fmt.Fprintf(pw, "part%d;", i)
		}
		pw.Close()
	}()
	req := mustRequest(t, "POST", ts.url+"/", pr)
	resp, body := ts.do(t, req)
	assert.Equal(t, "chunked", resp.Header.Get("X-Request-TE"))
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	sent := "part0;part1;part2;part3;part4;part5;part6;part7;part8;part9;"
	assert.Equal(t, sent+big, body)
	assert.Equal(t, strconv.Itoa(len(sent)+len(big)), resp.Trailer.Get("X-Length"))
	assert.Equal(t, "late", resp.Trailer.Get("X-Late"))
}

func TestExpectContinue(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reject" {
			http.Error(w, "no", http.StatusRequestEntityTooLarge)
			return
		}
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "got %s", b)
	}))

	t.Run("read", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, request("POST", "/", "Content-Length: 5\r\n", "Expect: 100-continue\r\n"))
		resp, _ := c.response(t, "POST")
		require.Equal(t, http.StatusContinue, resp.StatusCode)
		c.send(t, "hello")
		resp, body := c.response(t, "POST")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "got hello", body)
		assert.False(t, resp.Close, "the body was read: the connection stays open")
	})
	t.Run("rejected", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, request("POST", "/reject", "Content-Length: 5\r\n", "Expect: 100-continue\r\n"))
		resp, _ := c.response(t, "POST")
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "no 100 Continue first")
		assert.True(t, resp.Close)
		assert.True(t, c.closedByServer(t))
	})
	t.Run("net/http client", func(t *testing.T) {
		req := mustRequest(t, "POST", ts.url+"/", strings.NewReader("world"))
		req.Header.Set("Expect", "100-continue")
		tr := &http.Transport{ExpectContinueTimeout: time.Minute}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "got world", string(b))
	})
	t.Run("unknown expectation", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, request("POST", "/", "Content-Length: 5\r\n", "Expect: something\r\n"))
		resp, _ := c.response(t, "POST")
		assert.Equal(t, http.StatusExpectationFailed, resp.StatusCode)
		assert.True(t, c.closedByServer(t))
	})
}

func TestBodyLimit(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("too large: limit %d, got %d", mbe.Limit, len(b)), http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprintf(w, "%d", len(b))
	}), httpserver.WithMaxBodyBytes(10))

	resp, body := ts.do(t, mustRequest(t, "POST", ts.url, strings.NewReader("0123456789")))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "exactly the limit is fine")
	assert.Equal(t, "10", body)

	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("POST", "/", "Content-Length: 100000\r\n")+strings.Repeat("x", 100000))
	resp, body = c.response(t, "POST")
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, "too large: limit 10, got 10\n", body)
	assert.True(t, resp.Close)
	assert.True(t, c.closedByServer(t))
}

func TestHeaderLimit(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), httpserver.WithMaxHeaderBytes(512))
	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/", "X-Big: "+strings.Repeat("a", 8192)+"\r\n"))
	resp, body := c.response(t, "GET")
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	assert.Equal(t, "431 Request Header Fields Too Large", body)
	assert.True(t, c.closedByServer(t))

	// Under the limit (plus net/http's 4 KiB of slack) is fine.
	c = dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/", "X-Big: "+strings.Repeat("a", 1024)+"\r\n"))
	resp, _ = c.response(t, "GET")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestBadRequests(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"garbage", "hello\r\n\r\n", http.StatusBadRequest},
		{"no host", "GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		{"bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", http.StatusBadRequest},
		{"bad header name", "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", http.StatusBadRequest},
		{"http/2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", http.StatusHTTPVersionNotSupported},
		{"unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented},
		{"both lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.Addr().String())
			c.send(t, tc.req)
			resp, _ := c.response(t, "GET")
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.True(t, resp.Close)
			assert.True(t, c.closedByServer(t))
		})
	}
	// HTTP/1.0 needs no Host.
	c := dialRaw(t, ts.Addr().String())
	c.send(t, "GET / HTTP/1.0\r\n\r\n")
	resp, _ := c.response(t, "GET")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// A client that sends its header slowly, or nothing at all, is cut off at
// the read header timeout (slowloris); a keep-alive connection is closed
// after the idle timeout.
func TestTimeouts(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
		}
	}), httpserver.WithReadHeaderTimeout(100*time.Millisecond), httpserver.WithIdleTimeout(150*time.Millisecond),
		httpserver.WithReadTimeout(300*time.Millisecond))

	t.Run("silent", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		assert.True(t, c.closedByServer(t))
	})
	t.Run("slow header", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, "GET / HTTP/1.1\r\nHost: a\r\n")
		assert.True(t, c.closedByServer(t), "closed without a response")
	})
	t.Run("idle", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, request("GET", "/"))
		resp, _ := c.response(t, "GET")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.True(t, c.closedByServer(t))
	})
	t.Run("slow body", func(t *testing.T) {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, request("POST", "/", "Content-Length: 10\r\n")+"12345")
		resp, body := c.response(t, "POST")
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
		assert.Contains(t, body, "timeout")
		assert.True(t, c.closedByServer(t))
	})
}

// Stop closes idle connections at once, lets the request in progress
// finish with "Connection: close", refuses new connections, and returns
// once all is done.
func TestGracefulStop(t *testing.T) {
	var entered, release hub.Event
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered.Set()
			release.Wait(r.Context())
		}
		fmt.Fprint(w, "done ", r.URL.Path)
	}))
	idle := dialRaw(t, ts.Addr().String())
	idle.send(t, request("GET", "/fast"))
	resp, _ := idle.response(t, "GET")
	require.False(t, resp.Close)

	busy := dialRaw(t, ts.Addr().String())
	busy.send(t, request("GET", "/slow"))
	require.NoError(t, entered.Wait(context.Background()))

	stopped := make(chan error, 1)
	go func() { stopped <- ts.Stop(context.Background()) }()
	assert.True(t, idle.closedByServer(t), "the idle connection is closed at once")
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a request was in progress", err)
	default:
	}
	release.Set()
	resp, body := busy.response(t, "GET")
	assert.Equal(t, "done /slow", body)
	assert.True(t, resp.Close, "the last response closes its connection")
	assert.True(t, busy.closedByServer(t))
	require.NoError(t, <-stopped)
	_, err := net.Dial("tcp", ts.Addr().String())
	assert.Error(t, err, "new connections are refused")
}

// Stop bounds the wait: a handler still running at its deadline is killed
// (its deferred calls run) and Stop says so.
func TestStopKillsAtDeadline(t *testing.T) {
	var entered, cleaned hub.Event
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer cleaned.Set()
		entered.Set()
		_ = hub.Sleep(r.Context(), time.Hour)
	}))
	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/"))
	require.NoError(t, entered.Wait(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := ts.Stop(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, cleaned.IsSet(), "the killed handler's deferred calls ran")
	assert.True(t, c.closedByServer(t))
}

// A pool bounds the connections served at once (gevent's spawn=Pool(n)):
// the others wait in the listen backlog and are served as slots free up.
func TestPoolBound(t *testing.T) { testBound(t, 2, httpserver.WithPool(pool.New(2))) }

// WithMaxHandlers bounds the connections served at once the same way.
func TestMaxHandlers(t *testing.T) { testBound(t, 3, httpserver.WithMaxHandlers(3)) }

// testBound serves twice size clients, each on its own connection, with
// handlers that wait for a release: at most size run at once, and all are
// served.
func testBound(t *testing.T, size int, bound httpserver.Option) {
	running, most := 0, 0
	var full hub.Event
	release := hub.NewQueue[struct{}](0)
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running++
		most = max(most, running)
		if running == size {
			full.Set()
		}
		_, _ = release.Get(r.Context())
		running--
		fmt.Fprint(w, "ok")
	}), bound)
	conns := make([]*rawConn, 2*size)
	for i := range conns {
		conns[i] = dialRaw(t, ts.Addr().String())
		conns[i].send(t, request("GET", "/", "Connection: close\r\n"))
	}
	require.NoError(t, full.Wait(context.Background()))
	for range conns {
		require.NoError(t, release.Put(context.Background(), struct{}{}))
	}
	for _, c := range conns {
		_, body := c.response(t, "GET")
		assert.Equal(t, "ok", body)
	}
	ts.inHub(t, func() { assert.Equal(t, size, most, "at most the bound's size of handlers at once") })
}

// Accepting does not wait for the handlers' run token: here a handler
// holds it without a cooperative point, and a connection past
// netpoll.WithMaxConns is still accepted (and closed) at once. (With the
// accept loop on the handlers' hub, it waited behind every ready handler:
// under load new clients waited seconds.)
func TestAcceptNotStarved(t *testing.T) {
	var entered hub.Event
	var release atomic.Bool
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Set()
		for !release.Load() {
			runtime.Gosched() // spinning: no cooperative point
		}
	}), httpserver.WithNetpoll(netpoll.WithMaxConns(1)))
	busy := dialRaw(t, ts.Addr().String())
	busy.send(t, request("GET", "/"))
	require.NoError(t, entered.Wait(context.Background()))
	extra := dialRaw(t, ts.Addr().String())
	closed := extra.closedByServer(t)
	release.Store(true)
	assert.True(t, closed, "the connection past the bound was accepted and closed while the hub was busy")
	resp, _ := busy.response(t, "GET")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestPanics(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			w.Header().Set("X-Lost", "yes")
			fmt.Fprint(w, "partial")
			panic("boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/late":
			fmt.Fprint(w, strings.Repeat("x", 10000))
			w.(http.Flusher).Flush()
			panic("late boom")
		}
	}))
	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/panic"))
	resp, body := c.response(t, "GET")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "500 Internal Server Error\n", body)
	assert.Empty(t, resp.Header.Get("X-Lost"), "the handler's response is dropped")
	assert.True(t, resp.Close)
	assert.True(t, c.closedByServer(t))

	c = dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/abort"))
	assert.True(t, c.closedByServer(t), "an aborted handler's connection closes without a response")

	// Once the header went out, the response can only be cut short.
	resp, err := ts.client.Get(ts.url + "/late")
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Error(t, err, "the chunked body is truncated")

	errs := ts.errs.All()
	require.Len(t, errs, 2, "two panics reported, the abort not")
	assert.Contains(t, errs[0].Error(), "panic serving GET /panic")
	var pe *hub.PanicError
	require.ErrorAs(t, errs[0], &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, string(pe.Stack), "server_test.go")
	assert.Contains(t, errs[1].Error(), "late boom")
}

// A client that goes away cancels its request's context, as with net/http
// (the gnet backend sees the close at once).
func TestClientGoneCancelsRequest(t *testing.T) {
	var entered, cancelled hub.Event
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered.Set()
		if err := hub.Sleep(r.Context(), time.Hour); errors.Is(err, context.Canceled) {
			cancelled.Set()
		}
	}))
	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/"))
	require.NoError(t, entered.Wait(context.Background()))
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.NoError(t, cancelled.Wait(ctx))
}

func TestHijack(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		line, _ := rw.ReadString('\n')
		fmt.Fprintf(rw, "echo: %s", line)
		_ = rw.Flush()
		if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrHijacked) {
			fmt.Fprintf(rw, "write after hijack: %v\n", err)
			_ = rw.Flush()
		}
	}))
	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/", "Upgrade: echo\r\nConnection: Upgrade\r\n"))
	resp, err := http.ReadResponse(c.r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	c.send(t, "hello\n")
	line, err := c.r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo: hello\n", line)
	assert.True(t, c.closedByServer(t))
}

// WithHubs spreads connections over several hubs.
func TestWithHubs(t *testing.T) {
	h1, h2 := hub.MustNew(), hub.MustNew()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h1.Stop(ctx)
		_ = h2.Stop(ctx)
	})
	var mu sync.Mutex // handlers on two hubs run in parallel
	seen := map[*hub.Hub]int{}
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[hub.Current(r.Context()).Hub()]++
		mu.Unlock()
	}), httpserver.WithHubs(h1, h2))
	for range 4 {
		c := dialRaw(t, ts.Addr().String())
		c.send(t, request("GET", "/", "Connection: close\r\n"))
		c.response(t, "GET")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[*hub.Hub]int{h1: 2, h2: 2}, seen)
}

func TestOptionErrors(t *testing.T) {
	h := http.NotFoundHandler()
	for _, o := range []httpserver.Option{
		httpserver.WithReadHeaderTimeout(-1),
		httpserver.WithReadTimeout(-1),
		httpserver.WithWriteTimeout(-1),
		httpserver.WithIdleTimeout(-1),
		httpserver.WithMaxHeaderBytes(0),
		httpserver.WithMaxBodyBytes(-1),
		httpserver.WithTLS(nil),
		httpserver.WithHubs(),
		httpserver.WithHubs(nil),
		httpserver.WithMaxHandlers(-1),
		httpserver.WithPool(nil),
		httpserver.WithStopTimeout(-1),
		httpserver.WithNetpoll(netpoll.WithMaxConns(-1)),
	} {
		_, err := httpserver.New("127.0.0.1:0", h, o)
		assert.Error(t, err)
	}
}
