package monkey_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/leaktest"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/netpoll"
)

// TestMain stops the default hub (used by the example and the late-patch
// test), closes idle connections and stops the gnet engine netpoll.DialContext
// started before checking for leaked goroutines.
func TestMain(m *testing.M) {
	leaktest.Main(m, leaktest.StopDefaultHub, func(context.Context) error {
		closeIdle(http.DefaultTransport)
		return nil
	}, netpoll.Shutdown)
}

// newHub returns a hub (P = 1 unless opts say otherwise) stopped at the end
// of the test.
func newHub(t testing.TB, opts ...hub.Option) *hub.Hub {
	t.Helper()
	h := hub.MustNew(opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Stop(ctx))
	})
	return h
}

// unpatchAtEnd restores every area, the original transport's idle
// connections closed, when the test ends, whatever it patched.
func unpatchAtEnd(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		monkey.Unpatch(monkey.All)
		closeIdle(http.DefaultTransport)
	})
}

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// logRecorder collects the messages logged through slog.Default.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// count returns how many recorded messages contain s.
func (l *logRecorder) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// recordLogs sends slog.Default's output to a recorder until the test ends.
func recordLogs(t testing.TB) *logRecorder {
	t.Helper()
	rec := &logRecorder{}
	prev := slog.Default()
	slog.SetDefault(slog.New(rec))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return rec
}

// slowServer serves "ok" after d (or when the request is cancelled) and
// tracks how many requests were in its handler at once.
type slowServer struct {
	*httptest.Server
	inFlight, maxInFlight atomic.Int64
}

func newSlowServer(t testing.TB, d time.Duration) *slowServer {
	t.Helper()
	s := &slowServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		for m := s.maxInFlight.Load(); n > m && !s.maxInFlight.CompareAndSwap(m, n); m = s.maxInFlight.Load() {
		}
		// Decremented before the response is flushed (after the handler
		// returns), so a client that has its response sees the count without
		// its own request.
		defer s.inFlight.Add(-1)
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			w.Write([]byte("ok"))
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// localhostURL is the server's URL with the host spelt "localhost", so the
// client resolves a name.
func localhostURL(s *httptest.Server) string {
	return strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
}

// monitorLog collects the blocking monitor's reports.
type monitorLog struct {
	mu      sync.Mutex
	reports []hub.BlockedReport
}

func (m *monitorLog) report(r hub.BlockedReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reports = append(m.reports, r)
}

func (m *monitorLog) all() []hub.BlockedReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reports)
}

// fakeDNS is a DNS server on 127.0.0.1 (UDP) that answers A queries with
// 127.0.0.1 for localhost and 127.0.0.2 for every other name, and AAAA
// queries with no record, once gate is closed (nil gate: at once). Resolvers reach it through a Dial hook that
// ignores the server address: no query ever leaves the loopback interface.
type fakeDNS struct {
	conn    net.PacketConn
	gate    <-chan struct{}
	closed  chan struct{} // releases answers still waiting for the gate
	queries atomic.Int64
	wg      sync.WaitGroup
}

func newFakeDNS(t testing.TB, gate <-chan struct{}) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeDNS{conn: pc, gate: gate, closed: make(chan struct{})}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(func() {
		close(f.closed)
		pc.Close()
		f.wg.Wait()
	})
	return f
}

func (f *fakeDNS) serve() {
	defer f.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := f.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var q dnsmessage.Message
		if q.Unpack(buf[:n]) != nil || len(q.Questions) == 0 {
			continue
		}
		f.queries.Add(1)
		query := append([]byte(nil), buf[:n]...)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			if f.gate != nil {
				select {
				case <-f.gate:
				case <-f.closed:
					return
				}
			}
			if resp := answer(query); resp != nil {
				f.conn.WriteTo(resp, from)
			}
		}()
	}
}

func answer(query []byte) []byte {
	var q dnsmessage.Message
	if err := q.Unpack(query); err != nil {
		return nil
	}
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true, RecursionDesired: q.RecursionDesired, RecursionAvailable: true},
		Questions: q.Questions[:1],
	}
	qq := q.Questions[0]
	if qq.Type == dnsmessage.TypeA {
		a := [4]byte{127, 0, 0, 2}
		if strings.EqualFold(qq.Name.String(), "localhost.") {
			a = [4]byte{127, 0, 0, 1}
		}
		resp.Answers = append(resp.Answers, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: qq.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: a},
		})
	}
	b, err := resp.Pack()
	if err != nil {
		return nil
	}
	return b
}

// dial connects to the fake server whatever address the resolver asks for.
func (f *fakeDNS) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	if !strings.HasPrefix(network, "udp") {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	var d net.Dialer
	return d.DialContext(ctx, "udp", f.conn.LocalAddr().String())
}

// resolver returns a pure-Go resolver that queries only the fake server.
func (f *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: f.dial}
}

// loopbackOnlyResolver makes net.DefaultResolver, until the test ends, a
// resolver whose queries (for names not in /etc/hosts) go to a fake server:
// tests that resolve "localhost" never reach a real DNS server, whatever the
// machine's hosts file says.
func loopbackOnlyResolver(t testing.TB) {
	t.Helper()
	setDefaultResolver(t, newFakeDNS(t, nil).resolver())
}

// setDefaultResolver replaces net.DefaultResolver until the test ends.
func setDefaultResolver(t testing.TB, r *net.Resolver) {
	t.Helper()
	prev := net.DefaultResolver
	net.DefaultResolver = r
	t.Cleanup(func() { net.DefaultResolver = prev })
}
