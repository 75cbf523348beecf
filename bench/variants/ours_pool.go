package variants

import (
	"context"
	"errors"

	"github.com/gevent-go/gevent/bench/harness"
	"github.com/gevent-go/gevent/hub"
	"github.com/gevent-go/gevent/pool"
)

func init() {
	oursMicro("pool_map", "gevent_go_pool_map", "pool.New(100), pool.Map over N items (ordered)", func(b *harness.B) error {
		in := make([]int, b.N)
		for i := range in {
			in[i] = i
		}
		var out []int
		err := withHub(b, nil, func(ctx context.Context, h *hub.Hub) error {
			var err error
			out, err = pool.Map(ctx, pool.New(mapConc), in, func(_ context.Context, i int) (int, error) { return mapFn(i), nil })
			return err
		})
		if len(out) != b.N {
			return errors.Join(err, errors.New("pool_map: wrong result count"))
		}
		return errors.Join(err, checkMapped(out))
	})
}
