package harness

import (
	"math"
	"slices"
)

// Stat is the median and the range of one metric over the samples kept.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// Summarize returns the median, min and max of xs. NaN values are ignored;
// an empty input gives a Stat with N == 0.
func Summarize(xs []float64) Stat {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Stat{}
	}
	slices.Sort(v)
	return Stat{Median: median(v), Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// median of sorted, non-empty v: the middle value, or the mean of the two
// middle values for an even count.
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value with at least p percent of the values at or
// below it. It returns 0 for an empty slice.
func Percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// PairRatios divides each value of xs by the reference value of the same
// pairing key (the repetition), so a ratio is only ever taken between two
// samples measured back to back. Keys missing on either side, and a zero
// reference, give no ratio.
func PairRatios(xs, ref map[int]float64) []float64 {
	var out []float64
	for k, x := range xs {
		r, ok := ref[k]
		if !ok || r == 0 || math.IsNaN(r) || math.IsNaN(x) {
			continue
		}
		out = append(out, x/r)
	}
	slices.Sort(out)
	return out
}

// Noise is the rule that flags a sample taken while the rest of the machine
// was busy.
type Noise struct {
	// MaxOtherCores is the CPU (in cores) the rest of the machine may use
	// during a sample before the sample counts as noisy.
	MaxOtherCores float64
	// MinWallSec is the shortest sample for which the figure means
	// anything: /proc/stat counts in 10 ms ticks, so a short sample's
	// "other" CPU is mostly rounding.
	MinWallSec float64
}

// DefaultNoise flags samples during which other processes used more than
// half a core, when the sample lasted at least 0.2 s.
var DefaultNoise = Noise{MaxOtherCores: 0.5, MinWallSec: 0.2}

// OtherCores is the CPU the rest of the machine used during a sample, in
// cores: busy CPU seconds on the whole machine minus what the measured
// processes used, over the wall time. Rounding can make it slightly
// negative; it is clamped at zero.
func OtherCores(machineBusySec, ownCPUSec, wallSec float64) float64 {
	if wallSec <= 0 {
		return 0
	}
	return max((machineBusySec-ownCPUSec)/wallSec, 0)
}

// Classify reports whether the figure is meaningful for a sample of wallSec
// and, if so, whether the sample is noisy.
func (n Noise) Classify(otherCores, wallSec float64) (valid, noisy bool) {
	if wallSec < n.MinWallSec {
		return false, false
	}
	return true, otherCores > n.MaxOtherCores
}
