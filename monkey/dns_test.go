package monkey_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/spawn"
)

// otherRanDuring runs call in a greenlet on a fresh P = 1 hub, with a second
// greenlet ready to run before the call starts, and reports whether that
// second greenlet ran before call returned. At P = 1 it can only have run
// if call was a cooperative point: nothing else in the first greenlet
// yields. No timing is involved.
func otherRanDuring(t *testing.T, call func(ctx context.Context) error) bool {
	t.Helper()
	h := newHub(t)
	g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (bool, error) {
		var ran bool // shared between greenlets of one P = 1 hub: no lock needed
		spawn.Spawn(ctx, func(context.Context) (int, error) { ran = true; return 0, nil })
		err := call(ctx)
		return ran, err
	})
	ran, err := g.Get(context.Background())
	require.NoError(t, err)
	return ran
}

// DNS of localhost: monkey's lookups are cooperative points (the greenlet
// gives up its token while the name resolves); the resolver's own methods
// keep the token.
func TestLookupLocalhostIsCooperative(t *testing.T) {
	loopbackOnlyResolver(t)
	var addrs []string
	var ips []netip.Addr
	ran := otherRanDuring(t, func(ctx context.Context) (err error) {
		addrs, err = monkey.LookupHost(ctx, "localhost")
		return err
	})
	assert.True(t, ran, "another greenlet ran while localhost resolved")
	assert.Contains(t, addrs, "127.0.0.1")

	ran = otherRanDuring(t, func(ctx context.Context) (err error) {
		ips, err = monkey.LookupNetIP(ctx, "ip4", "localhost")
		return err
	})
	assert.True(t, ran)
	require.NotEmpty(t, ips)
	assert.Equal(t, netip.MustParseAddr("127.0.0.1"), ips[0].Unmap())

	ran = otherRanDuring(t, func(ctx context.Context) (err error) {
		addrs, err = net.DefaultResolver.LookupHost(ctx, "localhost")
		return err
	})
	assert.False(t, ran, "the standard library's lookup keeps the token")
	assert.Contains(t, addrs, "127.0.0.1")
}

// A lookup whose DNS answer waits for another greenlet of the same P = 1
// hub: it can only succeed if the lookup runs off the token. The resolver's
// own method, holding the token, times out instead.
func TestLookupRunsOffTheToken(t *testing.T) {
	lookup := func(t *testing.T, fn func(ctx context.Context, host string) ([]string, error), timeout time.Duration) (addrs []string, openedBefore bool, err error) {
		gate := make(chan struct{})
		dns := newFakeDNS(t, gate)
		setDefaultResolver(t, dns.resolver())
		h := newHub(t)
		var opened bool
		g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (bool, error) {
			spawn.Spawn(ctx, func(context.Context) (int, error) { close(gate); opened = true; return 0, nil })
			lctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			addrs, err = fn(lctx, "gated.gevent.test.")
			return opened, nil
		})
		openedBefore, gerr := g.Get(context.Background())
		require.NoError(t, gerr)
		assert.Positive(t, dns.queries.Load(), "the lookup reached the fake server")
		return addrs, openedBefore, err
	}

	t.Run("monkey", func(t *testing.T) {
		addrs, opened, err := lookup(t, monkey.LookupHost, 10*time.Second)
		require.NoError(t, err)
		assert.True(t, opened)
		assert.Equal(t, []string{"127.0.0.2"}, addrs)
	})
	t.Run("stdlib", func(t *testing.T) {
		// A closure: the method value net.DefaultResolver.LookupHost would
		// bind the resolver in place before lookup installs the fake one.
		stdLookup := func(ctx context.Context, host string) ([]string, error) {
			return net.DefaultResolver.LookupHost(ctx, host)
		}
		_, opened, err := lookup(t, stdLookup, 300*time.Millisecond)
		require.Error(t, err, "the answer waits for a greenlet that cannot run")
		assert.False(t, opened)
	})
}

type ctxKey struct{}

// dialRecord is what a test dial function saw.
type dialRecord struct {
	network, address string
	greenlet         *hub.G // hub.Current(ctx)
	value            any    // ctx.Value(ctxKey{})
	state            hub.State
}

// recordingDial records each dial, then dials through next.
type recordingDial struct {
	mu    sync.Mutex
	dials []dialRecord
	next  monkey.DialFunc
}

func (r *recordingDial) dial(ctx context.Context, network, address string) (net.Conn, error) {
	rec := dialRecord{network: network, address: address, greenlet: hub.Current(ctx), value: ctx.Value(ctxKey{})}
	if rec.greenlet != nil {
		rec.state = rec.greenlet.State()
	}
	r.mu.Lock()
	r.dials = append(r.dials, rec)
	r.mu.Unlock()
	return r.next(ctx, network, address)
}

func (r *recordingDial) all() []dialRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]dialRecord(nil), r.dials...)
}

func loopbackDial(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return nil, errors.New("test dial: not a loopback address: " + address)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, address)
}

// useDialFunc installs fn until the test ends.
func useDialFunc(t testing.TB, fn monkey.DialFunc) {
	t.Helper()
	prev := monkey.SetDialFunc(fn)
	require.NotNil(t, prev)
	t.Cleanup(func() { monkey.SetDialFunc(nil) })
}

