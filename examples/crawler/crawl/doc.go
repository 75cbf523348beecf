// Package crawl is the crawler example's engine: a concurrent web crawler
// written the way a gevent user writes one (Run: a pool.Pool of greenlets
// fed by a joinable hub.Queue, net/http made cooperative by monkey, parsing
// offloaded as to gevent's threadpool), and the same
// crawler written the way plain Go does it (RunPlain: a goroutine per URL, a
// semaphore, a mutex), the baseline it is measured against.
//
// Both fetch every URL they find on the start host exactly once, with
// net/http, and parse HTML with the HTML5 tokenizer of golang.org/x/net/html.
// They resolve relative links (a <base href> included), drop fragments,
// follow only http and https links (on the start host unless SameHost is
// off), skip the bodies of non-HTML responses, follow redirects themselves
// (so a redirect to a page already fetched costs no second fetch, and a
// redirect loop is reported as an error, ErrRedirectLoop), count failures
// by kind (KindNotFound, KindTimeout, ...) without stopping, cut bodies past
// MaxBody and report them, and stop promptly when their ctx ends, still
// returning the summary of what was done.
//
// Run parses off its hub's run token, at most GOMAXPROCS pages at once, so
// a parse-heavy site keeps every core busy while the crawl's bookkeeping
// stays on the hub without a lock. Both are bounded against hostile sites:
// a response header is at most MaxHeaderBytes (256 KiB by default, not
// net/http's 10 MB), and Run holds at most BodyMemory bytes of bodies at
// once across all requests in flight (RunPlain parses as it reads and holds
// none).
//
// MaxDepth counts links from the start URL by the shortest way found: when a
// crawl finds a shorter way to a URL it already fetched, the URLs behind it
// that the shorter way brings within MaxDepth are fetched too, so the set of
// URLs fetched does not depend on the order in which responses arrive.
package crawl
