package canary

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// Samples of Kayenta's ClassifierSuite (kayenta-judge).
var (
	suiteExperimentPass = []float64{
		9.7767343120109462, 10.587071850477695, 7.8375506388901766, 9.3243326886113884,
		8.3774505409784421, 8.9359264399606282, 8.2707663324728511, 9.7484308126716925,
		11.623746715547156, 9.2753442679633942, 8.1538047749171518, 10.562020975754294,
		13.498135575451835, 11.054419256110332, 6.9538903590055092, 12.521008342195479,
		9.0216358603546443, 4.9234856699531662, 11.251360203607172, 11.598449508040337,
		8.435232204668182, 11.110228516867279, 10.70063380164755, 8.9212773652115249,
		10.086167067942661, 11.42107515483087, 9.3792347813644952, 7.7980320148552593,
		10.62339807275746, 11.909642062063739,
	}
	suiteControl = []float64{
		11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657,
		9.7944630265656727, 9.6037918603687302, 6.1867793350339388, 12.345599159550174,
		10.371891733859533, 8.6094300785016724, 9.913162673361084, 10.361375299003466,
		14.206800387518818, 10.946153754753301, 10.215876627044048, 11.739760899484603,
		10.907627468626439, 12.823353694464775, 8.1018609771732137, 8.4981616408804932,
		12.113441374697231, 13.272210809932028, 10.114579381663297, 6.9463958767978067,
		6.2105278541727778, 10.160401684903775, 8.3457712066455461, 8.383822063895833,
		7.0020205070083765, 10.755757401808442,
	}
	suiteExperimentHigh = []float64{
		20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562,
		19.510058772176841, 19.392005525270303, 22.926528314912101, 17.156530276709894,
		18.655117916226171, 23.422607911610392, 24.055817684156644, 22.62689958516501,
		21.979472967817678, 21.659318607218694, 20.067707574072426, 22.119570836305414,
		16.44037132663307, 21.559622826341268, 21.000181443489218, 17.779369411412663,
		17.806006358943584, 18.537200618386109, 20.555550300210797, 19.552928184468378,
		21.771118944087092, 21.809622806176627, 20.961762909905271, 20.977571577503021,
		19.106303205498794, 16.976918966987078,
	}
	suiteControlHigh = []float64{
		20.758113589510348, 22.802059629464559, 20.612340363492208, 20.973274654749986,
		23.469237330498622, 21.53133988954805, 21.767353687439805, 18.308050730374301,
		19.062145167827566, 25.879498436001779, 18.982629726336128, 19.387920182269266,
		18.995398251246982, 24.228420230932805, 20.050985172694688, 18.2340451091756,
		17.870515494460435, 23.058103863806618, 18.400259567501134, 16.971352091177167,
		19.467529066052151, 17.90465423342031, 17.553948617825831, 16.104611843907193,
		24.38171081433039, 15.919294339922635, 20.479409626304697, 19.08307201492406,
		17.455788050722866, 18.853826823235142,
	}
)

