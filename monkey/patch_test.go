package monkey_test

import (
	"context"
	"net"
	"net/http"
	"reflect"
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

func funcPtr(f any) uintptr { return reflect.ValueOf(f).Pointer() }

func TestPatchAndUnpatchRestoreOriginalsExactly(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	origT := http.DefaultTransport
	origR := net.DefaultResolver
	origDial := funcPtr(origT.(*http.Transport).DialContext)
	require.False(t, monkey.IsPatched(monkey.HTTP))
	require.Same(t, origT, monkey.OriginalTransport())
	require.Same(t, origR, monkey.OriginalResolver())

	monkey.PatchAll()
	assert.True(t, monkey.IsPatched(monkey.All))
	assert.True(t, monkey.IsPatched(monkey.HTTP))
	assert.True(t, monkey.IsPatched(monkey.Dialing))
	patchedT, patchedR := http.DefaultTransport, net.DefaultResolver
	assert.NotSame(t, origT, patchedT)
	assert.NotSame(t, origR, patchedR)
	assert.Same(t, origT, monkey.OriginalTransport())
	assert.Same(t, origR, monkey.OriginalResolver())
	assert.NotNil(t, patchedR.Dial, "the patched resolver dials through monkey")
	assert.Equal(t, origR.PreferGo, patchedR.PreferGo)
	assert.Equal(t, origR.StrictErrors, patchedR.StrictErrors)

	// Idempotent: nothing is replaced twice.
	monkey.PatchAll()
	monkey.Patch(monkey.HTTP)
	assert.Same(t, patchedT, http.DefaultTransport)
	assert.Same(t, patchedR, net.DefaultResolver)

	monkey.Unpatch(monkey.All)
	assert.False(t, monkey.IsPatched(monkey.HTTP))
	assert.False(t, monkey.IsPatched(monkey.Dialing))
	assert.Same(t, origT, http.DefaultTransport, "pointer-equal original transport")
	assert.Same(t, origR, net.DefaultResolver, "pointer-equal original resolver")
	assert.Equal(t, origDial, funcPtr(origT.(*http.Transport).DialContext), "the original transport was never mutated")
	assert.Nil(t, origR.Dial, "the original resolver was never mutated")

	// Unpatching what is not patched does nothing.
	monkey.Unpatch(monkey.All)
	assert.Same(t, origT, http.DefaultTransport)
}

func TestPatchOneAreaAtATime(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	origT, origR := http.DefaultTransport, net.DefaultResolver

	monkey.Patch(monkey.HTTP)
	assert.True(t, monkey.IsPatched(monkey.HTTP))
	assert.False(t, monkey.IsPatched(monkey.Dialing))
	assert.False(t, monkey.IsPatched(monkey.All), "All needs every area")
	assert.False(t, monkey.IsPatched(0))
	assert.Same(t, origR, net.DefaultResolver, "HTTP leaves the resolver alone")
	patchedT := http.DefaultTransport

	monkey.Patch(monkey.Dialing)
	assert.True(t, monkey.IsPatched(monkey.All))
	assert.Same(t, patchedT, http.DefaultTransport, "Dialing keeps the patched transport")
	assert.NotSame(t, origR, net.DefaultResolver)

	monkey.Unpatch(monkey.HTTP)
	assert.Same(t, origT, http.DefaultTransport)
	assert.True(t, monkey.IsPatched(monkey.Dialing))
	monkey.Unpatch(monkey.Dialing)
	assert.Same(t, origR, net.DefaultResolver)
}

func TestResolverWithOwnDialHookIsKept(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	own := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, net.ErrClosed
	}}
	setDefaultResolver(t, own)
	monkey.Patch(monkey.Dialing)
	assert.True(t, monkey.IsPatched(monkey.Dialing))
	assert.Same(t, own, net.DefaultResolver)
	monkey.Unpatch(monkey.Dialing)
	assert.Same(t, own, net.DefaultResolver)
}

