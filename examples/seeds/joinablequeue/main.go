// Seed "joinable queue". The seed texts let the producer wait until every
// item was processed, instead of sending sentinels:
//
//	q = multiprocessing.JoinableQueue()    # or gevent.queue.JoinableQueue()
//	def worker(): while True: item = q.get(); work(item); q.task_done()
//	for item in items: q.put(item)
//	q.join()                               # returns when every item is done
//
// Every hub.Queue is joinable: each Put counts a task, TaskDone marks one
// done, and Join parks until none is left. Calling TaskDone once too often
// is an error (ErrTaskDone), not a silent miscount.
//
//	go run ./examples/seeds/joinablequeue
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/spawn"
)

func main() { seed.Main(run) }

func run(ctx context.Context, w io.Writer) error {
	q := hub.NewQueue[int](0)
	var workers []*spawn.Greenlet[int]
	for id := 1; id <= 3; id++ {
		workers = append(workers, spawn.Spawn(ctx, func(ctx context.Context) (int, error) {
			done := 0
			for task := range q.All(ctx) {
				fmt.Fprintf(w, "worker %d: task %d (%d ms)\n", id, task, task*10)
				if err := hub.Sleep(ctx, time.Duration(task)*10*time.Millisecond); err != nil {
					return done, err
				}
				done++
				if err := q.TaskDone(); err != nil {
					return done, err
				}
			}
			return done, nil
		}))
	}

	start := time.Now()
	for task := 1; task <= 6; task++ {
		if err := q.Put(ctx, task); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "main: put 6 tasks, waiting in q.Join")
	if err := q.Join(ctx); err != nil {
		return err
	}
	fmt.Fprintf(w, "main: every task done after %v (210 ms of work on 3 workers)\n", time.Since(start).Round(10*time.Millisecond))

	q.Shutdown() // the workers' loops end
	for i, g := range workers {
		n, err := g.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "worker %d did %d tasks\n", i+1, n)
	}
	fmt.Fprintf(w, "one TaskDone too many: %v\n", q.TaskDone())
	return nil
}
