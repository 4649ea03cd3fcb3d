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

// Samples of ClassifierSuite's CLES cases.
var (
	clesPassExperiment = []float64{
		0, 0, 1.46580998e-04, 0, 0, 0, 7.94701987e-05, 0, 0, 0, 2.68889486e-05, 0,
		0, 2.64935753e-05, 0, 0, 0, 2.61608895e-05, 1.27824931e-04, 0, 0, 0, 2.54511211e-05, 2.58665287e-05,
		7.63339355e-05, 0, 2.54239443e-05, 0, 0, 0, 2.61001201e-05, 5.20101940e-05, 0, 2.64452319e-05, 5.27551370e-05, 7.83719533e-05,
		5.19467027e-05, 2.58344528e-05, 2.58899676e-05, 0, 2.59497613e-05, 2.57938043e-05, 7.78553448e-05, 2.60593110e-05, 2.61001201e-05, 0, 0, 2.59349551e-05,
		2.60559160e-05, 0, 0, 0, 0, 0, 0, 2.58819267e-05, 0, 2.58825965e-05, 2.57572635e-05, 2.56877906e-05,
	}
	clesPassControl = []float64{
		0, 0, 0, 0, 0, 0, 0, 0, 2.91528191e-05, 0, 0, 0,
		2.98284862e-05, 5.99916012e-05, 0, 5.92276712e-05, 0, 2.98053709e-05, 0, 2.97309350e-05, 5.92153960e-05, 0, 0, 0,
		2.92800047e-05, 0, 2.94550810e-05, 0, 0, 0, 5.83958656e-05, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 2.88600289e-05, 2.90334756e-05, 2.91740817e-05, 0, 0, 0, 0, 0,
		0, 2.92765758e-05, 0, 0, 0, 0, 0, 2.94637596e-05, 5.89136326e-05, 0, 0, 0,
	}
	clesHighExperiment = []float64{
		0.00689808, 0.00568664, 0.00680876, 0.00642045, 0.00561825,
		0.00472294, 0.00398378, 0.00392403, 0.00421201, 0.0047529,
		0.00460853, 0.00439888, 0.00561875, 0.01998866, 0.0124369,
		0.00624391, 0.00444361, 0.00442059, 0.00372095, 0.00540736,
		0.00715402, 0.00425974, 0.00414409, 0.01172436, 0.0125959,
		0.00371891, 0.00429855, 0.00369876, 0.00325709, 0.00415943,
		0.00371754, 0.00445212, 0.00521721, 0.00443938, 0.00380859,
		0.01602997, 0.00788885, 0.0038155, 0.00326921, 0.00336928,
		0.00365917, 0.00333869, 0.00427639, 0.00355911, 0.00381224,
		0.00360057, 0.00349305, 0.00401164, 0.00351947, 0.00356299,
		0.003407, 0.00414397, 0.00393346, 0.00413318, 0.00359041,
		0.00366314, 0.00309383, 0.00383733, 0.00363324, 0.00280674,
	}
	clesHighControl = []float64{
		0.00081956, 0.00239282, 0.00133685, 0.00094917, 0.00029518,
		0.00035344, 0.00048194, 0.00034893, 0.0003202, 0.00079814,
		0.00090881, 0.00072599, 0.00037819, 0.00038286, 0.00057604,
		0.00064821, 0.00032194, 0.0002245, 0.00025202, 0.00071997,
		0.00022721, 0.00042578, 0.00042496, 0.00045613, 0.00037072,
		0.0003317, 0.00032889, 0.00032749, 0.00036093, 0.00029285,
		0.00038401, 0.00044467, 0.00071086, 0.00036692, 0.00052079,
		0.00074974, 0.00128791, 0.00062046, 0.00086345, 0.00118563,
		0.00103379, 0.00028913, 0.00057628, 0.00057943, 0.00048735,
		0.00029409, 0.0002005, 0.00016612, 0.00089312, 0.00059367,
		0.00061706, 0.00163313, 0.00097784, 0.00029305, 0.00058839,
		0.00085212, 0.00048298, 0.00035546, 0.00025866, 0.00038767,
	}
	clesLowExperiment = []float64{
		24.24693907, 26.13330099, 22.50056744, 24.36646841, 23.19935673,
		19.43801304, 20.99654102, 18.90793651, 21.31949881, 21.83528381,
		21.64211206, 23.13365968, 21.09163134, 19.45540615, 20.74783158,
		22.25527831, 19.82051791, 20.9865487, 19.94450026, 23.2904056,
		18.18408424, 22.13843542, 19.42896044, 19.84140464, 23.91557662,
		21.00981557, 21.8594633, 23.11630163, 22.95700392, 17.80045135,
	}
	clesLowControl = []float64{
		25.09626848, 26.15032198, 24.88431438, 24.18870163, 22.14684987,
		28.01743443, 21.29910501, 27.24688773, 28.64187535, 27.03504445,
		24.67888311, 22.35137878, 27.41640397, 26.00225548, 23.02118534,
		25.99647292, 22.77446912, 25.56704719, 25.57025827, 21.2721602,
		23.12987357, 24.59111604, 27.48865016, 27.21967755, 23.5951111,
		22.5429607, 25.83015564, 23.31965305, 24.3911644, 25.11468194,
	}
)