func TestUnpatchLeavesAForeignReplacement(t *testing.T) {
	unpatchAtEnd(t)
	logs := recordLogs(t)
	origT := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = origT })

	monkey.Patch(monkey.HTTP)
	foreign := &http.Transport{}
	http.DefaultTransport = foreign
	monkey.Unpatch(monkey.HTTP)
	assert.Same(t, foreign, http.DefaultTransport)
	assert.Equal(t, 1, logs.count("http.DefaultTransport was replaced while patched"))
	assert.False(t, monkey.IsPatched(monkey.HTTP))
}

func TestUnknownAreaPanics(t *testing.T) {
	assert.PanicsWithValue(t, "monkey: unknown area Area(0x80)", func() { monkey.Patch(0x80) })
	assert.PanicsWithValue(t, "monkey: unknown area http|Area(0x4)", func() { monkey.Unpatch(monkey.HTTP | 0x4) })
	assert.Equal(t, "http|dialing", monkey.All.String())
	assert.Equal(t, "Area(0x0)", monkey.Area(0).String())
}

// gevent's late-patch warning: patching after greenlets ran on the default
// hub warns once; patching before, or patching what is already patched, does
// not.
func TestLatePatchWarns(t *testing.T) {
	unpatchAtEnd(t)
	logs := recordLogs(t)
	stopDefaultHub(t) // a fresh default hub has spawned nothing
	const warning = "monkey: patching after greenlets have run"

	monkey.PatchAll()
	assert.Equal(t, 0, logs.count(warning))
	monkey.Unpatch(monkey.All)

	g := spawn.Spawn(context.Background(), func(context.Context) (int, error) { return 1, nil })
	_, err := g.Get(context.Background())
	require.NoError(t, err)

	monkey.PatchAll()
	assert.Equal(t, 1, logs.count(warning))
	monkey.PatchAll()
	monkey.Patch(monkey.HTTP)
	assert.Equal(t, 1, logs.count(warning), "nothing new to patch, no new warning")
	stopDefaultHub(t)
}

func stopDefaultHub(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, hub.Default().Stop(ctx))
}

// Patch, Unpatch and the queries are safe from greenlets and goroutines at
// once (go test -race), and every combination ends restorable.
func TestPatchConcurrently(t *testing.T) {
	unpatchAtEnd(t)
	recordLogs(t)
	origT, origR := http.DefaultTransport, net.DefaultResolver
	h := newHub(t)
	areas := []monkey.Area{monkey.HTTP, monkey.Dialing, monkey.All}
	// Whatever the interleaving, the originals reported are the true ones.
	var wrongOriginal atomic.Int64
	churn := func(seed int) {
		for i := range 200 {
			monkey.Patch(areas[(seed+i)%len(areas)])
			if monkey.OriginalTransport() != origT || monkey.OriginalResolver() != origR {
				wrongOriginal.Add(1)
			}
			monkey.Unpatch(areas[(seed+i+1)%len(areas)])
		}
	}
	var wg sync.WaitGroup
	var gs []*spawn.Greenlet[struct{}]
	for w := range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); churn(w) }()
		gs = append(gs, spawn.Spawn(hub.NewContext(context.Background(), h), func(ctx context.Context) (struct{}, error) {
			for range 4 {
				churn(w + 1)
				hub.Yield(ctx)
			}
			return struct{}{}, nil
		}))
	}
	wg.Wait()
	_, err := spawn.JoinAll(context.Background(), gs)
	require.NoError(t, err)
	assert.Zero(t, wrongOriginal.Load())
	monkey.Unpatch(monkey.All)
	assert.Same(t, origT, http.DefaultTransport)
	assert.Same(t, origR, net.DefaultResolver)
	assert.False(t, monkey.IsPatched(monkey.HTTP))
	assert.False(t, monkey.IsPatched(monkey.Dialing))
}
