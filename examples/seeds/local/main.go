// Seed "local". The seed texts give each thread its own student with
// threading.local:
//
//	local_school = threading.local()
//	def process_student():
//	    print('Hello, %s (in %s)' % (local_school.student, threading.current_thread().name))
//	def process_thread(name):
//	    local_school.student = name
//	    process_student()
//	Thread(target=process_thread, args=('Alice',), name='Thread-A').start()
//	Thread(target=process_thread, args=('Bob',), name='Thread-B').start()
//
// local.Local[T] is threading.local and gevent.local for greenlets: one
// variable, a value per greenlet, found through the greenlet's ctx. Each
// greenlet yields between setting and reading its student, so the other has
// set its own meanwhile: neither sees the other's. Two things go beyond
// gevent: Init gives each greenlet a first value, and Inherit copies the
// spawner's value into the greenlets it spawns.
//
//	go run ./examples/seeds/local
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/local"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

var (
	student   local.Local[string]
	classroom = local.Local[string]{Init: func(context.Context) string { return "no classroom yet" }}
	school    = local.Local[string]{Inherit: true}
)

func processStudent(ctx context.Context, w io.Writer) {
	fmt.Fprintf(w, "Hello, %s (in %s, %s)\n", student.Get(ctx), hub.Current(ctx).Name(), classroom.Get(ctx))
}

func run(ctx context.Context, w io.Writer) error {
	var gs []*spawn.Greenlet[struct{}]
	for _, s := range []struct{ name, greenlet string }{{"Alice", "Greenlet-A"}, {"Bob", "Greenlet-B"}} {
		gs = append(gs, spawn.Go(ctx, func(ctx context.Context) error {
			student.Set(ctx, s.name)
			if err := hub.Yield(ctx); err != nil { // let the other set its student
				return err
			}
			processStudent(ctx, w)
			classroom.Set(ctx, "room 101")
			processStudent(ctx, w)
			return nil
		}, spawn.WithName(s.greenlet)))
	}
	if _, err := spawn.JoinAll(ctx, gs, spawn.RaiseError()); err != nil {
		return err
	}
	fmt.Fprintf(w, "main greenlet's own student: %q\n", student.Get(ctx))

	school.Set(ctx, "Greenlet High")
	student.Set(ctx, "Carol")
	child := spawn.Go(ctx, func(ctx context.Context) error {
		fmt.Fprintf(w, "child: school %q (inherited), student %q (not inherited)\n", school.Get(ctx), student.Get(ctx))
		return nil
	})
	return child.Join(ctx)
}
