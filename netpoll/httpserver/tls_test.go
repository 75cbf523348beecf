package httpserver_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/internal/testcert"
	"github.com/gevent-go/gevent/netpoll/httpserver"
)

// HTTPS: the handshake runs in the connection's greenlet, requests carry
// the TLS state, keep-alive works, and a client speaking plain HTTP to the
// TLS port is told so.
func TestTLS(t *testing.T) {
	ts := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || !r.TLS.HandshakeComplete {
			http.Error(w, "no TLS state", http.StatusInternalServerError)
			return
		}
		if err := hub.Yield(r.Context()); err != nil { // a greenlet, as over plain TCP
			return
		}
		fmt.Fprintf(w, "%s over TLS 1.%d", r.URL.Path, r.TLS.Version-tls.VersionTLS10)
	}), httpserver.WithTLS(testcert.Server()), httpserver.WithReadHeaderTimeout(200*time.Millisecond))
	tr := &http.Transport{TLSClientConfig: testcert.Client()}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for _, p := range []string{"/a", "/b"} {
		resp, err := client.Get("https://" + ts.Addr().String() + p)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, p+" over TLS 1.3", string(b))
		assert.Equal(t, "HTTP/1.1", resp.Proto, "HTTP/2 is not negotiated")
	}

	c := dialRaw(t, ts.Addr().String())
	c.send(t, request("GET", "/"))
	b, _ := io.ReadAll(c.r)
	assert.True(t, strings.HasPrefix(string(b), "HTTP/1.0 400 Bad Request"), "%q", b)

	// A client that never shakes hands is cut off at the header timeout.
	silent := dialRaw(t, ts.Addr().String())
	assert.True(t, silent.closedByServer(t))
}
