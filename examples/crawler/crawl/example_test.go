package crawl_test

import (
	"context"
	"fmt"

	"github.com/gevent-go/gevent/examples/crawler/crawl"
	"github.com/gevent-go/gevent/examples/crawler/site"
	"github.com/gevent-go/gevent/monkey"
)

// Crawl a generated site of 100 pages with 20 greenlets.
func ExampleRun() {
	monkey.PatchAll() // first thing in main: net/http parks only the calling greenlet

	s := site.New(site.Config{Pages: 100})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer s.Close()

	cfg := crawl.DefaultConfig()
	cfg.Start = base + "/"
	cfg.Concurrency = 20
	sum, err := crawl.Run(context.Background(), cfg)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d pages, %d non-HTML, %d redirects, %d errors, %d truncated\n",
		sum.Pages, sum.Files, sum.Redirects, sum.Errors, len(sum.Truncated))
	fmt.Println("errors by kind:", sum.ErrorsByKind)
	// Output:
	// 127 pages, 4 non-HTML, 16 redirects, 7 errors, 0 truncated
	// errors by kind: map[not_found:3 redirect_loop:2 server_error:1 too_many_redirects:1]
}
