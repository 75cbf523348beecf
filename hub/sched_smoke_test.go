package hub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSmokeOrder(t *testing.T) {
	h := MustNew()
	defer h.Stop(context.Background())
	var log []string
	err := h.Run(context.Background(), func(ctx context.Context) error {
		for i := 1; i <= 2; i++ {
			h.Spawn(ctx, Task{Run: func(ctx context.Context) error {
				log = append(log, fmt.Sprint(i, "A"))
				Yield(ctx)
				log = append(log, fmt.Sprint(i, "B"))
				return nil
			}})
		}
		log = append(log, "main")
		Sleep(ctx, time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Wait(context.Background())
	if got := strings.Join(log, " "); got != "main 1A 2A 1B 2B" {
		t.Fatal(got)
	}
}

func TestSmokeMany(t *testing.T) {
	h := MustNew()
	defer h.Stop(context.Background())
	var wg sync.WaitGroup
	n := 0
	for i := 0; i < 10000; i++ {
		wg.Add(1)
		h.Spawn(context.Background(), Task{Run: func(ctx context.Context) error {
			n++
			if i%3 == 0 {
				Sleep(ctx, time.Millisecond)
			}
			n++
			return nil
		}, Done: func(context.Context, Outcome) { wg.Done() }})
	}
	wg.Wait()
	h.Wait(context.Background())
	if n != 20000 {
		t.Fatal(n)
	}
}
