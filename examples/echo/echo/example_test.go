package echo_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gevent-go/gevent/examples/echo/echo"
)

// Start an echo server with a pool of 4 handlers, drive it with a bounded
// load, and stop it gracefully.
func ExampleStart() {
	ctx := context.Background()
	srv, err := echo.Start(ctx, echo.ServerConfig{Addr: "127.0.0.1:0", PoolSize: 4})
	if err != nil {
		panic(err)
	}
	res, err := echo.Load(ctx, echo.LoadConfig{Addr: srv.Addr().String(), Conns: 4, Size: 1024, Messages: 25, Duration: 10 * time.Second})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d messages echoed, %d mismatched, %d errors\n", res.Msgs, res.Mismatches, res.Errors)

	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	fmt.Println("stopped:", srv.Stop(stopCtx))
	// Output:
	// 100 messages echoed, 0 mismatched, 0 errors
	// stopped: <nil>
}
