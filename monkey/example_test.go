package monkey_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/monkey"
	"github.com/gevent-go/gevent/spawn"
)

// Three greenlets fetch pages of a server that takes 100 ms per page. With
// HTTP patched the requests overlap, so all three are done in about 100 ms
// although the hub runs one greenlet at a time.
func ExamplePatchAll() {
	monkey.PatchAll()
	defer monkey.Unpatch(monkey.All)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // a slow page
		fmt.Fprintf(w, "page %s", r.URL.Path)
	}))
	defer srv.Close()

	start := time.Now()
	hub.Run(context.Background(), func(ctx context.Context) error {
		var pages []*spawn.Greenlet[string]
		for _, path := range []string{"/a", "/b", "/c"} {
			pages = append(pages, spawn.Spawn(ctx, func(ctx context.Context) (string, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
				if err != nil {
					return "", err
				}
				resp, err := http.DefaultClient.Do(req) // parks this greenlet only
				if err != nil {
					return "", err
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				return string(body), err
			}))
		}
		for _, g := range pages {
			body, err := g.Get(ctx)
			fmt.Println(body, err)
		}
		return nil
	})
	// One after another, the three fetches would need at least 300 ms.
	fmt.Println("overlapped:", time.Since(start) < 300*time.Millisecond)
	// Output:
	// page /a <nil>
	// page /b <nil>
	// page /c <nil>
	// overlapped: true
}
