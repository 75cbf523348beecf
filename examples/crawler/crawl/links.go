package crawl

import (
	"errors"
	"io"
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// ExtractLinks returns the links of an HTML document read from r, resolved
// against base: every <a href> and <area href> (the first href of a tag), in
// document order, with a <base href> honoured. It uses the HTML5 tokenizer of
// golang.org/x/net/html, so markup inside comments, scripts, styles and
// textareas is text, not links, and malformed markup is read the way a
// browser reads it. Hrefs that do not parse as URLs are skipped. An error is
// returned only if reading r fails; the links found before it come with it.
func ExtractLinks(base *url.URL, r io.Reader) ([]*url.URL, error) {
	var hrefs []string
	baseHref := ""
	z := html.NewTokenizer(r)
	for {
		switch z.Next() {
		case html.ErrorToken:
			err := z.Err()
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return resolve(base, baseHref, hrefs), err
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if !hasAttr {
				continue
			}
			tag := string(name)
			if tag != "a" && tag != "area" && tag != "base" {
				continue
			}
			href, ok := firstHref(z)
			switch {
			case !ok:
			case tag == "base":
				if baseHref == "" { // only the first <base href> counts
					baseHref = href
				}
			default:
				hrefs = append(hrefs, href)
			}
		}
	}
}

func firstHref(z *html.Tokenizer) (string, bool) {
	for {
		k, v, more := z.TagAttr()
		if string(k) == "href" {
			return strings.TrimSpace(string(v)), true
		}
		if !more {
			return "", false
		}
	}
}

// resolve resolves hrefs against the document's base URL, which a <base
// href> anywhere in the document sets for all of them.
func resolve(doc *url.URL, baseHref string, hrefs []string) []*url.URL {
	base := doc
	if baseHref != "" {
		if b, err := url.Parse(baseHref); err == nil {
			base = doc.ResolveReference(b)
		}
	}
	out := make([]*url.URL, 0, len(hrefs))
	for _, h := range hrefs {
		ref, err := url.Parse(h)
		if err != nil {
			continue
		}
		out = append(out, base.ResolveReference(ref))
	}
	return out
}

// Normalize returns the canonical form of an absolute http or https URL, the
// key under which a crawl remembers it: scheme and host lower-cased, the
// default port dropped, an empty path made "/", a lone "?" and the fragment
// dropped. It reports false for any other URL (mailto:, javascript:, ftp:,
// data:, a URL without a host).
func Normalize(u *url.URL) (*url.URL, bool) {
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, false
	}
	n := *u
	n.Scheme = scheme
	n.Host = strings.ToLower(u.Host)
	if host, port, err := net.SplitHostPort(n.Host); err == nil &&
		(scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		n.Host = host
		if strings.Contains(host, ":") {
			n.Host = "[" + host + "]"
		}
	}
	if n.Path == "" && n.RawPath == "" {
		n.Path = "/"
	}
	n.Fragment, n.RawFragment = "", ""
	if n.RawQuery == "" {
		n.ForceQuery = false
	}
	return &n, true
}
