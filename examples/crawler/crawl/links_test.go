package crawl_test

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtractLinks(t *testing.T) {
	base, _ := url.Parse("http://h:8/dir/page.html")
	for _, tc := range []struct {
		name, html string
		want       []string
	}{
		{"forms", `<a href="a.html">1</a><a href="/b">2</a><a href="../c?x=1#f">3</a><a href="//o:9/d">4</a><a href="HTTPS://H/e">5</a>`,
			[]string{"http://h:8/dir/a.html", "http://h:8/b", "http://h:8/c?x=1#f", "http://o:9/d", "https://H/e"}},
		{"area and self-closing", `<map><area href="m.html"/></map><a href="n.html"/>`,
			[]string{"http://h:8/dir/m.html", "http://h:8/dir/n.html"}},
		{"whitespace and entities", "<a href=\" x.html\n\">1</a><a href=\"y.html?a=1&amp;b=2\">2</a>",
			[]string{"http://h:8/dir/x.html", "http://h:8/dir/y.html?a=1&b=2"}},
		{"first href wins", `<a href="one.html" href="two.html">x</a>`, []string{"http://h:8/dir/one.html"}},
		{"base applies to all links", `<a href="x.html">1</a><base href="/other/"><base href="/ignored/"><a href="y.html">2</a>`,
			[]string{"http://h:8/other/x.html", "http://h:8/other/y.html"}},
		{"not links", `<!-- <a href="c.html"> --><script>"<a href='s.html'>"</script><style>a{}/*<a href="t.html">*/</style>` +
			`<textarea><a href="ta.html"></textarea><title><a href="ti.html"></title><img src="i.png"><link href="l.css"><a name="n">x</a>`,
			nil},
		{"unparseable href skipped", `<a href="http://[::1">bad</a><a href="ok.html">ok</a>`, []string{"http://h:8/dir/ok.html"}},
		{"unterminated tag dropped", `<a href="in.html">x</a><a href="cut.ht`, []string{"http://h:8/dir/in.html"}},
		{"upper case and unquoted", `<A HREF=up.html>x</A>`, []string{"http://h:8/dir/up.html"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			links, err := crawl.ExtractLinks(base, strings.NewReader(tc.html))
			require.NoError(t, err)
			var got []string
			for _, l := range links {
				got = append(got, l.String())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n = 0
		return copy(p, `<a href="first.html">x</a>`), nil
	}
	return 0, errors.New("connection reset")
}

func TestExtractLinksReadError(t *testing.T) {
	base, _ := url.Parse("http://h/")
	links, err := crawl.ExtractLinks(base, &failingReader{n: 1})
	require.Error(t, err)
	assert.NotErrorIs(t, err, io.EOF)
	require.Len(t, links, 1)
	assert.Equal(t, "http://h/first.html", links[0].String())
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTP://Example.COM:80/a#frag", "http://example.com/a"},
		{"https://h:443", "https://h/"},
		{"https://h:80/", "https://h:80/"},
		{"http://[::1]:80/x?", "http://[::1]/x"},
		{"http://h/x?q=1#f", "http://h/x?q=1"},
		{"mailto:a@b", ""},
		{"javascript:void(0)", ""},
		{"ftp://h/x", ""},
		{"data:text/html,x", ""},
		{"/relative", ""},
	} {
		u, err := url.Parse(tc.in)
		require.NoError(t, err)
		n, ok := crawl.Normalize(u)
		if tc.want == "" {
			assert.False(t, ok, tc.in)
			continue
		}
		require.True(t, ok, tc.in)
		assert.Equal(t, tc.want, n.String(), tc.in)
	}
}
