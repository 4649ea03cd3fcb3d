package schema

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// DefaultBuckets are the classic latency buckets, in seconds, that every
// duration histogram has before contract-specific boundaries are added.
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Buckets returns the classic histogram boundaries for a contract: the
// defaults plus every given duration (SLO latency thresholds and endpoint
// timeouts), so that a latency SLO can always be computed from an exact
// bucket. The result is sorted and free of duplicates; durations that are
// zero or negative are ignored.
func Buckets(extra ...time.Duration) []float64 {
	b := slices.Clone(DefaultBuckets)
	for _, d := range extra {
		if d > 0 {
			b = append(b, d.Seconds())
		}
	}
	slices.Sort(b)
	return slices.Compact(b)
}

// LE formats a bucket boundary exactly as Prometheus stores the le label
// when it scrapes the sidecar (OpenMetrics exposition, which the sidecar
// serves and Prometheus prefers; Prometheus 3 normalises the classic text
// format to the same form): 0.5 → "0.5", 1 → "1.0", 10 → "10.0".
func LE(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' || s[i] == 'e' {
			return s
		}
	}
	return s + ".0"
}
