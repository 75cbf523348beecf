package echocheck

import (
	"net"
	"sync"
)

// StdServer listens on a free loopback port with the standard library's net
// and runs handler for every connection, in a goroutine of its own, closing
// the connection when handler returns: a neutral server for tests and
// benchmarks. It returns the address and stop, which closes the listener
// and every connection and waits for the goroutines.
func StdServer(handler func(c net.Conn)) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handler(c)
			})
		}
	})
	return ln.Addr().String(), func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}, nil
}