// TestClassifierSuiteEffectSizes ports ClassifierSuite's effect-size,
// critical-threshold, tie and zero-mean cases.
func TestClassifierSuiteEffectSizes(t *testing.T) {
	small := []float64{20, 22, 21, 25, 30}
	smallControl := []float64{1, 2.2, 1.1, 2.5, 3}
	cases := []struct {
		name                string
		tolerance, conf     float64
		experiment, control []float64
		o                   MetricOptions
		want                Classification
		critical            bool
		nanRatio            bool
	}{
		{"large input high", 0.10, 0.95, rateExperiment, rateControl, MetricOptions{}, High, false, false},
		{"mean ratio: high", 0.10, 0.95, small, smallControl, MetricOptions{AllowedDecrease: 0.8, AllowedIncrease: 1.2}, High, false, false},
		{"mean ratio: low", 0.10, 0.95, suiteExperimentPass, suiteControlHigh, MetricOptions{Direction: Decrease, AllowedDecrease: 0.8, AllowedIncrease: 1.2}, Low, false, false},
		{"mean ratio: pass", 0.10, 0.95, []float64{10, 12.2, 10.1, 12.5, 23}, small, MetricOptions{AllowedDecrease: 0.5, AllowedIncrease: 1}, Pass, false, false},
		{"mean ratio: pass (large input)", 0.10, 0.95, rateExperiment, rateControl, MetricOptions{AllowedDecrease: 1, AllowedIncrease: 5}, Pass, false, false},
		{"cles: pass", 0.20, 0.98, clesPassExperiment, clesPassControl, MetricOptions{EffectSize: CLES, AllowedDecrease: 0.5, AllowedIncrease: 0.8}, Pass, false, false},
		{"cles: high", 0.20, 0.98, clesHighExperiment, clesHighControl, MetricOptions{EffectSize: CLES, AllowedDecrease: 0.2, AllowedIncrease: 0.8}, High, false, false},
		{"cles: low", 0.20, 0.98, clesLowExperiment, clesLowControl, MetricOptions{EffectSize: CLES, AllowedDecrease: 0.2, AllowedIncrease: 0.8}, Low, false, false},
		{"critical high", 0.10, 0.95, small, smallControl, MetricOptions{Critical: true, CriticalDecrease: 1, CriticalIncrease: 1.2}, High, true, false},
		{"critical low", 0.10, 0.95, []float64{2, 2, 2, 2, 3}, []float64{10, 20.2, 10.1, 20.5, 30}, MetricOptions{Critical: true, CriticalDecrease: 1.2, CriticalIncrease: 1}, Low, true, false},
		{"critical effect size: high", 0.10, 0.95, small, smallControl, MetricOptions{Critical: true, AllowedDecrease: 1, AllowedIncrease: 5, CriticalDecrease: 1, CriticalIncrease: 13}, High, false, false},
		{"critical effect size: pass", 0.10, 0.95, small, smallControl, MetricOptions{Critical: true, AllowedDecrease: 1, AllowedIncrease: 13, CriticalDecrease: 1, CriticalIncrease: 15}, Pass, false, false},
		{"critical high (default thresholds)", 0.10, 0.95, small, smallControl, MetricOptions{Critical: true}, High, true, false},
		{"tied observations", 0.10, 0.95, []float64{1, 1, 1}, []float64{1, 1}, MetricOptions{Direction: Decrease}, Pass, false, false},
		{"identical populations", 0.10, 0.95, []float64{1, 2, 3, 4, 5}, []float64{5, 4, 3, 2, 1}, MetricOptions{Direction: Decrease}, Pass, false, false},
		{"leading zero", 0.10, 0.95, []float64{0, 1, 1, 1, 1}, []float64{1, 1, 1, 1, 1}, MetricOptions{Direction: Decrease}, Pass, false, false},
		{"missing experiment data", 0.10, 0.95, nil, []float64{1, 2, 3, 4, 5}, MetricOptions{Direction: Decrease}, Nodata, false, false},
		{"missing experiment data: critical", 0.10, 0.95, nil, []float64{1, 2, 3, 4, 5}, MetricOptions{Direction: Decrease, Critical: true}, Nodata, true, false},
		{"missing experiment data: NaN replacement", 0.10, 0.95, nil, []float64{1, 2, 3, 4, 5}, MetricOptions{Direction: Decrease, NaNStrategy: ReplaceNaN}, Pass, false, false},
		{"majority tied", 0.10, 0.95, []float64{1, 1, 1, 1, 10}, []float64{1, 1, 1, 1, 1}, MetricOptions{}, Pass, false, false},
		{"tied ranks", 0.10, 0.95, []float64{10, 10, 10, 10, 10}, []float64{1, 1, 1, 1, 1}, MetricOptions{}, High, false, false},
		{"tied ranks with zeros", 0.10, 0.95, []float64{10, 10, 10, 10, 10}, []float64{0, 0, 0, 0, 0}, MetricOptions{}, High, false, true},
		{"zero mean: high", 0.10, 0.95, []float64{54.9, 54.5, 55.1, 55.6, 57.4}, []float64{0, 0, 0, 0, 0}, MetricOptions{AllowedDecrease: 0.8, AllowedIncrease: 1.2}, High, false, true},
		{"zero mean: low", 0.10, 0.95, []float64{0, 0, 0, 0, 0}, []float64{54.9, 54.5, 55.1, 55.6, 57.4}, MetricOptions{AllowedDecrease: 0.8, AllowedIncrease: 1.2}, Low, false, true},
		{"zero mean: critical", 0.10, 0.95, []float64{
			0.05000000074505806, 0.05000000074505806, 0.01666666753590107,
			0.01666666753590107, 0.01666666753590107, 0.05000000074505806,
			0.03333333507180214, 0.05000000260770321, 0.05000000260770321,
			0.13333333656191826,
		}, make([]float64, 10), MetricOptions{NaNStrategy: ReplaceNaN, Critical: true, CriticalDecrease: 0.8, CriticalIncrease: 1.2}, High, true, true},
		{"zero mean: pass", 0.10, 0.95, make([]float64, 5), make([]float64, 5), MetricOptions{AllowedDecrease: 0.8, AllowedIncrease: 1.2}, Pass, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := NewClassifier()
			cl.Tolerance, cl.Confidence = tc.tolerance, tc.conf
			r := cl.Classify(tc.control, tc.experiment, tc.o)
			require.Equal(t, tc.want, r.Classification, r.Reason)
			require.Equal(t, tc.critical, r.Critical, "critical")
			require.Equal(t, tc.nanRatio, math.IsNaN(float64(r.Ratio)), "NaN effect size, ratio %v", r.Ratio)
		})
	}
}