// TestClassifierSuite ports the cases of Kayenta's ClassifierSuite that
// use MannWhitneyClassifier(tolerance = 0.10, confLevel = 0.95).
func TestClassifierSuite(t *testing.T) {
	cl := NewClassifier()
	cl.Tolerance, cl.Confidence = 0.10, 0.95
	cases := []struct {
		name                string
		experiment, control []float64
		o                   MetricOptions
		want                Classification
		critical            bool
	}{
		{"pass metric", suiteExperimentPass, suiteControl, MetricOptions{}, Pass, false},
		{"high metric", suiteExperimentHigh, suiteControl, MetricOptions{}, High, false},
		{"low metric", suiteExperimentPass, suiteControlHigh, MetricOptions{}, Low, false},
		{"directional increase", suiteExperimentPass, suiteControlHigh, MetricOptions{Direction: Increase}, Pass, false},
		{"directional decrease", suiteExperimentHigh, suiteControl, MetricOptions{Direction: Decrease}, Pass, false},
		{"directional high", suiteExperimentHigh, suiteControl, MetricOptions{Direction: Increase}, High, false},
		{"directional low", suiteExperimentPass, suiteControlHigh, MetricOptions{Direction: Decrease}, Low, false},
		// effectSizeThresholds = (0.8, 1.2): the canary's mean is about
		// twice the baseline's, beyond 1.2.
		{"high with effect size", suiteExperimentHigh, suiteControl, MetricOptions{AllowedDecrease: 0.8, AllowedIncrease: 1.2}, High, false},
		// An allowed increase above the ratio (~2.04) turns High into Pass.
		{"high within allowed increase", suiteExperimentHigh, suiteControl, MetricOptions{AllowedIncrease: 3}, Pass, false},
		{"critical high", suiteExperimentHigh, suiteControl, MetricOptions{Critical: true}, High, true},
		// A critical metric whose ratio stays under criticalIncrease is
		// High without failing the canary.
		{"critical below critical increase", suiteExperimentHigh, suiteControl, MetricOptions{Critical: true, CriticalIncrease: 5}, High, false},
		{"critical low", suiteExperimentPass, suiteControlHigh, MetricOptions{Critical: true, CriticalDecrease: 0.9}, Low, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.Classify(tc.control, tc.experiment, tc.o)
			require.Equal(t, tc.want, r.Classification, r.Reason)
			require.Equal(t, tc.critical, r.Critical)
		})
	}
}

// TestClassifyNodata checks the NODATA rules of MannWhitneyClassifier.
func TestClassifyNodata(t *testing.T) {
	cl := NewClassifier()
	nan := math.NaN()
	cases := []struct {
		name     string
		control  []float64
		canary   []float64
		o        MetricOptions
		want     Classification
		critical bool
	}{
		{"empty canary", []float64{1, 2}, nil, MetricOptions{}, Nodata, false},
		{"all NaN baseline", []float64{nan, nan}, []float64{1, 2}, MetricOptions{}, Nodata, false},
		{"critical nodata", []float64{1}, nil, MetricOptions{Critical: true}, Nodata, true},
		{"must have data", []float64{1}, nil, MetricOptions{MustHaveData: true}, NodataFailMetric, false},
		{"must have data and critical", []float64{1}, nil, MetricOptions{MustHaveData: true, Critical: true}, Nodata, true},
		{"replace NaN", []float64{nan}, nil, MetricOptions{NaNStrategy: ReplaceNaN}, Pass, false},
		{"identical", []float64{3, 1, 2}, []float64{1, 2, 3}, MetricOptions{}, Pass, false},
		{"one value", []float64{0, 0, 0}, []float64{0, 0}, MetricOptions{}, Pass, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.Classify(tc.control, tc.canary, tc.o)
			require.Equal(t, tc.want, r.Classification)
			require.Equal(t, tc.critical, r.Critical)
		})
	}
}

// TestClassifyConstantSamples: two constant samples get Gaussian noise
// (sd 1e-5 of the value) before the test, so a doubled constant is High
// and a halved one Low instead of an error for tied ranks.
func TestClassifyConstantSamples(t *testing.T) {
	cl := NewClassifier()
	base := []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}
	canary := []float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2}
	r := cl.Classify(base, canary, MetricOptions{})
	require.Equal(t, High, r.Classification, r.Reason)
	require.InDelta(t, 2.0, float64(r.Ratio), 1e-3)
	r = cl.Classify(canary, base, MetricOptions{})
	require.Equal(t, Low, r.Classification, r.Reason)
}

// TestClassifyZeroBaselineMean: a baseline without errors has a mean of
// 0, so the effect size is NaN and the interval alone decides: a canary
// with errors is High, and a critical one fails the canary.
func TestClassifyZeroBaselineMean(t *testing.T) {
	cl := NewClassifier()
	base := make([]float64, 20)
	canary := make([]float64, 20)
	for i := range canary {
		canary[i] = 0.2 + float64(i%3)*0.01
	}
	r := cl.Classify(base, canary, MetricOptions{Direction: Increase, AllowedIncrease: 2, Critical: true, CriticalIncrease: 3})
	require.Equal(t, High, r.Classification)
	require.True(t, math.IsNaN(float64(r.Ratio)))
	require.True(t, r.Critical)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(b), `"ratio":null`)
}
