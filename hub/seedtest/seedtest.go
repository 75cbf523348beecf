// Package seedtest explores the interleavings of greenlets from seeds, and
// replays the one that broke a test: it runs a test body under many
// seeded schedules (hub.WithSeed), each in a testing/synctest bubble, stops
// at the first failure, and reports the seed that reproduces it with the
// schedule that led there.
//
//	func TestTransfer(t *testing.T) {
//		seedtest.Run(t, 200, func(ctx context.Context) error {
//			// spawn greenlets with ctx, wait for them, check: return an
//			// error if something is wrong
//		})
//	}
//
// A failure reads, in part:
//
//	seed 17 failed; replay it with
//		go test -run '^TestTransfer$' -args -gevent.seed=17
//	or GEVENT_SEED=17 go test -run '^TestTransfer$'
//	schedule (last 20 of 57 switches):
//		g1 -[yield]-> g2(withdraw)
//		...
//
// Given -gevent.seed or GEVENT_SEED, Run runs that seed alone. The schedule
// is a pure function of the seed when the body keeps its work in greenlets
// of the hub it is given (see hub.WithSeed).
package seedtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gevent-go/gevent/hub"
)

var seedFlag = flag.String("gevent.seed", "", "run seedtest.Run under this seed only (also: the GEVENT_SEED environment variable)")

// EnvSeed is the environment variable that, like -gevent.seed, makes Run
// replay one seed.
const EnvSeed = "GEVENT_SEED"

// TraceShown is how many of the failing schedule's last switches Report
// shows.
const TraceShown = 40

// Result is the outcome of an exploration: the first seed whose run
// failed (0 if none did), its error and its schedule, and how many seeds
// were tried.
type Result struct {
	Seed  uint64
	Err   error
	Trace []hub.Switch
	Tried int
}

// Explore runs body under the seeds 1..seeds in turn (or only the seed
// given by -gevent.seed or GEVENT_SEED), each as the main greenlet of a
// fresh seeded hub created inside its own testing/synctest bubble, so
// sleeps and timeouts run on a fake clock (and a wait that can never end
// shows as a timeout of the body's own, or as synctest's deadlock
// failure). It stops at the first seed for which body returns an error and
// returns that seed, the error and the schedule (hub.Hub.Trace) that led
// there. opts are added to every hub, after hub.WithMonitor(0, nil): a
// monitor's ticker would keep a deadlocked bubble's fake clock running.
// Explore itself never fails t; see Run.
func Explore(t *testing.T, seeds int, body func(ctx context.Context) error, opts ...hub.Option) Result {
	t.Helper()
	list, err := seedList(seeds)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]hub.Option{hub.WithMonitor(0, nil)}, opts...)
	var r Result
	for _, seed := range list {
		r.Tried++
		synctest.Test(t, func(t *testing.T) {
			h := hub.MustNew(append(opts, hub.WithSeed(seed))...)
			err := h.Run(context.Background(), body)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if serr := h.Stop(ctx); serr != nil {
				err = errors.Join(err, serr)
			}
			if err != nil {
				r.Seed, r.Err, r.Trace = seed, err, h.Trace()
			}
		})
		if r.Err != nil {
			return r
		}
	}
	return r
}

// Run is Explore, and fails t at the first failing seed, logging its error
// and how to replay it with the schedule that led there (see Report).
func Run(t *testing.T, seeds int, body func(ctx context.Context) error, opts ...hub.Option) Result {
	t.Helper()
	r := Explore(t, seeds, body, opts...)
	if r.Err != nil {
		t.Errorf("%v\n%s", r.Err, Report(t.Name(), r.Seed, r.Trace))
	}
	return r
}

// seedList is the seeds to run: the one given by flag or environment, or
// 1..n.
func seedList(n int) ([]uint64, error) {
	given := *seedFlag
	if given == "" {
		given = os.Getenv(EnvSeed)
	}
	if given != "" {
		s, err := strconv.ParseUint(given, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seedtest: seed %q: %w", given, err)
		}
		return []uint64{s}, nil
	}
	if n < 1 {
		return nil, fmt.Errorf("seedtest: %d seeds: want at least 1", n)
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds, nil
}

// Report is what Run logs for a failing seed: how to replay it, and the
// last TraceShown switches of its schedule.
func Report(test string, seed uint64, trace []hub.Switch) string {
	var b strings.Builder
	run := "^" + strings.SplitN(test, "/", 2)[0] + "$"
	fmt.Fprintf(&b, "seed %d failed; replay it with\n\tgo test -run '%s' -args -gevent.seed=%d\nor\t%s=%d go test -run '%s'\n",
		seed, run, seed, EnvSeed, seed, run)
	shown := trace
	if len(shown) > TraceShown {
		shown = shown[len(shown)-TraceShown:]
	}
	fmt.Fprintf(&b, "schedule (last %d of %d switches):\n", len(shown), len(trace))
	for _, s := range shown {
		fmt.Fprintf(&b, "\t%s\n", s)
	}
	return b.String()
}