// With Dialing patched, the default transport's connections come from the
// dial function in force, on the transport's goroutine: the greenlet is
// hidden from ctx, the request's other values are not.
func TestDialingRoutesTheTransport(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	rec := &recordingDial{next: loopbackDial}
	useDialFunc(t, rec.dial)
	srv := overlapHandler(t, 1, nil)
	h := newHub(t)
	get := func() {
		t.Helper()
		closeIdle(http.DefaultTransport) // a fresh connection each time
		g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (string, error) {
			return fetch(context.WithValue(ctx, ctxKey{}, "request value"), srv.URL+"/d")
		})
		body, err := g.Get(context.Background())
		require.NoError(t, err)
		require.Equal(t, "GET /d", body)
	}

	monkey.Patch(monkey.HTTP)
	get()
	assert.Empty(t, rec.all(), "HTTP alone dials the original way")

	monkey.Patch(monkey.Dialing)
	get()
	dials := rec.all()
	require.Len(t, dials, 1)
	assert.Equal(t, "tcp", dials[0].network)
	assert.Equal(t, srv.Listener.Addr().String(), dials[0].address)
	assert.Nil(t, dials[0].greenlet, "the greenlet is hidden from the dial")
	assert.Equal(t, "request value", dials[0].value)

	monkey.Unpatch(monkey.Dialing)
	get()
	assert.Len(t, rec.all(), 1, "unpatched Dialing dials the original way again")
}

// With Dialing patched, the default resolver reaches DNS servers through the
// dial function in force; the greenlet is hidden there too.
func TestDialingRoutesTheResolver(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	dns := newFakeDNS(t, nil)
	orig := &net.Resolver{PreferGo: true}
	setDefaultResolver(t, orig)
	rec := &recordingDial{next: dns.dial} // every DNS server address leads to the fake one
	useDialFunc(t, rec.dial)

	monkey.Patch(monkey.Dialing)
	// Checked before any lookup, so that no query can leave the loopback
	// interface even if the patch were broken.
	require.NotSame(t, orig, net.DefaultResolver)
	require.NotNil(t, net.DefaultResolver.Dial)
	assert.True(t, net.DefaultResolver.PreferGo)

	h := newHub(t)
	g := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) ([]string, error) {
		return monkey.LookupHost(context.WithValue(ctx, ctxKey{}, "lookup value"), "routed.gevent.test.")
	})
	addrs, err := g.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"127.0.0.2"}, addrs)
	dials := rec.all()
	require.NotEmpty(t, dials)
	for _, d := range dials {
		assert.Equal(t, "udp", d.network)
		assert.Nil(t, d.greenlet, "the greenlet is hidden from the resolver's dial")
		assert.Equal(t, "lookup value", d.value)
	}

	monkey.Unpatch(monkey.Dialing)
	assert.Same(t, orig, net.DefaultResolver)
}

// acceptAll accepts connections on a loopback listener until the test ends
// and closes each after reading it to EOF.
func acceptAll(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln
}

// Dial is a cooperative point: the dial function runs while the caller is
// parked, and another greenlet runs meanwhile.
func TestDialIsCooperative(t *testing.T) {
	ln := acceptAll(t)
	rec := &recordingDial{next: loopbackDial}
	useDialFunc(t, rec.dial)
	ran := otherRanDuring(t, func(ctx context.Context) error {
		c, err := monkey.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		return c.Close()
	})
	assert.True(t, ran)
	dials := rec.all()
	require.Len(t, dials, 1)
	require.NotNil(t, dials[0].greenlet, "Dial passes the greenlet's ctx")
	assert.Equal(t, hub.StateParked, dials[0].state, "and calls the dial function while it is parked")

	// From a plain goroutine Dial simply dials.
	c, err := monkey.Dial(context.Background(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = monkey.Dial(context.Background(), "tcp", "203.0.113.1:80") // refused by loopbackDial, never dialed
	assert.ErrorContains(t, err, "not a loopback address")
}

// trackedConn records Close.
type trackedConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *trackedConn) Close() error { c.closed.Store(true); return c.Conn.Close() }

func TestKillDuringDial(t *testing.T) {
	t.Run("parked", func(t *testing.T) {
		var sawCancel atomic.Bool
		useDialFunc(t, func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			sawCancel.Store(true)
			return nil, context.Cause(ctx)
		})
		h := newHub(t)
		var returned atomic.Bool
		victim := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
			monkey.Dial(ctx, "tcp", "127.0.0.1:1")
			returned.Store(true)
			return 0, nil
		})
		// At P = 1 this runs once the victim parks in Dial.
		killer := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
			victim.KillAsync(nil)
			return 0, nil
		})
		require.NoError(t, killer.Join(context.Background()))
		require.NoError(t, victim.Join(context.Background()))
		assert.True(t, victim.Killed())
		assert.True(t, sawCancel.Load(), "the kill cancelled the dial")
		assert.False(t, returned.Load(), "the kill landed in Dial")
	})
	t.Run("as the connection arrives", func(t *testing.T) {
		ln := acceptAll(t)
		var conn *trackedConn
		useDialFunc(t, func(ctx context.Context, network, address string) (net.Conn, error) {
			c, err := loopbackDial(ctx, network, address)
			if err != nil {
				return nil, err
			}
			conn = &trackedConn{Conn: c}
			hub.Current(ctx).Kill(nil)
			return conn, nil
		})
		h := newHub(t)
		var returned atomic.Bool
		victim := spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (int, error) {
			monkey.Dial(ctx, "tcp", ln.Addr().String())
			returned.Store(true)
			return 0, nil
		})
		require.NoError(t, victim.Join(context.Background()))
		assert.True(t, victim.Killed())
		assert.False(t, returned.Load())
		require.NotNil(t, conn)
		assert.True(t, conn.closed.Load(), "the connection nobody received was closed")
	})
}
