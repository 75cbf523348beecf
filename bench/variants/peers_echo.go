package variants

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/panjf2000/gnet/v2"
)

// Go echo servers: gnet's own event loops (the reference) and the standard
// library's goroutine per connection.
func init() {
	Reg.Add(harness.Variant{Workload: "echo", Name: "gnet", Lang: harness.LangGo,
		Desc: "gnet v2 echo in OnTraffic, multicore (one event loop per CPU)", Server: gnetEcho})
	Reg.Add(harness.Variant{Workload: "echo", Name: "stdnet", Lang: harness.LangGo,
		Desc: "net.Listen, one goroutine per connection, read/write loop", Server: stdEcho})
}

type gnetEchoHandler struct {
	gnet.BuiltinEventEngine
	eng gnet.Engine
	up  chan struct{}
}

func (e *gnetEchoHandler) OnBoot(eng gnet.Engine) gnet.Action {
	e.eng = eng
	close(e.up)
	return gnet.None
}

func (e *gnetEchoHandler) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	// Write copies what the kernel does not take at once into the
	// connection's outbound buffer, so the aliased read buffer is safe here.
	c.Write(buf)
	return gnet.None
}

func gnetEcho(ctx context.Context, addr string) error {
	h := &gnetEchoHandler{up: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- gnet.Run(h, "tcp://"+addr, gnet.WithMulticore(true)) }()
	select {
	case err := <-done:
		return err
	case <-h.up:
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return h.eng.Stop(context.Background())
	}
}

func stdEcho(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Go(func() {
			defer c.Close()
			echoLoop(c)
		})
	}
}

// echoLoop writes back what it reads from c until either fails: the
// handler of the Go echo servers that read and write themselves (stdnet and
// ours), so that they differ only in what moves the bytes. (Not io.Copy: it
// would hand a net.Conn to the kernel's splice, a different server.)
func echoLoop(c io.ReadWriter) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
