package monkey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/netpoll"
	"github.com/gevent-go/gevent/spawn"
)

// fetch GETs url with the greenlet's ctx through http.DefaultClient and
// returns the body.
func fetch(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// fetchAll runs n greenlets on h, each fetching url once, and returns how
// long they took together and their bodies.
func fetchAll(t *testing.T, h *hub.Hub, n int, url string) (time.Duration, []string) {
	t.Helper()
	start := time.Now()
	gs := make([]*spawn.Greenlet[string], n)
	for i := range gs {
		gs[i] = spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (string, error) {
			return fetch(ctx, url)
		}, spawn.WithName(fmt.Sprintf("fetch-%d", i)))
	}
	bodies := make([]string, n)
	for i, g := range gs {
		v, err := g.Get(context.Background())
		require.NoError(t, err)
		bodies[i] = v
	}
	return time.Since(start), bodies
}

// The test: with P = 1, 50 greenlets each GET a handler that takes
// 50 ms. Patched, the requests overlap; unpatched, each greenlet keeps the
// run token through its request, so they run strictly one after another and
// the blocking monitor names the offenders.
func TestFiftyGreenletGets(t *testing.T) {
	const n, latency = 50, 50 * time.Millisecond
	serial := n * latency

	t.Run("patched", func(t *testing.T) {
		unpatchAtEnd(t)
		recordLogs(t)
		srv := newSlowServer(t, latency)
		loopbackOnlyResolver(t) // the URL says localhost
		monkey.PatchAll()
		mon := &monitorLog{}
		h := newHub(t, hub.WithMonitor(500*time.Millisecond, mon.report))
		took, bodies := fetchAll(t, h, n, localhostURL(srv.Server)+"/")
		for _, b := range bodies {
			require.Equal(t, "ok", b)
		}
		t.Logf("patched: %d GETs of %v each in %v, at most %d in the handler at once", n, latency, took, srv.maxInFlight.Load())
		assert.Less(t, took, serial/2, "the requests overlap")
		assert.Greater(t, srv.maxInFlight.Load(), int64(1))
		assert.Empty(t, mon.all(), "no greenlet held the token through a request")
	})

	t.Run("unpatched", func(t *testing.T) {
		unpatchAtEnd(t)
		srv := newSlowServer(t, latency)
		mon := &monitorLog{}
		h := newHub(t, hub.WithMonitor(20*time.Millisecond, mon.report))
		took, bodies := fetchAll(t, h, n, srv.URL+"/")
		for _, b := range bodies {
			require.Equal(t, "ok", b)
		}
		t.Logf("unpatched: %d GETs in %v, at most %d in the handler at once, %d monitor reports", n, took, srv.maxInFlight.Load(), len(mon.all()))
		assert.Equal(t, int64(1), srv.maxInFlight.Load(), "strictly serialized")
		assert.GreaterOrEqual(t, took, serial)
		reports := mon.all()
		require.NotEmpty(t, reports)
		for _, r := range reports {
			assert.True(t, strings.HasPrefix(r.Name, "fetch-"), "report names the greenlet: %q", r.Name)
			// The greenlet's own goroutine, not one of the transport's
			// (which inherit the worker's profiler label).
			assert.Contains(t, r.Stack, "net/http.(*Client).Do", "the stack shows the HTTP call")
		}
	})
}

