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
		assert.Equal(t, `1. three greenlets, each hub.Sleep(50ms)
task 1: sleeping
task 2: sleeping
task 3: sleeping
task 1: awake
task 2: awake
task 3: awake
took 50ms: they slept at the same time
2. hub.Yield is gevent.sleep(0): A; yield; B in three greenlets
1A 2A 3A 1B 2B 3B 
3. three greenlets, each time.Sleep(50ms): not a cooperative point
task 1: sleeping, holding the hub
task 1: awake
task 2: sleeping, holding the hub
task 2: awake
task 3: sleeping, holding the hub
task 3: awake
took 150ms: one after the other
`, out.String())
	})
}
