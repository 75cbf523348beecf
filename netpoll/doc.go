// Package netpoll gives greenlets cooperative TCP sockets whose bytes move
// through gnet event loops: Listen and Accept, Dial, a Conn that implements
// net.Conn, and StreamServer, gevent's server that runs a greenlet per
// connection; for UDP, ListenPacket's PacketConn (a net.PacketConn) and
// DatagramServer, a greenlet per datagram (on the standard library's
// sockets); and TLS over its connections with crypto/tls (see TLS below).
//
// # Parking
//
// Read, Write, Accept and Dial park only the calling greenlet: its run token
// passes to the next ready greenlet of its hub, and it resumes when its
// bytes, its connection, an error, its deadline or the end of its ctx
// arrives. A kill of the greenlet lands in the call (see package hub), its
// deferred calls run, and the connection is left in a defined state: a
// killed Read consumed nothing, a killed Write had handed a prefix of its
// bytes to the kernel (which will be sent), a killed Accept or Dial leaves
// no connection behind. The same calls made from a plain goroutine, or with a ctx that
// carries no greenlet, block the way the standard library's do. Parked
// callers of one Conn or Listener are served in the order they parked.
//
// # Binding a Conn to a greenlet
//
// net.Conn's Read and Write take no ctx, yet the hub recognizes the caller
// by its ctx. So every Conn carries the ctx its calls wait with:
//
//   - a StreamServer handler's Conn is bound to the handler's ctx;
//   - Dial(ctx, ...) binds the new Conn to ctx;
//   - Listener.AcceptContext(ctx) binds to ctx, Listener.Accept to the ctx
//     given to Listen;
//   - c.WithContext(ctx) returns the same connection bound to ctx.
//
// The rule: a greenlet uses only a Conn bound to its own ctx (or one derived
// from it). To share a connection, for example a reader greenlet and a
// writer greenlet on one socket (full duplex works), give each its own view
// with WithContext. A Conn bound to another greenlet's ctx cannot park the
// caller: typically its call blocks the caller's goroutine and stalls its
// hub, which the hub's blocking monitor reports.
//
// # How the bytes move
//
// All connections share one gnet Client engine started on first use, with
// an event loop per two Ps (GOMAXPROCS / 2, at least one: the other half of
// the CPU runs the goroutines that consume the bytes); Shutdown stops it. A listener's socket
// stays on the standard library (accepting is not where the bytes flow):
// accepted sockets are handed to the loops, so closing a Listener refuses
// connections at once without touching accepted ones, and a server that
// stops accepting leaves clients waiting in the kernel's backlog, as
// gevent's does. Dial connects with net.Dialer, honouring ctx's deadline
// and cancellation, then hands the socket to the loops.
//
// Inbound bytes are copied out of gnet's shared read buffer on the loop and
// queued per connection, in pooled buffers, until read; between messages a
// connection keeps at most one 4 KiB buffer. Writes do not go through
// gnet: Write writes to the socket from the caller's goroutine, and while
// the kernel's send buffer is full it parks until there is room, waiting
// through the Go runtime's poller on a duplicate of the socket's
// descriptor. So, as with the standard library, the kernel's buffer is the
// only output buffer, and a fast writer to a slow peer is throttled by it.
//
// # Half-close
//
// A peer's FIN ends only its direction, as with the standard library: Read
// returns the bytes received, then io.EOF, while Write goes on working until
// Close, and Close delivers what was written. gnet itself closes a
// connection when its peer's FIN arrives; netpoll then keeps the socket
// open through its own descriptor, and since gnet never holds output of
// ours, nothing is lost. CloseWrite shuts down the local write side.
//
// # Memory under hostile peers
//
// gnet reads every socket whatever the application does, so by itself it
// would never let the kernel throttle a peer that sends faster than the
// connection is read. netpoll bounds what connections hold instead: a
// connection may hold its inbound limit of unread input (WithInboundLimit,
// default 4 MiB); all the connections of a Listener or StreamServer
// together its inbound budget (WithInboundBudget, default 64 MiB). A
// connection past either is paused: netpoll has gnet let go of it and reads
// it through the Go runtime's poller for the rest of its life, as the
// stdlib backend does, so the kernel's flow control throttles its peer, and
// nothing is lost. All the process's gnet connections together may hold the engine's
// budget (SetEngineInboundBudget, default 256 MiB), the last resort: past
// it the connections holding the most are cut (closed, their input
// dropped, Read and Write return an error matching ErrInboundOverflow). A
// reader that keeps up holds nothing and is never paused or cut. Output
// needs no such bound: it stays in the kernel. The kernel's own buffers,
// which peers that do not read fill first, can be sized per connection
// with SetReadBuffer and SetWriteBuffer.
//
// # Deviations from net.Conn and the standard library
//
//   - A connection is read ahead up to its inbound limit before its peer is
//     throttled, and past the engine's budget a connection can be cut
//     (above); the standard library leaves both to the kernel.
//   - Deadlines are implemented by netpoll (gnet's are stubs) and follow the
//     net.Conn contract, including a deadline moved while a Read or Write is
//     blocked.
//   - Only "tcp", "tcp4" and "tcp6".
//
// golang.org/x/net/nettest.TestConn passes on both backends, with the
// default limits and with connections paused from their first byte.
//
// # The stdlib backend
//
// WithStdlib moves a connection's bytes through the standard library's net
// package instead, behind the same API: each blocking call runs on the
// caller's goroutine off its run token (hub.Blocking), and the end of the
// bound ctx interrupts it through a past deadline. Back-pressure is then
// the kernel's; the inbound limit and the budgets do not apply. It is the
// only backend where gnet does not run (Windows, Plan 9, ...).
//
// # TLS
//
// A Conn is a net.Conn, so crypto/tls runs over it unchanged, and its
// handshake, reads and writes park only the calling greenlet: DialTLS dials
// and shakes hands as a client; a server wraps its handler's connection:
//
//	srv, _ := netpoll.NewStreamServer(addr, func(ctx context.Context, c *netpoll.Conn) {
//		tc := tls.Server(c, cfg)
//		if err := tc.HandshakeContext(ctx); err != nil {
//			return
//		}
//		// tc.Read and tc.Write, in this greenlet
//	})
//
// (netpoll/httpserver.WithTLS does this for HTTPS.) A tls.Conn reads and
// writes through the Conn it wraps, which is bound to one greenlet's ctx:
// use it from that greenlet only (WithContext gives a second greenlet a view
// of a plain Conn, but not of a tls.Conn; a reader and a writer at once on
// one TLS connection take plain goroutines and a Conn bound to a ctx
// without a greenlet). The handshake's signatures and every record's cipher work run
// on the greenlet's run token: a TLS server that must use several cores
// spreads its connections over several hubs.
//
// # Shutdown
//
// Shutdown closes every Listener and stops the shared event loops, closing
// every gnet connection (paused and half-open ones too); calls on them
// return ErrShutdown. It waits for the
// loops' goroutines, so programs and tests that check for leaked goroutines
// (go.uber.org/goleak) call it at the end, after stopping their servers and
// hubs. A later Listen or Dial starts the loops again.
//
// # Options and hubs
//
// An Option configures a connection and is taken by what makes them (Dial,
// DialTLS, Listen, ListenPacket) and by the StreamServer; a ServerOption
// (WithMaxHandlers, WithPool, ...) only by the servers, so giving one to
// Dial or Listen does not compile; and a DatagramServer takes only the two
// DatagramOptions (WithMaxHandlers, WithStopTimeout), so any other option
// given to it does not compile either. No option picks the hub: a server
// runs on the hub its Start ctx is bound to (hub.For), so
// srv.Start(hub.NewContext(ctx, h)) serves on h.
//
// # Where netpoll sits
//
// netpoll builds on package pool: a DatagramServer's handlers are a
// pool.Pool (WithMaxHandlers) or a pool.Group, and WithPool is gevent's
// StreamServer(spawn=Pool(n)). Package monkey does not import netpoll: give
// it DialContext (monkey.SetDialFunc(netpoll.DialContext)) to move a patched
// program's TCP connections through gnet's event loops.
package netpoll
