package hub

import (
	"context"
	"os"
	ossignal "os/signal"
	"runtime/pprof"
	"sync"

	"github.com/gevent-go/gevent/internal/sched"
)

// WaitSignal waits for one of the OS signals sigs (every signal if none is
// given, as with signal.Notify) and returns it: from a greenlet it parks
// only that greenlet, so the rest of the hub runs on until the signal comes.
// It returns ctx's cause if ctx ends first. The signals are caught (their
// default action, such as ending the process on SIGINT, suspended) from
// the call until it returns. A kill lands in it. This is what a program's
// main greenlet waits on before a graceful stop:
//
//	srv.Start(ctx)
//	hub.WaitSignal(ctx, os.Interrupt, syscall.SIGTERM)
//	srv.Stop(graceCtx)
func WaitSignal(ctx context.Context, sigs ...os.Signal) (os.Signal, error) {
	ch := make(chan os.Signal, 1)
	ossignal.Notify(ch, sigs...)
	defer ossignal.Stop(ch)
	sig, _, err := Recv(ctx, ch)
	return sig, err
}

// OnSignal is gevent's signal_handler: from now on, each time one of the
// OS signals sigs arrives (every signal if none is given), fn runs in a new
// greenlet of ctx's hub (hub.For) with ctx's values; its error, if any,
// goes to the hub's error handler. The signals are caught (their default
// action suspended) until stop is called or ctx ends. stop returns once no
// further greenlet will be started; it never blocks for long and may be
// called more than once. Signals that arrive in a burst faster than they
// are handled may be merged into one, as the OS and signal.Notify do.
func OnSignal(ctx context.Context, fn func(ctx context.Context, sig os.Signal) error, sigs ...os.Signal) (stop func()) {
	if fn == nil {
		panic("hub: OnSignal with a nil function")
	}
	h := For(ctx)
	spawnCtx := context.WithoutCancel(ctx) // handlers outlive a greenlet that asked for them
	ch := make(chan os.Signal, 8)
	quit, exited := make(chan struct{}), make(chan struct{})
	ossignal.Notify(ch, sigs...)
	// Without the caller's profiler labels, which name a hub worker when a
	// greenlet calls OnSignal (the blocking monitor finds workers by them).
	pprof.Do(context.Background(), pprof.Labels(), func(context.Context) {
		go func() {
			defer close(exited)
			defer ossignal.Stop(ch)
			for {
				select {
				case sig := <-ch:
					h.spawn(spawnCtx, sched.Task{
						Name: "signal " + sig.String(),
						Run:  func(ctx context.Context) error { return fn(ctx, sig) },
					})
				case <-quit:
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	})
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-exited // at once: the goroutine only waits in its select
	}
}
