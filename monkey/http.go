package monkey

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Do sends req with http.DefaultClient's settings (redirect policy, cookie
// jar, timeout) through a cooperative transport (WrapTransport of the
// client's transport), whether or not HTTP is patched: the greenlet carried
// by req's context parks while the request is in flight and while it reads
// the body. The client's CheckRedirect and Jar run on the greenlet's token,
// as they would unpatched. Outside a greenlet it is http.DefaultClient.Do.
// A kill of the greenlet cancels the request and lands when Do returns.
func Do(req *http.Request) (*http.Response, error) {
	c := *http.DefaultClient
	c.Transport = WrapTransport(c.Transport)
	return c.Do(req)
}

// Get is the cooperative http.Get: a GET of url with ctx, sent by Do, so it
// parks the calling greenlet while the request is in flight, and a kill
// cancels the request and lands here. http.Get itself takes no context, so
// a patch cannot tell which greenlet calls it (see the package doc).
func Get(ctx context.Context, url string) (*http.Response, error) {
	return send(ctx, http.MethodGet, url, "", nil)
}

// Head is the cooperative http.Head: a HEAD of url with ctx, sent by Do
// (blocking and kill as for Get).
func Head(ctx context.Context, url string) (*http.Response, error) {
	return send(ctx, http.MethodHead, url, "", nil)
}

// Post is the cooperative http.Post: a POST of body to url with ctx and the
// given Content-Type, sent by Do (blocking and kill as for Get). body is read
// by the transport's goroutine, off the run token; if it is an io.Closer, it
// is closed after the request, as with http.Post.
func Post(ctx context.Context, url, contentType string, body io.Reader) (*http.Response, error) {
	return send(ctx, http.MethodPost, url, contentType, body)
}

// PostForm is the cooperative http.PostForm: a POST of data, URL-encoded,
// to url with ctx, sent by Do (blocking and kill as for Get).
func PostForm(ctx context.Context, url string, data url.Values) (*http.Response, error) {
	return Post(ctx, url, "application/x-www-form-urlencoded", strings.NewReader(data.Encode()))
}

func send(ctx context.Context, method, url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return Do(req)
}
