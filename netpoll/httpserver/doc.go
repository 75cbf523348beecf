// Package httpserver serves HTTP/1.x over netpoll with greenlets: gevent's
// pywsgi.WSGIServer, read the Go way. It serves any http.Handler; every
// connection is a greenlet that reads its requests, runs the handler and
// writes the responses in turn, so a handler runs as a greenlet of the
// server's hub with a ctx (Request.Context) that carries it:
//
//	srv, _ := httpserver.New("127.0.0.1:8080", mux)
//	srv.Serve(ctx) // until ctx ends, then a graceful stop
//
// Inside a handler, hub.Sleep, the hub's queues, events and locks,
// local.Local, monkey's HTTP client and netpoll's sockets park only the
// handler's greenlet; handlers of one hub run one at a time (at P = 1)
// between those cooperative points, so they share plain variables without
// locks. Greenlet-local values are cleared between the requests of a
// connection. A blocking call that is not cooperative (a bare channel
// operation, a sync.Mutex held long, time.Sleep) stalls every handler of the
// hub, as under gevent; the hub's blocking monitor reports it.
//
// # What is net/http's and what is not
//
// Requests are read by net/http's own parser (http.ReadRequest, the one
// http.Server uses), checked as http.Server checks them, and their bodies
// decoded by it (Content-Length, chunked, trailers). The response side is
// this package's: a ResponseWriter that makes net/http's decisions, header
// for header (computed Content-Length for short bodies, Content-Type
// sniffing, chunking, trailers, 1xx responses, HEAD, 204 and 304, keep-alive
// and "Connection: close", HTTP/1.0 keep-alive, reading away a body the
// handler left, "100 Continue"); its tests compare its bytes with
// http.Server's. It implements http.Flusher, http.Hijacker and the methods
// http.ResponseController uses (FlushError, SetReadDeadline,
// SetWriteDeadline, EnableFullDuplex).
//
// Why not http.Server on a netpoll Listener with each handler spawned as a
// greenlet? It was measured: every request then crosses from http.Server's
// goroutine to the greenlet and back, which cost 50-70% more CPU per request
// than http.Server alone (0.65-0.75x its requests/s; the bench/ harness keeps
// that design as a row); a connection's greenlet
// that reads, runs and writes itself makes no such hop. It also keeps every
// read and write of the connection on its greenlet, which is what lets them
// park it: http.Server reads the next request on a goroutine of its own
// while the handler runs, and a connection cannot tell that goroutine's
// reads from the handler's (the hub knows a greenlet only by its ctx).
//
// # The connection's life
//
// The server is a netpoll.StreamServer underneath, whose accept loop runs on
// a hub of the server's own, so that accepting never queues for the run
// token behind busy handlers. WithMaxHandlers(n) or WithPool(p) bound the
// connections served at once, gevent's WSGIServer(spawn=Pool(n)): the
// others wait in the listen backlog (an idle keep-alive connection holds its
// place, as in gevent, until the idle timeout); netpoll.WithMaxConns, through
// WithNetpoll, closes connections past a bound instead.
//
// A connection's greenlet waits for a request for the idle timeout
// (WithIdleTimeout, default 60 s; the read header timeout for the first
// request), then reads its header within the read header timeout
// (WithReadHeaderTimeout, default 10 s, what defeats a client that sends its
// header a byte at a time), up to WithMaxHeaderBytes (431 past it). A
// malformed request gets 400 (or 431, 501, 505) and the connection closes.
// The handler runs; the response is written; the connection serves the next
// request (pipelined ones included, in order, their responses sent together)
// unless it must close: the client or the handler asked, the body left
// unread was too large to read away (256 KiB, as net/http), a body limit was
// hit (WithMaxBodyBytes), a write failed, or the server is stopping.
//
// A handler's panic is answered with 500 (if its header has not gone out;
// otherwise the response is cut short) and reported, with its stack, to the
// hub's error handler; the connection closes. http.ErrAbortHandler aborts
// the response silently, as with net/http. A kill of the greenlet (a
// bounded Stop) lands at its next cooperative point and unwinds the handler
// like any panic, deferred calls first.
//
// When the client goes away, the request's context is cancelled, as with
// net/http (on netpoll's gnet backend, which sees the close as it happens).
//
// # Stopping
//
// Stop is graceful and bounded: it refuses new connections, closes the
// connections waiting for a request, lets the requests in progress finish
// (their responses say "Connection: close"), and kills what still runs when
// its ctx ends. Serve does the same when its ctx ends, within
// WithStopTimeout.
//
// # Several hubs
//
// One hub runs one greenlet at a time, so it serves from one core: the
// handlers, net/http's parsing and the response writes all run on its run
// token. WithHubs spreads the connections over several hubs at the price of
// the lock-free sharing between them; a hub with several run tokens
// (hub.WithParallelism) does the same with one hub. Count the cores that
// netpoll's event loops take (GOMAXPROCS/2 of them): a hub that always has
// a ready greenlet keeps its core, so hubs and loops together beyond
// GOMAXPROCS share cores in Go's 10 ms preemption slices, which shows as a
// tail of slow responses (measured on 2 cores at 1000 connections: p99
// 0.3-0.6 s with two hubs beside the loop, 60 ms with one).
//
// # Differences from net/http
//
//   - HTTP/1.x only: no HTTP/2 (neither h2 over TLS nor h2c).
//   - A hijacked connection stays bound to its greenlet (its blocking calls
//     park it) and is closed when the handler returns: finish with it there.
//   - The request's context carries http.LocalAddrContextKey but not
//     http.ServerContextKey (there is no *http.Server).
//   - Duplicate Host headers are not rejected (http.ReadRequest folds them
//     into Request.Host before the server sees them); a request for an
//     absolute URL needs no Host header.
//   - A chunked request's Trailer map is empty rather than nil before the
//     body is read.
//   - Timeouts default to on (header 10 s, idle 60 s), where net/http's are
//     off.
//   - No ConnState, ConnContext or ErrorLog hooks: the hub's error handler
//     receives panics; warnings (a superfluous WriteHeader) go to log/slog.
package httpserver
