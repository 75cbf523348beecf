package monkey

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gevent-go/gevent/hub"
)

// Area is a set of standard-library defaults that monkey patches together.
// Areas combine with |.
type Area uint8

const (
	// HTTP replaces http.DefaultTransport with a cooperative transport (see
	// WrapTransport) over a clone of the original. http.DefaultClient, whose
	// Transport is nil, and every http.Client without a Transport use it.
	HTTP Area = 1 << iota
	// Dialing routes the standard library's package-level dial hooks through
	// the dial function in force (SetDialFunc): the connections of the
	// patched default transport (with HTTP patched too, and if the original
	// default transport is an *http.Transport; its own DialContext is then
	// not used, so a program that set a special one should patch HTTP only),
	// and the connections net.DefaultResolver makes to DNS servers
	// (net.DefaultResolver is replaced by a resolver with the same settings
	// and that Dial hook, unless it already has a Dial hook of its own, which
	// is kept).
	Dialing
	// All is every area, what PatchAll patches.
	All = HTTP | Dialing
)

var areaNames = []struct {
	a    Area
	name string
}{{HTTP, "http"}, {Dialing, "dialing"}}

// String names the areas in a, joined by "|".
func (a Area) String() string {
	var parts []string
	for _, n := range areaNames {
		if a&n.a != 0 {
			parts = append(parts, n.name)
		}
	}
	if rest := a &^ All; rest != 0 || a == 0 {
		parts = append(parts, fmt.Sprintf("Area(%#x)", uint8(rest)))
	}
	return strings.Join(parts, "|")
}

func checkAreas(a Area) {
	if a&^All != 0 {
		panic("monkey: unknown area " + a.String())
	}
}

// The patch state. The standard library reads the variables monkey replaces
// without synchronization, so patching races with goroutines that use them:
// patch first, as gevent says.
var (
	mu      sync.Mutex
	patched Area

	origTransport      http.RoundTripper
	installedTransport http.RoundTripper
	clone              *http.Transport // base of installedTransport, if the original was an *http.Transport

	origResolver      *net.Resolver
	installedResolver *net.Resolver // nil if the original kept its own Dial hook

	// dialing mirrors patched&Dialing for the clone's dial hook, which runs
	// on the transport's goroutines and must not take mu.
	dialing atomic.Bool
)

// PatchAll patches every area (All): after it, requests made with a
// greenlet's ctx through http.DefaultClient, http.DefaultTransport or any
// http.Client without a Transport park only that greenlet, and the standard
// library's default dial hooks go through the dial function in force. Call
// it first thing in main, before spawning greenlets and before other
// goroutines use net/http (see Patch). It never blocks beyond a short lock.
func PatchAll() { Patch(All) }

// Patch patches the given areas. Areas already patched stay as they are
// (patching is idempotent, and repeated calls patch the union). Patching
// after greenlets have run on the default hub logs a warning through
// slog.Default, like gevent's late-patch warning: code that captured the
// originals before keeps them. Patch is safe to call from greenlets and
// goroutines concurrently with Patch, Unpatch and IsPatched, but the standard
// library reads the replaced variables without synchronization, so it races
// with requests in flight. It panics on an unknown area. It never blocks
// beyond a short lock.
func Patch(areas Area) {
	checkAreas(areas)
	mu.Lock()
	defer mu.Unlock()
	todo := areas &^ patched
	if todo == 0 {
		return
	}
	warnIfLate(todo)
	if todo&HTTP != 0 {
		patchHTTPLocked()
	}
	if todo&Dialing != 0 {
		patchDialingLocked()
	}
	patched |= todo
}

// Unpatch restores the originals of the given areas exactly (the very values
// they had before patching); areas not patched are left alone. If
// the patched variable was replaced by someone else meanwhile, that value is
// left in place and a warning is logged. The patched transport's idle
// connections are closed. Safe for concurrent use like Patch; it panics on an
// unknown area; it never blocks beyond a short lock and closing idle sockets.
func Unpatch(areas Area) {
	checkAreas(areas)
	mu.Lock()
	defer mu.Unlock()
	todo := areas & patched
	if todo&HTTP != 0 {
		unpatchHTTPLocked()
	}
	if todo&Dialing != 0 {
		unpatchDialingLocked()
	}
	patched &^= todo
}

