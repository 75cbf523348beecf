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
// killed Read consumed nothing, a killed Write had queued a prefix of its
// bytes (which will be sent), a killed Accept or Dial leaves no connection
// behind. The same calls made from a plain goroutine, or with a ctx that
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
// queued per connection until read. Write copies the caller's bytes: when
// nothing is queued it first tries the socket directly (as gnet's own Write
// does), and queues the rest for the connection's loop; past the write
// high-water mark (WithWriteHighWater) the writer parks until the backlog
// drains to half of it, so a fast writer to a slow peer cannot grow memory
// without bound. gnet reports no "drained" event, so while someone waits
// for the backlog the loop's buffer is sampled every 0.5 to 20 ms.
//
// # Deviations from net.Conn and the standard library
//
//   - No half-close. A peer's FIN closes the whole connection (gnet does
//     not support half-closed sockets): Read returns the bytes received,
//     then io.EOF, and Write fails with an error matching syscall.EPIPE. A
//     client that sends a request and then shuts down its write side gets
//     no reply. There is no CloseWrite. Use WithStdlib for protocols that
//     need half-close.
//   - No read back-pressure. gnet reads a socket whatever the application
//     does, so the kernel never throttles a peer that sends faster than the
//     connection is read. The inbound limit (WithInboundLimit, default 4 MiB)
//     bounds the memory instead: past it the connection is closed, its
//     buffered input dropped, and Read and Write return an error matching
//     ErrInboundOverflow. A slow reader is disconnected, not throttled.
//   - Close never blocks. It delivers the output already accepted by Write
//     in the background, for up to the linger time (WithLinger, default
//     10 s), then closes the socket; what is left then is dropped. gnet alone
//     would drop unsent output at once.
//   - Deadlines are implemented by netpoll (gnet's are stubs) and follow the
//     net.Conn contract, including a deadline moved while a Read or Write is
//     blocked; a Write deadline bounds only the wait for the backlog to
//     drain: bytes Write accepted are sent regardless.
//   - Only "tcp", "tcp4" and "tcp6".
//
// golang.org/x/net/nettest.TestConn passes on both backends; its cases that
// flood a connection nobody reads need an inbound limit above their flood
// (the tests raise it).
//
// # The stdlib backend
//
// WithStdlib moves a connection's bytes through the standard library's net
// package instead, behind the same API: each blocking call runs on the
// caller's goroutine off its run token (hub.Blocking), and the end of the
// bound ctx interrupts it through a past deadline. Half-close, back-pressure
// and lingering are then the kernel's; the inbound limit and the high-water
// mark do not apply. It is the only backend where gnet does not run
// (Windows, Plan 9, ...).
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
// every gnet connection; calls on them return ErrShutdown. It waits for the
// loops' goroutines, so programs and tests that check for leaked goroutines
// (go.uber.org/goleak) call it at the end, after stopping their servers and
// hubs. A later Listen or Dial starts the loops again.
package netpoll
