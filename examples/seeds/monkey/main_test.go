package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/gevent-go/gevent/examples/seeds/internal/seedtest"
	"github.com/gevent-go/gevent/monkey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	monkey.PatchAll() // as main does
	seedtest.Main(m)
}

// The seed uses real sockets, so it runs on the real clock: the durations
// it prints vary, and are checked apart from the text.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, seed.Run(t.Context(), &out, run))
	took := regexp.MustCompile(`took (\S+):`)
	var d []time.Duration
	for _, m := range took.FindAllStringSubmatch(out.String(), -1) {
		v, err := time.ParseDuration(m[1])
		require.NoError(t, err)
		d = append(d, v)
	}
	assert.Equal(t, `patched:   10 URLs through a pool of 5 took <d>: the 50 ms waits overlap
first and last bodies: "page /1", "page /10"
unpatched: the same took <d>: each request held the hub, one at a time
`, took.ReplaceAllString(out.String(), "took <d>:"))
	require.Len(t, d, 2)
	assert.GreaterOrEqual(t, d[0], 100*time.Millisecond-10*time.Millisecond, "two rounds of 50 ms at least")
	assert.GreaterOrEqual(t, d[1], 500*time.Millisecond-10*time.Millisecond, "ten requests one after another")
	assert.Greater(t, d[1], 2*d[0], "patched, the pool's fetches overlap")
	assert.True(t, monkey.IsPatched(monkey.All), "the seed patches again after its unpatched run")
}