// overlapHandler answers only once n requests are in it at the same time;
// it gives up with 503 after a deadline, so a serialized client fails
// instead of hanging. Its success proves the n requests overlapped, without
// timing.
func overlapHandler(t testing.TB, n int64, check func(r *http.Request) error) *httptest.Server {
	t.Helper()
	var arrived atomic.Int64
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if check != nil {
			if err := check(r); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		if arrived.Add(1) == n {
			close(all)
		}
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		select {
		case <-all:
			fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
		case <-timer.C:
			http.Error(w, "not all requests arrived", http.StatusServiceUnavailable)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPatchedRequestsAllInFlightAtOnce(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	const n = 50
	srv := overlapHandler(t, n, nil)
	monkey.PatchAll()
	_, bodies := fetchAll(t, newHub(t), n, srv.URL+"/x")
	for _, b := range bodies {
		require.Equal(t, "GET /x", b)
	}
}

// With netpoll.DialContext the transport's connections move through gnet event
// loops; the requests still overlap and every body arrives intact.
func TestPatchedRequestsThroughNetpoll(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	const n = 20
	srv := overlapHandler(t, n, nil)
	monkey.PatchAll()
	prev := monkey.SetDialFunc(netpoll.DialContext)
	t.Cleanup(func() { monkey.SetDialFunc(prev) })
	_, bodies := fetchAll(t, newHub(t), n, srv.URL+"/netpoll")
	for _, b := range bodies {
		require.Equal(t, "GET /netpoll", b)
	}
}

// Get, Head, Post, PostForm and Do take a ctx and are cooperative whether or
// not HTTP is patched: four greenlets at P = 1 are in the handler at once.
func TestHelpersAreCooperativeWithoutPatching(t *testing.T) {
	require.False(t, monkey.IsPatched(monkey.HTTP))
	t.Cleanup(func() { closeIdle(http.DefaultTransport) })
	srv := overlapHandler(t, 5, func(r *http.Request) error {
		body, _ := io.ReadAll(r.Body)
		switch r.Method {
		case http.MethodPost:
			if ct := r.Header.Get("Content-Type"); r.URL.Path == "/form" && (ct != "application/x-www-form-urlencoded" || string(body) != "k=v") ||
				r.URL.Path == "/post" && (ct != "text/plain" || string(body) != "payload") {
				return fmt.Errorf("bad post %s %q %q", r.URL.Path, ct, body)
			}
		}
		return nil
	})
	h := newHub(t)
	calls := map[string]func(ctx context.Context) (*http.Response, error){
		"GET /get":   func(ctx context.Context) (*http.Response, error) { return monkey.Get(ctx, srv.URL+"/get") },
		"HEAD /head": func(ctx context.Context) (*http.Response, error) { return monkey.Head(ctx, srv.URL+"/head") },
		"POST /post": func(ctx context.Context) (*http.Response, error) {
			return monkey.Post(ctx, srv.URL+"/post", "text/plain", strings.NewReader("payload"))
		},
		"POST /form": func(ctx context.Context) (*http.Response, error) {
			return monkey.PostForm(ctx, srv.URL+"/form", url.Values{"k": {"v"}})
		},
		"PUT /do": func(ctx context.Context) (*http.Response, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/do", nil)
			if err != nil {
				return nil, err
			}
			return monkey.Do(req)
		},
	}
	type result struct {
		status int
		body   string
	}
	gs := map[string]*spawn.Greenlet[result]{}
	for name, call := range calls {
		gs[name] = spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (result, error) {
			resp, err := call(ctx)
			if err != nil {
				return result{}, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return result{resp.StatusCode, string(b)}, err
		})
	}
	for name, g := range gs {
		r, err := g.Get(context.Background())
		require.NoError(t, err, name)
		require.Equal(t, http.StatusOK, r.status, name)
		if !strings.HasPrefix(name, "HEAD") {
			assert.Equal(t, name, r.body)
		}
	}
}

func TestHelpersFromPlainGoroutine(t *testing.T) {
	t.Cleanup(func() { closeIdle(http.DefaultTransport) })
	srv := overlapHandler(t, 1, nil)
	resp, err := monkey.Get(context.Background(), srv.URL+"/plain")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "GET /plain", string(b))

	_, err = monkey.Get(context.Background(), "::not a url")
	assert.Error(t, err)
}

// The monitor test on its own: without patching, a greenlet's
// request to a slow handler is reported by name, with the HTTP call in the
// stack; patched, the same request is not reported.
func TestMonitorNamesUnpatchedRequest(t *testing.T) {
	for _, patched := range []bool{false, true} {
		t.Run(fmt.Sprint("patched=", patched), func(t *testing.T) {
			unpatchAtEnd(t)
			recordLogs(t)
			srv := newSlowServer(t, 400*time.Millisecond)
			if patched {
				monkey.PatchAll()
			}
			mon := &monitorLog{}
			h := newHub(t, hub.WithMonitor(200*time.Millisecond, mon.report))
			g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (string, error) {
				return fetch(ctx, srv.URL)
			}, spawn.WithName("slow-fetch"))
			body, err := g.Get(context.Background())
			require.NoError(t, err)
			require.Equal(t, "ok", body)
			reports := mon.all()
			if patched {
				assert.Empty(t, reports)
				return
			}
			require.Len(t, reports, 1, "one report per stall")
			assert.Equal(t, "slow-fetch", reports[0].Name)
			assert.Equal(t, g.ID(), reports[0].ID)
			assert.GreaterOrEqual(t, reports[0].Blocked, 200*time.Millisecond)
			assert.Contains(t, reports[0].Stack, "net/http.(*Client).Do")
		})
	}
}

// Kill of a greenlet parked in a request cancels the request: the handler
// sees its context done, the greenlet dies killed and its deferred calls
// run. Both places a request parks are covered: waiting for the response
// and reading the body. A second greenlet does the kill: at P = 1 it runs
// only while the victim is parked, which is what makes the stage certain.
func TestKillCancelsRequest(t *testing.T) {
	for _, stage := range []string{"roundtrip", "body"} {
		t.Run(stage, func(t *testing.T) {
			unpatchAtEnd(t)
			recordLogs(t)
			arrived := make(chan struct{})
			cancelled := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if stage == "body" {
					w.Write([]byte("partial"))
					w.(http.Flusher).Flush()
				}
				close(arrived)
				timer := time.NewTimer(10 * time.Second)
				defer timer.Stop()
				select {
				case <-r.Context().Done():
					close(cancelled)
				case <-timer.C:
				}
			}))
			t.Cleanup(srv.Close)
			monkey.PatchAll()
			h := newHub(t)
			var unwound, partial atomic.Bool
			victim := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (string, error) {
				defer unwound.Store(true)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/"+stage, nil)
				resp, err := http.DefaultClient.Do(req) // parks here in the roundtrip stage
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				buf := make([]byte, len("partial"))
				if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "partial" {
					return "", fmt.Errorf("read %q: %w", buf, err)
				}
				partial.Store(true)
				_, err = io.ReadAll(resp.Body) // parks here in the body stage
				return "", err
			}, spawn.WithName("victim"))

			killer := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (string, error) {
				hub.Blocking(ctx, "test.arrived", func(context.Context) error { <-arrived; return nil })
				// The victim runs again only when the killer parks; once it
				// has read the partial body its next park is the blocked
				// body read.
				for stage == "body" && !partial.Load() {
					hub.Yield(ctx)
				}
				var dump bytes.Buffer
				h.Dump(&dump)
				victim.KillAsync(nil)
				return dump.String(), nil
			})

			dump, err := killer.Get(context.Background())
			require.NoError(t, err)
			want := map[string]string{"roundtrip": `"victim" parked on http GET ` + srv.Listener.Addr().String(), "body": `"victim" parked on http.body.read`}
			assert.Contains(t, dump, want[stage], "the victim was parked in the %s when killed", stage)
			select {
			case <-cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler never saw the request cancelled")
			}
			require.NoError(t, victim.Join(context.Background()))
			assert.True(t, victim.Killed())
			assert.NoError(t, victim.Err(), "a default kill is a success")
			assert.True(t, unwound.Load(), "deferred calls ran")
		})
	}
}

