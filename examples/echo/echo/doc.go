// Package echo is the echo example's engine: an echo server on netpoll's
// StreamServer (a greenlet per connection, gevent's StreamServer) and a load
// client that drives any echo server and verifies every echoed byte.
package echo