func TestCLES(t *testing.T) {
	require.InDelta(t, 1.0, cles([]float64{1, 2}, []float64{3, 4, 5}), 0)
	require.InDelta(t, 0.0, cles([]float64{3, 4, 5}, []float64{1, 2}), 0)
	require.InDelta(t, 0.5, cles([]float64{1, 2}, []float64{1, 2}), 0)
}

func TestPercentileR7(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	// R: quantile(c(1,2,3,4), c(0, .25, .5, .99, 1)) = 1, 1.75, 2.5, 3.97, 4.
	for _, c := range []struct{ p, want float64 }{{0, 1}, {25, 1.75}, {50, 2.5}, {99, 3.97}, {100, 4}} {
		require.InDelta(t, c.want, percentileR7(s, c.p), 1e-12, "p%g", c.p)
	}
	require.InDelta(t, 7.0, percentileR7([]float64{7}, 50), 0)
}

// TestRemoveOutliers: with factor 3 the fences lie far out, so only a
// gross outlier goes; the 1st/99th percentiles keep small samples whole.
func TestRemoveOutliers(t *testing.T) {
	v := []float64{10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 9, 10, 11, 10, 10, 11, 9, 10, 1000}
	got := removeOutliers(v, 3)
	require.Len(t, got, 19)
	require.NotContains(t, got, 1000.0)
	require.Equal(t, []float64{1, 2, 3}, removeOutliers([]float64{1, 2, 3}, 3))
	// The classifier applies it to both sides: the spike no longer
	// inflates the canary's mean ratio.
	cl := NewClassifier()
	base := []float64{10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 9, 10, 11, 10, 10, 11, 9, 10, 10}
	kept := cl.Classify(base, v, MetricOptions{})
	require.Greater(t, float64(kept.Ratio), 5.0)
	removed := cl.Classify(base, v, MetricOptions{RemoveOutliers: true})
	require.InDelta(t, 1.0, float64(removed.Ratio), 0.01)
	require.Equal(t, Pass, removed.Classification)
}
