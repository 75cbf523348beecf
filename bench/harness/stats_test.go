package harness

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		in   []float64
		want Stat
	}{
		{nil, Stat{}},
		{[]float64{5}, Stat{Median: 5, Min: 5, Max: 5, N: 1}},
		{[]float64{3, 1, 2}, Stat{Median: 2, Min: 1, Max: 3, N: 3}},
		{[]float64{4, 1, 3, 2}, Stat{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{[]float64{math.NaN(), 7, 9}, Stat{Median: 8, Min: 7, Max: 9, N: 2}},
	}
	for _, c := range cases {
		if got := Summarize(c.in); got != c.want {
			t.Errorf("Summarize(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Fatalf("input reordered: %v", in)
	}
}

func TestPercentile(t *testing.T) {
	v := []int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, c := range []struct {
		p    float64
		want int64
	}{{50, 50}, {99, 100}, {10, 10}, {11, 20}, {100, 100}, {0.1, 10}} {
		if got := Percentile(v, c.p); got != c.want {
			t.Errorf("Percentile(%v) = %d, want %d", c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %d", got)
	}
}

func TestPairRatiosPairsByRep(t *testing.T) {
	xs := map[int]float64{0: 10, 1: 30, 2: 50, 3: 8}
	ref := map[int]float64{0: 5, 1: 10, 3: 0, 4: 1}
	got := PairRatios(xs, ref)
	// rep 2 has no reference, rep 3 a zero one, rep 4 no value.
	want := []float64{2, 3}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("PairRatios = %v, want %v", got, want)
	}
	// The median of per-pair ratios differs from the ratio of medians when
	// the pairs move together: that is the point of pairing.
	a := map[int]float64{0: 100, 1: 200, 2: 400}
	b := map[int]float64{0: 50, 1: 100, 2: 200}
	if s := Summarize(PairRatios(a, b)); s.Median != 2 || s.Min != 2 || s.Max != 2 {
		t.Fatalf("paired ratios %+v, want all 2", s)
	}
}

func TestOtherCoresAndNoise(t *testing.T) {
	if got := OtherCores(3, 1, 2); got != 1 {
		t.Errorf("OtherCores = %v, want 1", got)
	}
	if got := OtherCores(1, 1.2, 1); got != 0 {
		t.Errorf("OtherCores clamps negative rounding to 0, got %v", got)
	}
	if got := OtherCores(1, 0, 0); got != 0 {
		t.Errorf("OtherCores with no wall time = %v", got)
	}
	n := Noise{MaxOtherCores: 0.5, MinWallSec: 0.2}
	for _, c := range []struct {
		other, wall  float64
		valid, noisy bool
	}{
		{0.6, 1, true, true},
		{0.5, 1, true, false},
		{0.1, 1, true, false},
		{5, 0.1, false, false}, // too short to mean anything
	} {
		valid, noisy := n.Classify(c.other, c.wall)
		if valid != c.valid || noisy != c.noisy {
			t.Errorf("Classify(%v, %v) = %v, %v; want %v, %v", c.other, c.wall, valid, noisy, c.valid, c.noisy)
		}
	}
}
