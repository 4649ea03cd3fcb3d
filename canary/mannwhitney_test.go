package canary

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The vectors of Kayenta's MannWhitneySuite (kayenta-mannwhitney, whose
// expectations are R's wilcox.test results), as table tests. E is the
// suite's tolerance.
const mwE = 0.000001

var (
	tieOutControl    = []float64{1.5, 6.0, 5.0, 2.5, 2.5, 2.0, 2.0, 3.5, 3.0, 3.0, 3.0, 2.0, 3.0, 8.0, 4.0, 2.5, 3.0, 2.5, 2.5, 2.0, 2.5, 2.0, 2.0, 2.5, 3.5, 3.0, 1.5, 5.0, 2.5, 5.5, 2.0, 2.5, 3.5, 2.0, 2.5, 4.0, 2.0, 2.0, 2.0, 2.0, 5.5, 4.5, 4.0, 3.0, 3.0, 3.5, 2.5, 3.0, 2.5, 4.0, 6.0, 2.0, 5.0, 6.0, 3.5, 3.0, 54.5, 3.0, 5.0, 6.0, 3.5, 4.5, 2.5, 2.0, 6.0, 5.0, 2.5, 3.5, 2.0, 3.0, 2.5, 3.5, 3.5, 2.5, 3.0, 4.5, 3.0, 15.5, 5.0, 2.5, 3.0, 4.0, 3.5, 4.0, 4.0, 2.0, 4.5, 2.5, 4.0, 3.0}
	tieOutExperiment = []float64{2.5, 2.5, 2.0, 2.5, 3.5, 2.0, 3.5, 1.5, 3.0, 3.0, 2.5, 3.5, 2.0, 2.5, 2.0, 2.0, 5.0, 3.0, 2.0, 1.5, 2.0, 4.0, 3.0, 2.5, 3.0, 2.0, 2.0, 2.0, 2.5, 3.5, 1.5, 1.5, 3.5, 2.0, 2.5, 2.5, 3.0, 3.5, 2.5, 6.5, 2.5, 4.0, 2.5, 3.0, 2.5, 6.5, 2.5, 3.0, 1.5, 2.0, 2.5, 3.0, 7.5, 1.5, 2.0, 4.0, 2.5, 2.0, 2.5, 3.5, 4.0, 2.5, 3.0, 2.5, 2.0, 3.5, 3.0, 16.5, 3.0, 3.0, 7.0, 4.5, 5.0, 2.0, 3.5, 6.0, 1.5, 3.0, 2.5, 4.0, 3.0, 1.5, 5.0, 3.0, 2.5, 5.5, 3.0, 1.5, 2.5, 6.0}

	againControl    = []float64{1.5, 1.5, 1.0, 2.0, 1.5, 1.5, 1.5, 2.0, 1.0, 1.0, 2.0, 1.5, 1.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 2.0, 1.0, 1.5, 3.0, 2.0, 1.0, 1.5, 1.5, 1.5, 2.0, 1.5, 1.0, 1.0, 1.5, 2.5, 2.0, 0.0, 1.0, 2.0, 2.0, 1.5, 3.0, 2.0, 1.0, 2.5, 0.5, 1.5, 0.5, 2.5, 2.0, 1.5, 1.5, 2.0, 1.0, 4.5, 2.5, 0.5, 2.5, 1.5, 1.5, 1.0, 2.0, 1.0, 2.5, 1.5, 2.0, 1.5, 3.0, 1.5, 1.5, 1.5, 1.5, 2.0, 1.0, 2.5, 1.0, 1.5, 2.5, 1.5, 2.5, 2.0, 1.5, 1.5, 1.5, 2.5, 1.0, 7.5, 1.5, 3.0, 5.5, 1.0, 1.5, 2.0, 1.0, 1.5, 2.5, 2.5, 1.0, 1.0, 2.5, 1.5, 1.5, 3.0, 4.0, 1.0, 1.5, 2.0, 1.5, 1.5, 1.5, 2.5, 1.5, 3.5, 2.5, 1.5, 2.0, 1.0, 4.0, 1.5, 1.0, 1.5, 2.5, 2.5, 2.0, 2.5, 1.5, 1.5, 2.0, 1.0, 1.5, 2.0, 1.5, 1.0, 2.5, 1.5, 1.5, 2.0, 2.0, 1.0, 1.5, 2.5, 0.5, 2.0, 2.5, 2.0, 1.0, 2.0, 0.5, 1.5, 1.0, 2.5, 1.0, 1.5, 1.0, 7.0, 1.0, 3.5, 1.5, 2.0, 1.5, 1.5, 2.0, 3.0, 1.5, 1.5, 2.0, 1.5, 2.0, 1.5, 4.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.5, 0.5, 2.0, 1.0, 1.5, 0.5}
	againExperiment = []float64{1.5, 2.0, 5.0, 1.5, 1.5, 8.5, 1.0, 1.0, 2.0, 1.0, 1.5, 0.5, 2.0, 1.5, 2.0, 1.5, 1.0, 2.5, 1.5, 1.5, 2.0, 1.5, 1.5, 1.5, 2.0, 2.0, 1.0, 5.5, 1.5, 2.0, 1.5, 1.5, 1.0, 2.5, 1.0, 2.0, 1.5, 1.5, 2.0, 2.0, 1.5, 1.5, 1.0, 1.0, 2.0, 0.5, 1.5, 0.5, 3.5, 1.5, 3.0, 19.0, 0.5, 1.5, 0.5, 1.5, 2.0, 1.5, 1.5, 1.5, 1.5, 2.0, 1.5, 2.0, 2.0, 1.5, 1.0, 1.5, 1.0, 2.0, 1.0, 2.0, 1.5, 1.5, 3.0, 2.0, 1.5, 1.5, 0.5, 2.0, 1.5, 1.0, 2.0, 1.0, 1.0, 2.0, 1.0, 2.0, 1.5, 1.0, 1.0, 2.0, 1.5, 1.5, 1.5, 0.5, 1.5, 1.5, 0.5, 1.0, 1.5, 1.5, 1.5, 1.0, 2.0, 2.0, 2.0, 1.5, 1.0, 1.5, 1.0, 1.0, 1.5, 3.5, 2.0, 1.5, 1.0, 2.0, 1.5, 5.5, 0.5, 2.0, 3.5, 1.5, 1.0, 2.0, 0.5, 2.5, 1.0, 1.5, 0.5, 2.0, 2.0, 1.0, 0.5, 1.5, 1.0, 1.5, 0.5, 0.5, 1.0, 1.5, 1.0, 1.5, 0.5, 1.5, 1.0, 1.0, 0.5, 1.0, 0.5, 4.0, 1.0, 1.5, 2.0, 5.5, 1.5, 0.5, 2.0, 1.0, 1.5, 1.0, 1.5, 1.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 2.0, 0.5, 1.5, 1.0, 2.0, 1.0, 1.0, 0.5, 1.0}

	// Error rates in percent (mostly zero): the suite's "tie out
	// intermediate variables" and the classifier suite's large input.
	rateExperiment = []float64{0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.6666666666666572, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.7037037037036811, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5625000000000142, 0.0, 0.0, 0.0, 0.0, 3.3333333333333428, 0.0, 1.7543859649122737, 0.0, 1.8518518518518476, 0.0, 0.0, 1.8518518518518476, 0.0, 0.0, 1.5151515151515156, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.7857142857142776, 1.3333333333333286, 0.0, 3.1250000000000142, 1.9607843137255117, 1.4492753623188293, 2.4390243902438868, 1.6393442622950687, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.6129032258064484, 1.9607843137255117, 1.5873015873015817, 0.0, 0.0, 2.8169014084507182, 0.0, 0.0, 3.0303030303030454, 0.0, 0.0, 3.3898305084745743, 0.0, 0.0, 1.234567901234584, 0.0, 0.0, 0.0, 0.0, 1.7241379310344769, 0.0, 0.0, 0.0, 0.0, 1.6949152542372872, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.470588235294116, 0.0, 0.0, 1.3698630136986196, 3.225806451612911, 1.7543859649122879, 3.4482758620689538, 0.0, 3.3333333333333428, 0.0, 0.0, 0.0, 1.818181818181813, 0.0, 0.0, 1.4285714285714448, 0.0, 0.0, 1.8867924528301927, 2.0000000000000284, 0.0, 0.0, 0.0, 2.985074626865682, 0.0, 0.0, 1.6666666666666714, 0.0, 0.0, 1.5625, 1.9230769230769198, 0.0, 1.8518518518518619, 0.0, 2.7027027027027088, 0.0, 0.0, 0.0, 1.3513513513513544, 0.0, 1.818181818181813, 0.0, 1.6666666666666572, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.818181818181813, 0.0, 1.4285714285714164, 0.0, 0.0, 4.1095890410959015, 0.0, 0.0, 0.0, 1.8518518518518619, 0.0, 0.0, 1.8518518518518476, 1.3888888888888857, 0.0, 0.0, 0.0, 0.0, 1.8867924528301785, 1.4285714285714164, 0.0, 0.0, 1.5625, 1.8867924528301927, 0.0, 0.0, 0.0, 0.0, 2.040816326530603, 1.818181818181813, 0.0, 0.0, 1.6393442622950687, 0.0, 1.7241379310344769, 1.5151515151515156, 2.564102564102555, 0.0, 0.0, 0.0, 0.0, 5.5555555555555571, 0.0, 0.0, 4.0816326530612059, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.5714285714285836, 0.0, 2.040816326530603, 3.1746031746031633, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}
	rateControl    = []float64{0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5625000000000142, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.3888888888888857, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5384615384615614, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.4925373134328339, 0.0, 0.0, 0.0, 1.6949152542373014, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.470588235294116, 0.0, 0.0, 0.0, 0.0, 1.7543859649122879, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.8518518518518619, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.6393442622950687, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.7241379310344769, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5873015873015817, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.4925373134328339, 0.0, 0.0, 0.0, 3.1249999999999858, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.4925373134328339, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.9850746268656536, 0.0, 2.5000000000000284, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.7857142857142776, 0.0, 0.0, 0.0}
)

