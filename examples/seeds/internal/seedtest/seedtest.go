// Package seedtest checks the seed programs: each test runs a program's body
// as seed.Run does and compares everything it printed with the expected
// text.
package seedtest

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gevent-go/gevent/examples/seeds/internal/seed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// Main is a seed package's TestMain: it runs the tests, then fails if any
// goroutine they started is still alive.
func Main(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

// Expect runs body inside a testing/synctest bubble, so its hub runs on the
// fake clock (sleeps take no time, and timings are exact), and checks that
// it succeeds and prints exactly want.
func Expect(t *testing.T, body seed.Body, want string) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		t.Helper()
		ExpectRealTime(t, body, want)
	})
}

// ExpectRealTime is Expect on the real clock, for programs that use the
// network.
func ExpectRealTime(t *testing.T, body seed.Body, want string) {
	t.Helper()
	var out strings.Builder
	require.NoError(t, seed.Run(t.Context(), &out, body))
	assert.Equal(t, want, out.String())
}