// stubTransport answers every request itself, after calling during (if not
// nil) while the greenlet is parked in RoundTrip.
type stubTransport struct {
	during func(req *http.Request)
	body   io.ReadCloser
}

func (s *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.during != nil {
		s.during(req)
	}
	return &http.Response{StatusCode: http.StatusSwitchingProtocols, Body: s.body, Request: req}, nil
}

type trackedBody struct {
	io.Reader
	closed atomic.Bool
	wrote  bytes.Buffer
}

func (b *trackedBody) Close() error                { b.closed.Store(true); return nil }
func (b *trackedBody) Write(p []byte) (int, error) { return b.wrote.Write(p) }

// A kill that lands as the response arrives closes the response, which the
// killed greenlet never sees.
func TestKillAsResponseArrivesClosesIt(t *testing.T) {
	tb := &trackedBody{Reader: strings.NewReader("x")}
	client := &http.Client{Transport: monkey.WrapTransport(&stubTransport{
		during: func(req *http.Request) { hub.Current(req.Context()).Kill(nil) },
		body:   tb,
	})}
	h := newHub(t)
	var returned atomic.Bool
	g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://stub.invalid/", nil)
		client.Do(req)
		returned.Store(true)
		return 0, nil
	})
	require.NoError(t, g.Join(context.Background()))
	assert.True(t, g.Killed())
	assert.False(t, returned.Load(), "the kill landed in Do")
	assert.True(t, tb.closed.Load(), "the response that arrived was closed")
}