// loadWilcoxSamples reads the samples of the suite's "wilcox function"
// and "test problem case" (850 values near 1/30 each, ~38 kB of literals).
func loadWilcoxSamples(t *testing.T) (x, y []float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mannwhitney-wilcox.json"))
	require.NoError(t, err)
	var d struct {
		Source string    `json:"source"`
		X      []float64 `json:"x"`
		Y      []float64 `json:"y"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&d))
	require.Len(t, d.X, 850)
	require.Len(t, d.Y, 850)
	return d.X, d.Y
}

func TestMannWhitneySuite(t *testing.T) {
	wilcoxX, wilcoxY := loadWilcoxSamples(t)
	cases := []struct {
		name                string
		experiment, control []float64
		conf                float64
		lower, upper        float64
		estimate            float64
		checkEstimate       bool
	}{
		// REFERENCE §12's small vector (R gives the same).
		{"small", []float64{10, 20, 30, 40}, []float64{1, 2, 3, 4}, 0.95, 6, 39, 22.5, true},
		// "tie out with R version": the suite leaves the estimate
		// unchecked (R's own differs from the root by its tolerance).
		{"tie out with R", tieOutExperiment, tieOutControl, 0.95, -0.500002521696696, -3.486287505871302e-5, 0, false},
		// "tie out with R version again".
		{"tie out with R again", againExperiment, againControl, 0.98, -0.4999173250549087, -6.912685789769486e-6, 0, false},
		// "tie out intermediate variables": R's own bounds cross here.
		{"tie out intermediate", rateExperiment, rateControl, 0.95, 3.521755377702165e-5, 2.02456461662334e-5, 2.6279243045155653e-5, true},
		// "test problem case": the samples of "wilcox function" span only
		// 3.3e-5, less than the root finder's tolerance 1e-4, so both
		// bounds and the estimate are ends of [muMin, muMax] (Kayenta's
		// values, not R's).
		{"test problem case", wilcoxX, wilcoxY, 0.98, -1.4808028936386108e-5, 1.808255910873413e-5, 1.808255910873413e-5, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := MannWhitney(tc.experiment, tc.control, tc.conf)
			require.NoError(t, err)
			require.InDelta(t, tc.lower, r.Lower, mwE, "lower bound")
			require.InDelta(t, tc.upper, r.Upper, mwE, "upper bound")
			if tc.checkEstimate {
				require.InDelta(t, tc.estimate, r.Estimate, mwE, "estimate")
			}
		})
	}
}

// TestWilcoxonDiffIntermediates checks the suite's intermediate values of
// "tie out intermediate variables": the interval's ends and R's wdiff at
// them for both quantiles.
func TestWilcoxonDiffIntermediates(t *testing.T) {
	x, y := rateExperiment, rateControl
	zqLower := -normalQuantile(0.025)
	require.InDelta(t, 1.9599639845400536, zqLower, mwE)
	muMin, muMax := slices.Min(x)-slices.Max(y), slices.Max(x)-slices.Min(y)
	require.InDelta(t, -3.124999999999986, muMin, mwE)
	require.InDelta(t, 5.555555555555557, muMax, mwE)
	for _, c := range []struct {
		mu, zq, want float64
	}{
		{muMin, zqLower, 17.090968923762254},
		{muMax, zqLower, -20.997687930433106},
		{muMin, -zqLower, 21.01089689284236},
		{muMax, -zqLower, -17.077759961353},
	} {
		got, err := wilcoxonDiff(c.mu, c.zq, x, y)
		require.NoError(t, err)
		require.InDelta(t, c.want, got, mwE, "wdiff(%g, %g)", c.mu, c.zq)
	}
}

// TestWilcoxonDiffWilcoxFunction is the suite's first case, "wilcox
// function": R's wdiff of its two samples at two shifts.
func TestWilcoxonDiffWilcoxFunction(t *testing.T) {
	x, y := loadWilcoxSamples(t)
	for _, c := range []struct {
		mu, want float64
	}{
		{0, -1.229416},
		{5, -35.80606},
	} {
		got, err := wilcoxonDiff(c.mu, 0, x, y)
		require.NoError(t, err)
		require.InDelta(t, c.want, got, mwE, "wdiff(%g, 0)", c.mu)
	}
}

func TestMannWhitneyTied(t *testing.T) {
	_, err := MannWhitney([]float64{1, 1}, []float64{1, 1, 1}, 0.98)
	require.ErrorIs(t, err, ErrAllTied)
	_, err = MannWhitney(nil, []float64{1}, 0.98)
	require.Error(t, err)
}

func TestRankAverageTies(t *testing.T) {
	r, ties := rank([]float64{3, 1, 3, 2, 3})
	require.Equal(t, []float64{4, 1, 4, 2, 4}, r)
	require.InDelta(t, 24.0, ties, 0) // one group of three: 27 − 3
}

func TestNormalQuantile(t *testing.T) {
	require.InDelta(t, -2.3263478740408408, normalQuantile(0.01), 1e-12)
	require.InDelta(t, 0.0, normalQuantile(0.5), 1e-15)
	require.True(t, math.IsInf(normalQuantile(0), -1))
}
