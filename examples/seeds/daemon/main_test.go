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
		assert.Equal(t, `main: joining the worker only
worker: working for 50 ms
daemon: heartbeat 1
daemon: heartbeat 2
worker: done
main: worker joined; returning without waiting for the daemon
daemon: killed at exit; its deferred cleanup ran
`, out.String())
	})
}
