package canary

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// floats splits fuzz bytes into two samples of float64 (8 bytes each);
// the first byte says how many values go to the first sample.
func floats(b []byte) ([]float64, []float64) {
	if len(b) == 0 {
		return nil, nil
	}
	n := int(b[0])
	var all []float64
	for b = b[1:]; len(b) >= 8; b = b[8:] {
		all = append(all, math.Float64frombits(binary.LittleEndian.Uint64(b)))
	}
	n = min(n, len(all))
	return all[:n], all[n:]
}

func seed(x, y []float64) []byte {
	b := []byte{byte(len(x))}
	for _, v := range append(slices.Clone(x), y...) {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// FuzzMannWhitney: finite samples give an interval and an estimate
// inside [min x − max y, max x − min y], or ErrAllTied; never a panic.
func FuzzMannWhitney(f *testing.F) {
	f.Add(seed([]float64{10, 20, 30, 40}, []float64{1, 2, 3, 4}))
	f.Add(seed(tieOutExperiment[:20], tieOutControl[:20]))
	f.Add(seed([]float64{1, 1}, []float64{1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, y := floats(b)
		unusable := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e150 }
		x, y = slices.DeleteFunc(x, unusable), slices.DeleteFunc(y, unusable)
		if len(x) == 0 || len(y) == 0 {
			_, err := MannWhitney(x, y, 0.98)
			require.Error(t, err)
			return
		}
		r, err := MannWhitney(x, y, 0.98)
		if err != nil {
			require.ErrorIs(t, err, ErrAllTied)
			return
		}
		lo, hi := slices.Min(x)-slices.Max(y), slices.Max(x)-slices.Min(y)
		for _, v := range []float64{r.Lower, r.Upper, r.Estimate} {
			require.False(t, math.IsNaN(v))
			require.GreaterOrEqual(t, v, lo-1e-4*(1+math.Abs(lo)))
			require.LessOrEqual(t, v, hi+1e-4*(1+math.Abs(hi)))
		}
	})
}

// FuzzClassify: any samples (NaN and infinities included) give one of
// the classifications, a result JSON can carry, and a score; never a
// panic.
func FuzzClassify(f *testing.F) {
	f.Add(seed(suiteExperimentHigh, suiteControl), uint8(0))
	f.Add(seed([]float64{math.NaN(), 1}, []float64{math.Inf(1), 0}), uint8(3))
	f.Add(seed([]float64{0.2, 0.2, 0.2}, []float64{0.1, 0.1}), uint8(5))
	f.Fuzz(func(t *testing.T, b []byte, flags uint8) {
		x, y := floats(b)
		o := MetricOptions{
			Direction:    []Direction{Either, Increase, Decrease}[int(flags)%3],
			Critical:     flags&4 != 0,
			MustHaveData: flags&8 != 0,
		}
		if flags&16 != 0 {
			o.NaNStrategy = ReplaceNaN
		}
		r := NewClassifier().Classify(y, x, o)
		require.Contains(t, []Classification{Pass, High, Low, Nodata, NodataFailMetric, Error}, r.Classification)
		_, err := json.Marshal(r)
		require.NoError(t, err)
		s := WeightedScore([]Scored{{Group: "g", Result: r}}, nil, Thresholds{Pass: 95, Marginal: 75})
		require.Contains(t, []Verdict{VerdictPass, VerdictMarginal, VerdictFail}, s.Verdict)
	})
}
