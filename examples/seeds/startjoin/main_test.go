package main

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		require.NoError(t, seed.Run(t.Context(), &out, run))
		assert.Equal(t, `main: spawning workers 1, 2 and 3
main: spawned; none has run yet: they start when main yields (its first Get)
worker 1: started, working for 10 ms
worker 2: started, working for 20 ms
worker 3: started, working for 30 ms
worker 1: done
main: joined worker-1, result 1
worker 2: done
main: joined worker-2, result 4
worker 3: done
main: joined worker-3, result 9
main: created worker-4, started: false
worker 4: started, working for 40 ms
worker 4: done
main: joined worker-4, successful: true, result 16
`, out.String())
	})
}
