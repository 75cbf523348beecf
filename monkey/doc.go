// Package monkey is the Go reading of gevent.monkey.patch_all: after
// PatchAll, the standard library's everyday network calls made from
// greenlets park only the calling greenlet instead of stalling its hub.
//
//	func main() {
//		monkey.PatchAll() // first thing, before greenlets and before other goroutines use net/http
//		hub.Run(ctx, func(ctx context.Context) error {
//			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil) // the greenlet's ctx
//			resp, err := http.DefaultClient.Do(req)                    // parks this greenlet only
//			...
//		})
//	}
//
// # What Go lets us patch
//
// Go cannot replace functions, so patching means replacing the standard
// library's package-level defaults, and a blocking call can give up its
// greenlet's run token only if it can tell which greenlet is calling: the
// hub knows a greenlet only by the ctx it passes (no goroutine ids). Two
// areas are patched (Area, Patch, Unpatch, IsPatched):
//
//   - HTTP: http.DefaultTransport becomes a cooperative transport
//     (WrapTransport) over a clone of the original. Every request whose
//     context carries a greenlet waits for its response off the greenlet's
//     run token (hub.Blocking), and the response body's Read and Close do
//     too. http.DefaultClient and every http.Client without a Transport use
//     it. A kill of the greenlet cancels its request.
//   - Dialing: the standard library's package-level dial hooks go through
//     the dial function in force (SetDialFunc; the standard library's
//     net.Dialer by default): the connections of the patched default
//     transport, and net.DefaultResolver's connections to DNS servers.
//
// # Which calls become cooperative
//
// From a greenlet, after PatchAll, these park only the calling greenlet
// ("ctx" is the greenlet's ctx or one derived from it):
//
//   - http.DefaultClient.Do(req), Do on any http.Client without a
//     Transport, and http.DefaultTransport.RoundTrip(req), for a req made
//     with http.NewRequestWithContext(ctx, ...): the wait for the response,
//     and Read and Close on its body. A kill cancels the request.
//   - The name resolution and dialing those requests do: the transport
//     resolves and dials on its own goroutine while the greenlet waits.
//
// These cannot be made cooperative by patching, and have replacements:
//
//   - http.Get, http.Head, http.Post, http.PostForm, client.Get(url) and
//     requests made without a ctx: their context is context.Background(), so
//     nothing identifies the calling greenlet. Use monkey.Get, Head, Post,
//     PostForm(ctx, ...), or NewRequestWithContext(ctx, ...).
//   - client.Do(req) on a client with its own Transport: use
//     WrapTransport(transport), or monkey.Do(req) for the default client.
//   - net.LookupHost and every net.Resolver lookup, even with ctx: the
//     resolver waits for its own query goroutines inside package net, and
//     its only hook (Dial) runs on those goroutines, not on the caller's.
//     Use monkey.LookupHost or LookupNetIP(ctx, ...).
//   - net.Dial, net.DialTimeout and net.Dialer: there is no package-level
//     dialer. Use monkey.Dial(ctx, ...).
//   - Read and Write on a connection from package net: they take no ctx,
//     and connections are shared between goroutines. Wrap long waits in
//     hub.Blocking(ctx, ...), or dial with a cooperative dial function.
//
// monkey's own Get, Head, Post, PostForm, Do, Dial, LookupHost and LookupNetIP
// are cooperative whether or not anything is patched, like gevent's own
// socket functions.
//
// # What cannot be patched, and what to use instead
//
// Whatever blocks a goroutine without passing through a patched default
// keeps the greenlet's run token and stalls every greenlet of its hub,
// exactly like unpatched code under gevent. The hub's blocking monitor
// (hub.WithMonitor) reports such a stall with the greenlet's name and stack.
//
//	blocking call                          cooperative replacement
//	time.Sleep(d)                          hub.Sleep(ctx, d)
//	channel send, receive, select          the hub's Queue, Channel and Event primitives; for a
//	                                         channel you must use, hub.Blocking(ctx, reason, fn)
//	sync.Mutex, sync.RWMutex, sync.Cond,   the hub's Semaphore and Lock primitives and Event;
//	  sync.WaitGroup                         spawn.JoinAll for a group of greenlets
//	blocking syscalls, cgo calls, file     hub.Offload(ctx, fn) (gevent's threadpool) or
//	  I/O, os/exec Wait, database/sql        hub.Blocking(ctx, reason, fn)
//	http.Get and friends without ctx       monkey.Get, Head, Post, PostForm(ctx, ...)
//	net.Lookup*, net.Resolver methods      monkey.LookupHost, LookupNetIP(ctx, ...)
//	net.Dial, net.Dialer                   monkey.Dial(ctx, ...)
//
// At P = 1 a greenlet that waits on a plain channel for another greenlet of
// the same hub deadlocks: see package hub.
//
// # Rules
//
//   - Patch first, at the start of main, before spawning greenlets and before
//     other goroutines use net/http or net: the standard library reads the
//     variables monkey replaces without synchronization. Patching after
//     greenlets have run on the default hub logs a warning (gevent's
//     late-patch warning); Patch and Unpatch themselves are safe to call
//     concurrently and from greenlets.
//   - Once patched, a request made with a greenlet's ctx is a hub call, and
//     hub calls with a greenlet's ctx belong to that greenlet (package hub:
//     the hub tells greenlets apart only by ctx). Goroutines a greenlet
//     starts (a go statement, an errgroup) must not make requests, lookups
//     or dials with its ctx while it runs or blocks: give them a ctx derived
//     from context.Background() instead. Otherwise they act on the
//     greenlet's run token from the wrong goroutine.
//   - A response body belongs to the greenlet whose ctx made the request:
//     read and close it there. See WrapTransport for what is safe otherwise.
//   - While HTTP is patched, http.DefaultTransport is not an *http.Transport:
//     code that asserts it is (http.DefaultTransport.(*http.Transport)) must
//     use OriginalTransport instead. Patch before such code runs.
//   - The dial function is called off any greenlet's run token (from the
//     transport's and the resolver's goroutines, with the greenlet hidden
//     from ctx, or from Dial while the caller is parked), so it must block
//     the plain Go way; see DialFunc.
//
// # Dialing: the standard library's net or gnet
//
// The default dial function is the standard library's net.Dialer;
// netpoll.DialContext (TCP through package netpoll's gnet event loops) is
// the alternative, and SetDialFunc switches a program either way
// (monkey.SetDialFunc(netpoll.DialContext)). monkey does not import
// netpoll: the two packages sit side by side. The standard
// library stays the default because it measured faster: all of a patched
// transport's connection I/O already runs off the run token on the
// transport's own goroutines, so gnet's loops only add a hop.
// BenchmarkConcurrentGets (100 workers, GETs of a 20 ms handler on loopback,
// 2 shared cores, 3 runs each, one process): plain goroutines 4,486 req/s,
// patched greenlets with the standard library 4,477 req/s (1.00x), patched
// greenlets with netpoll.DialContext 4,324 req/s (0.96x). Under the crawler workload
// (bench/run.sh -only crawl: the crawler example's 3,001-page site, 20 ms
// per response, concurrency 50), the standard library's dialer gave 2,266
// pages/s and netpoll.DialContext 2,234 (0.99x), the plain-Go crawler 2,250: the
// crawl is bound by the latency, and gnet's loops win nothing back.
//
// # Differences from gevent
//
//   - gevent patches functions; Go can only swap package-level defaults, so
//     ctx-less entry points (http.Get, net.Dial, net.LookupHost) stay
//     blocking and monkey provides ctx-taking replacements.
//   - Patching is reversible (Unpatch restores the very originals) and does
//     not warn when repeated: repeated Patch calls patch the union, silently.
//   - The late-patch warning counts greenlets of the default hub only (the
//     hub keeps no registry of hubs), and asking creates the default hub if
//     there is none (it starts no goroutine).
package monkey
