package crawl

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync"

	"github.com/gevent-go/gevent/hub"
)

// The greenlet crawler's fetch. A greenlet waits for the response and reads
// the body into memory cooperatively (each read parks only the greenlet), so
// the hub's single run token is free for the other greenlets while bytes
// arrive; then the page is parsed off the token by a bounded set of
// goroutines (hub.Offload, gevent's threadpool), so parsing runs on every core while the crawl's
// bookkeeping stays on the hub, lock-free. Parsing on the token would leave
// all but one core idle on a parse-heavy site. Offload runs at most the
// hub's offload bound (GOMAXPROCS) of parses at once.
//
// Memory: the bodies buffered at once are bounded by Config.BodyMemory
// across all requests in flight. A greenlet that finds the budget spent
// stops buffering and parses the rest of its body as it streams: it never
// waits for budget, so greenlets holding part of it never wait for each
// other. What parsing holds beyond the budget (the tokenizer's buffer,
// which grows to the longest token) is bounded by the number of parses at
// once: GOMAXPROCS offloaded ones, and GOMAXPROCS streaming ones.

// chunkSize is the unit of body buffering and of the memory budget.
const chunkSize = 32 << 10

var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// chunks is a body read into memory, in pooled chunks (no copying as it
// grows).
type chunks struct {
	bufs []*[chunkSize]byte
	size int64 // bytes held
	off  int64 // bytes read back by Read
}

// Read reads the held bytes back, in order.
func (c *chunks) Read(p []byte) (int, error) {
	if c.off >= c.size {
		return 0, io.EOF
	}
	b := c.bufs[c.off/chunkSize]
	i := c.off % chunkSize
	end := min(int64(chunkSize), c.size-c.off+i)
	n := copy(p, b[i:end])
	c.off += int64(n)
	return n, nil
}

// recycle returns the chunks to the pool; c must not be used after.
func (c *chunks) recycle() {
	for _, b := range c.bufs {
		chunkPool.Put(b)
	}
	c.bufs = nil
}

// parser is the greenlet crawler's parse stage. Its budget is touched only
// by greenlets of the crawl's hub, which has one run token, so it needs no
// lock.
type parser struct {
	cfg     *Config
	streams *hub.Semaphore // streaming parses at once
	free    int64          // body bytes the budget has left, a multiple of chunkSize
}

func newParser(cfg *Config) *parser {
	return &parser{
		cfg:     cfg,
		streams: hub.NewSemaphore(runtime.GOMAXPROCS(0)),
		free:    max(cfg.BodyMemory/chunkSize, 1) * chunkSize,
	}
}

// buffer reads body into memory, up to limit bytes, while the budget
// lasts. complete reports that it holds the whole body (or limit bytes of
// it); otherwise the rest is still to be read from body. Every chunk it
// holds was taken from the budget, for the caller to give back.
func (p *parser) buffer(body io.Reader, limit int64) (c *chunks, complete bool, err error) {
	c = &chunks{}
	for c.size < limit {
		i := int(c.size % chunkSize)
		if i == 0 && int64(len(c.bufs))*chunkSize == c.size {
			if p.free < chunkSize {
				return c, false, nil // parse the rest as it streams
			}
			p.free -= chunkSize
			c.bufs = append(c.bufs, chunkPool.Get().(*[chunkSize]byte))
		}
		b := c.bufs[len(c.bufs)-1]
		n, err := body.Read(b[i:min(chunkSize, int64(i)+limit-c.size)])
		c.size += int64(n)
		if err == io.EOF {
			return c, true, nil
		}
		if err != nil {
			return c, false, err
		}
	}
	return c, true, nil
}

// parsed is what the offloaded parse gives back.
type parsed struct {
	links     []*url.URL
	truncated bool
}

// fetch fetches u from a greenlet of the crawl's hub; see the comment at
// the top of this file.
func (p *parser) fetch(ctx context.Context, client *http.Client, u *url.URL) result {
	return fetch(ctx, client, p.cfg, u, func(body io.Reader) ([]*url.URL, bool, error) { return p.parse(ctx, u, body) })
}

// parse reads a page's body into memory and parses it off the token, or,
// with the memory budget spent, parses it as it streams.
func (p *parser) parse(ctx context.Context, u *url.URL, body io.Reader) ([]*url.URL, bool, error) {
	c, complete, err := p.buffer(body, p.cfg.MaxBody+1)
	held := int64(len(c.bufs)) * chunkSize
	defer func() { p.free += held }() // the budget is hub state: give it back here, not in the parse
	if err != nil {
		c.recycle()
		return nil, false, fmt.Errorf("crawl: reading body: %w", err)
	}
	if !complete {
		// The budget is spent: parse the rest as it streams, here, holding
		// a streaming slot, so that the parses holding a tokenizer's buffer
		// stay bounded whatever the site sends. The body must be read by
		// this greenlet (it belongs to the request's ctx: read from an
		// offloaded parse, it would act on the greenlet's token if a kill
		// let the greenlet run on), so this parse is not offloaded; it
		// happens only under memory pressure.
		defer c.recycle()
		if err := p.streams.Acquire(ctx); err != nil {
			return nil, false, err
		}
		defer p.streams.Release()
		return readLinks(u, io.MultiReader(c, body), p.cfg.MaxBody)
	}
	// The whole page is in memory: parse it off the token. The parse owns
	// the chunks and recycles them (a kill makes offload return while the
	// parse may still run; chunks it never gets are left to the GC). It
	// runs under the greenlet's ctx, not the request's timeout, so a
	// timeout cannot abandon a parse that reads from memory.
	out, err := hub.Offload(ctx, func(context.Context) (parsed, error) {
		defer c.recycle()
		links, truncated, err := readLinks(u, c, p.cfg.MaxBody)
		return parsed{links: links, truncated: truncated}, err
	})
	return out.links, out.truncated, err
}
