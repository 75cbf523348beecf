package netpoll

import (
	"context"
	"crypto/tls"
	"net"
)

// DialTLS dials addr with Dial and runs a TLS client handshake over the
// connection with cfg (crypto/tls over a netpoll Conn), returning the
// *tls.Conn once the handshake is done. The handshake's reads and writes
// park only the calling greenlet; ctx bounds the whole call (a kill lands
// here, and no connection is left behind). As with tls.Dial, an empty
// cfg.ServerName is taken from addr's host. The returned connection's
// blocking calls wait with ctx: it belongs to the greenlet of ctx (see
// Conn). A nil cfg is the zero config.
//
// On the server side, wrap a StreamServer handler's Conn the same way:
// tls.Server(c, cfg), then HandshakeContext(ctx) (see the package doc).
func DialTLS(ctx context.Context, network, addr string, cfg *tls.Config, opts ...Option) (*tls.Conn, error) {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	c, err := Dial(ctx, network, addr, opts...)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, cfg)
	ok := false
	defer func() {
		if !ok {
			_ = c.Close() // a failed handshake, or a kill landing in it
		}
	}()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	ok = true
	return tc, nil
}