// A panic in the wrapped transport comes back as the greenlet's panic, and
// the hub goes on scheduling (the token was taken back first).
func TestPanicInTransportIsTheGreenletsPanic(t *testing.T) {
	boom := errors.New("boom")
	client := &http.Client{Transport: monkey.WrapTransport(&stubTransport{
		during: func(*http.Request) { panic(boom) },
	})}
	h := newHub(t)
	g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://stub.invalid/", nil)
		client.Do(req)
		return 1, nil
	})
	_, err := g.Get(context.Background())
	var pe *hub.PanicError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, boom)

	after := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
		return 2, hub.Sleep(ctx, time.Millisecond)
	})
	v, err := after.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, v)
}

// A 101 Switching Protocols body stays writable through the wrapper, and its
// reads and writes reach the connection.
func TestSwitchingProtocolsBodyStaysWritable(t *testing.T) {
	tb := &trackedBody{Reader: strings.NewReader("from server")}
	client := &http.Client{Transport: monkey.WrapTransport(&stubTransport{body: tb})}
	h := newHub(t)
	g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://stub.invalid/", nil)
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		rwc, ok := resp.Body.(io.ReadWriteCloser)
		if !ok {
			return "", errors.New("body not writable")
		}
		if _, err := rwc.Write([]byte("from client")); err != nil {
			return "", err
		}
		b, err := io.ReadAll(rwc)
		if err != nil {
			return "", err
		}
		return string(b), rwc.Close()
	})
	v, err := g.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "from server", v)
	assert.Equal(t, "from client", tb.wrote.String())
	assert.True(t, tb.closed.Load())
}

type idleRecorder struct {
	stubTransport
	closed atomic.Int64
}

func (r *idleRecorder) CloseIdleConnections() { r.closed.Add(1) }

func TestWrapTransport(t *testing.T) {
	base := &idleRecorder{}
	w := monkey.WrapTransport(base)
	assert.Same(t, w, monkey.WrapTransport(w), "wrapping twice is wrapping once")
	assert.NotSame(t, http.DefaultTransport, monkey.WrapTransport(nil), "nil wraps the default transport")

	(&http.Client{Transport: w}).CloseIdleConnections()
	assert.Equal(t, int64(1), base.closed.Load(), "CloseIdleConnections reaches the base transport")
	monkey.WrapTransport(&stubTransport{}).(interface{ CloseIdleConnections() }).CloseIdleConnections() // a base without it: no-op
}

func TestNilURLIsTheBaseTransportsError(t *testing.T) {
	rt := monkey.WrapTransport(&http.Transport{})
	h := newHub(t)
	g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (*http.Response, error) {
		req := (&http.Request{Method: http.MethodGet}).WithContext(ctx)
		return rt.RoundTrip(req)
	})
	_, err := g.Get(context.Background())
	assert.ErrorContains(t, err, "nil Request.URL")
}