// IsPatched reports whether every area in areas is patched (false for no
// area). It never blocks beyond a short lock.
func IsPatched(areas Area) bool {
	mu.Lock()
	defer mu.Unlock()
	return areas != 0 && patched&areas == areas
}

// OriginalTransport returns the http.DefaultTransport that HTTP patching
// replaced, or the current http.DefaultTransport if HTTP is not patched
// (gevent's get_original). It never blocks beyond a short lock.
func OriginalTransport() http.RoundTripper {
	mu.Lock()
	defer mu.Unlock()
	if patched&HTTP != 0 {
		return origTransport
	}
	return http.DefaultTransport
}

// OriginalResolver returns the net.DefaultResolver that Dialing patching
// replaced, or the current net.DefaultResolver if Dialing is not patched. It
// never blocks beyond a short lock.
func OriginalResolver() *net.Resolver {
	mu.Lock()
	defer mu.Unlock()
	if patched&Dialing != 0 {
		return origResolver
	}
	return net.DefaultResolver
}

// warnIfLate logs gevent's late-patch warning if greenlets have already run
// on the default hub (greenlets of other hubs are not counted: the hub keeps
// no registry of hubs).
func warnIfLate(areas Area) {
	if n := hub.Default().Stats().Spawned; n > 0 {
		slog.Warn("monkey: patching after greenlets have run; code that already captured the originals keeps them: patch first thing in main",
			"areas", areas.String(), "spawned", n)
	}
}

func patchHTTPLocked() {
	orig := http.DefaultTransport
	base := orig
	if t, ok := orig.(*http.Transport); ok {
		// A clone, so the original is never mutated and comes back exactly
		// as it was; its dial hook follows the Dialing area at dial time.
		clone = t.Clone()
		clone.DialContext = transportDial(transportDialFunc(t))
		base = clone
	}
	origTransport = orig
	installedTransport = WrapTransport(base)
	http.DefaultTransport = installedTransport
}

func unpatchHTTPLocked() {
	if http.DefaultTransport == installedTransport {
		http.DefaultTransport = origTransport
	} else {
		slog.Warn("monkey: http.DefaultTransport was replaced while patched; leaving the replacement in place")
	}
	if clone != nil {
		clone.CloseIdleConnections()
	}
	origTransport, installedTransport, clone = nil, nil, nil
}

// transportDialFunc is the dial function t uses, as net/http picks it.
func transportDialFunc(t *http.Transport) DialFunc {
	switch {
	case t.DialContext != nil:
		return t.DialContext
	case t.Dial != nil:
		dial := t.Dial
		return func(_ context.Context, network, address string) (net.Conn, error) { return dial(network, address) }
	}
	var zero net.Dialer
	return zero.DialContext
}

// transportDial is the patched transport's dial hook: the dial function in
// force while Dialing is patched, the original transport's otherwise. It
// runs on the transport's dial goroutine, so the greenlet is hidden from ctx
// either way.
func transportDial(orig DialFunc) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		ctx = hub.Detach(ctx)
		if dialing.Load() {
			return currentDial()(ctx, network, address)
		}
		return orig(ctx, network, address)
	}
}

func patchDialingLocked() {
	orig := net.DefaultResolver
	origResolver = orig
	dialing.Store(true)
	if orig != nil && orig.Dial != nil {
		return // the resolver's own Dial hook wins
	}
	r := &net.Resolver{Dial: resolverDial}
	if orig != nil {
		r.PreferGo, r.StrictErrors = orig.PreferGo, orig.StrictErrors
	}
	installedResolver = r
	net.DefaultResolver = r
}

func unpatchDialingLocked() {
	dialing.Store(false)
	if installedResolver != nil {
		if net.DefaultResolver == installedResolver {
			net.DefaultResolver = origResolver
		} else {
			slog.Warn("monkey: net.DefaultResolver was replaced while patched; leaving the replacement in place")
		}
	}
	origResolver, installedResolver = nil, nil
}

// resolverDial is the patched resolver's Dial hook. The resolver calls it on
// its own query goroutines, beside the caller, so the greenlet is hidden.
func resolverDial(ctx context.Context, network, address string) (net.Conn, error) {
	return currentDial()(hub.Detach(ctx), network, address)
}
