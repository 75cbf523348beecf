package site

import (
	"fmt"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// The realistic mode (Config.Realistic): pages shaped like a real
// documentation site's (Sphinx or godoc output), so that a crawl of it is
// parse-heavy the way a real one is. Page sizes follow a log-normal spread
// with a median of RealisticMedianSize, from a few KiB to several hundred;
// every 50th page is a table of contents with hundreds of links (but none
// to every tenth page, page 7, 17, ...); every 200th page, from page 125
// on, is a general index of 1.1 to 2.6 MiB with links to any page from
// start to end, past a 1 MiB body limit. The root links to both kinds. Every page has a
// sidebar of links to the tables of contents, in-page anchors, and markup
// as dense as generated documentation (spans in code blocks, definition
// lists, inline code).

// Shape of the realistic mode.
const (
	DefaultRealisticPages = 600
	RealisticMedianSize   = 30 << 10
	realisticSigma        = 0.9 // of the log-normal page size
	realisticMinSize      = 3 << 10
	realisticMaxSize      = 700 << 10
	tocEvery              = 50  // pages i with i%tocEvery == 0 are tables of contents
	indexEvery            = 200 // pages i with i%indexEvery == indexAt are general indexes
	indexAt               = 125
	sidebarLinks          = 40
)

// realPage is what a realistic page is made of; rendering it again gives
// the same bytes (it carries its own seed).
type realPage struct {
	seed  uint64
	title string
	side  []link // sidebar links, first in the page
	body  []link // links spread through the content, in order
	size  int    // bytes of content to write, roughly
}

// blocks are snippets of generated documentation markup, chosen from at
// random to fill pages. They hold no links a crawler follows.
var blocks = makeBlocks()

func makeBlocks() [][]byte {
	r := rand.New(rand.NewPCG(7, 7))
	word := func() string { return words[r.IntN(len(words))] }
	sentence := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = word()
		}
		return strings.Join(ws, " ")
	}
	var out [][]byte
	for k := range 48 {
		var b strings.Builder
		switch k % 4 {
		case 0: // prose with inline code and emphasis
			b.WriteString("<p>")
			for range 6 + r.IntN(6) {
				fmt.Fprintf(&b, "%s <code class=\"docutils literal notranslate\"><span class=\"pre\">%s.%s()</span></code> %s <em>%s</em>, ",
					sentence(8+r.IntN(8)), word(), word(), sentence(4), word())
			}
			b.WriteString("</p>\n")
		case 1: // a highlighted code block: a span per token
			b.WriteString("<div class=\"highlight-python notranslate\"><div class=\"highlight\"><pre><span></span>")
			for range 8 + r.IntN(10) {
				fmt.Fprintf(&b, "<span class=\"kn\">from</span> <span class=\"nn\">%s</span> <span class=\"kn\">import</span> <span class=\"n\">%s</span>"+
					"<span class=\"p\">(</span><span class=\"s2\">&quot;%s&quot;</span><span class=\"p\">,</span> <span class=\"mi\">%d</span><span class=\"p\">)</span>\n",
					word(), word(), word(), r.IntN(1000))
			}
			b.WriteString("</pre></div></div>\n")
		case 2: // an API entry
			name := word() + "_" + word()
			fmt.Fprintf(&b, "<dl class=\"py function\"><dt class=\"sig sig-object py\" id=\"%s\"><span class=\"sig-name descname\"><span class=\"pre\">%s</span></span>"+
				"<span class=\"sig-paren\">(</span><em class=\"sig-param\"><span class=\"n\"><span class=\"pre\">%s</span></span></em>, "+
				"<em class=\"sig-param\"><span class=\"n\"><span class=\"pre\">%s</span></span><span class=\"o\"><span class=\"pre\">=</span></span>"+
				"<span class=\"default_value\"><span class=\"pre\">None</span></span></em><span class=\"sig-paren\">)</span>"+
				"<a class=\"headerlink\" href=\"#%s\" title=\"Link to this definition\">¶</a></dt>\n<dd><p>%s</p>\n<ul class=\"simple\">",
				name, name, word(), word(), name, sentence(30+r.IntN(30)))
			for range 3 + r.IntN(4) {
				fmt.Fprintf(&b, "<li><p><strong>%s</strong> (<em>%s</em>) – %s</p></li>\n", word(), word(), sentence(12))
			}
			b.WriteString("</ul></dd></dl>\n")
		case 3: // a table
			b.WriteString("<table class=\"docutils align-default\"><tbody>\n")
			for range 4 + r.IntN(6) {
				fmt.Fprintf(&b, "<tr class=\"row-odd\"><td><p><code class=\"xref py py-obj docutils literal notranslate\"><span class=\"pre\">%s</span></code></p></td><td><p>%s</p></td></tr>\n",
					word(), sentence(10+r.IntN(10)))
			}
			b.WriteString("</tbody></table>\n")
		}
		out = append(out, []byte(b.String()))
	}
	return out
}

// realisticPage is page i of a realistic site of n pages.
func (s *Site) realisticPage(i int) node {
	n := s.cfg.Pages
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)))
	p := &realPage{seed: r.Uint64(), title: "page " + strconv.Itoa(i)}
	for k := range min(sidebarLinks, (n+tocEvery-1)/tocEvery) {
		p.side = append(p.side, realLink(r, i, k*tocEvery))
	}
	content := 5 + r.IntN(25)
	p.size = int(math.Exp(math.Log(RealisticMedianSize) + realisticSigma*r.NormFloat64()))
	p.size = min(max(p.size, realisticMinSize), realisticMaxSize)
	index := i%indexEvery == indexAt
	switch {
	case index:
		p.title = "general index " + strconv.Itoa(i)
		p.size = 1100<<10 + r.IntN(1500<<10)
		content = 1200 + r.IntN(800)
	case i%tocEvery == 0:
		p.title = "contents " + strconv.Itoa(i)
		content = 200 + r.IntN(300)
	}
	if i+1 < n {
		p.body = append(p.body, realLink(r, i, i+1))
	}
	targets := make([]int, content)
	for j := range targets {
		targets[j] = r.IntN(n)
		for !index && i%tocEvery == 0 && targets[j]%10 == 7 {
			targets[j] = r.IntN(n) // tables of contents leave out every tenth page
		}
	}
	if index {
		slices.Sort(targets) // an index is in order: page k's entries come at k/n of the way
	}
	for _, k := range targets {
		p.body = append(p.body, realLink(r, i, k))
	}
	return node{status: 200, ctype: htmlType, title: p.title, real: p, links: append(append([]link{}, p.side...), p.body...)}
}

// realisticIndex is the root page of a realistic site: the tables of
// contents, from page 0 on, and the general indexes (and the special cases
// unless the site is clean).
func (s *Site) realisticIndex() node {
	p := &realPage{seed: s.cfg.Seed, title: "gevent-go crawler test site (realistic)", size: RealisticMedianSize}
	for k := 0; k < s.cfg.Pages; k += tocEvery {
		p.body = append(p.body, link{href: pagePath(k), target: pagePath(k)})
	}
	for k := indexAt; k < s.cfg.Pages; k += indexEvery {
		p.body = append(p.body, link{href: pagePath(k), target: pagePath(k)})
	}
	if !s.cfg.Clean {
		p.body = append(p.body, link{href: "special/index.html", target: "/special/index.html"})
	}
	return node{status: 200, ctype: htmlType, title: p.title, real: p, links: p.body}
}

// realLink links from page i (under /p/) to page k in one of the forms
// generated documentation uses; some point at an anchor of the page, and
// a link to the page itself is an in-page anchor.
func realLink(r *rand.Rand, i, k int) link {
	p := pagePath(k)
	if k == i {
		return link{href: "#section-" + strconv.Itoa(r.IntN(9)), target: p}
	}
	base := strconv.Itoa(k) + ".html"
	forms := []string{base, base, "./" + base, "../p/" + base, p, base + "#module-" + strconv.Itoa(r.IntN(50))}
	return link{href: forms[r.IntN(len(forms))], target: p}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += n
	return n, err
}

// render writes the page and returns, for each of its links in the order of
// n.links, the offset just past the end of its <a ...> start tag: a
// crawler reading only the first m bytes sees the links whose offset is at
// most m.
func (p *realPage) render(w io.Writer) ([]int, error) {
	cw := &countingWriter{w: w}
	r := rand.New(rand.NewPCG(p.seed, 1))
	ends := make([]int, 0, len(p.side)+len(p.body))
	t := html.EscapeString(p.title)
	fmt.Fprintf(cw, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>"+
		"<link rel=\"stylesheet\" href=\"/_static/pygments.css\"><script src=\"/_static/doctools.js\"></script></head>\n"+
		"<body><div class=\"sphinxsidebar\" role=\"navigation\"><ul>\n", t)
	for j, l := range p.side {
		fmt.Fprintf(cw, "<li class=\"toctree-l1\"><a class=\"reference internal\" href=\"%s\">", html.EscapeString(l.href))
		ends = append(ends, cw.n)
		fmt.Fprintf(cw, "contents %d</a></li>\n", j)
	}
	fmt.Fprintf(cw, "</ul></div>\n<div class=\"body\" role=\"main\"><section id=\"top\"><h1>%s</h1>\n", t)
	start := cw.n
	for j, l := range p.body {
		// Spread the links evenly through the content.
		for cw.n-start < p.size*j/len(p.body) {
			cw.Write(blocks[r.IntN(len(blocks))])
		}
		fmt.Fprintf(cw, "<p>See <a class=\"reference internal\" href=\"%s\">", html.EscapeString(l.href))
		ends = append(ends, cw.n)
		fmt.Fprintf(cw, "<span class=\"doc\">%s</span></a>.</p>\n", l.target)
	}
	for cw.n-start < p.size {
		cw.Write(blocks[r.IntN(len(blocks))])
	}
	_, err := io.WriteString(cw, "</section></div></body></html>\n")
	return ends, err
}
