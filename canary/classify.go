package canary

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Classification is a metric's judgement, with Kayenta's names.
type Classification string

// Metric classifications.
const (
	Pass Classification = "Pass"
	High Classification = "High"
	Low  Classification = "Low"
	// Nodata: a side had no sample; excluded from group scores but
	// counted towards the judge's Nodata threshold.
	Nodata Classification = "Nodata"
	// NodataFailMetric: a metric that must have data had none; it counts
	// as a failure in its group.
	NodataFailMetric Classification = "NodataFailMetric"
	// Error: the test could not be computed.
	Error Classification = "Error"
)

// Direction says which change of a metric is a failure.
type Direction string

// Directions.
const (
	Increase Direction = "increase"
	Decrease Direction = "decrease"
	Either   Direction = "either"
)

// NaNStrategy says what becomes of NaN samples.
type NaNStrategy string

// NaN strategies.
const (
	// RemoveNaN drops NaN samples (Kayenta's default).
	RemoveNaN NaNStrategy = "remove"
	// ReplaceNaN turns NaN samples into 0 (for counts, where no data
	// means no events).
	ReplaceNaN NaNStrategy = "replace"
)

// EffectSize is how the size of a change is measured.
type EffectSize string

// Effect size measures.
const (
	// MeanRatio is mean(canary)/mean(baseline) (Kayenta's default).
	MeanRatio EffectSize = "meanRatio"
	// CLES is the common-language effect size: the share of (canary,
	// baseline) pairs where the canary's value is the higher, ties
	// counting half (Vargha and Delaney's A).
	CLES EffectSize = "cles"
)

// Judge parameters fixed by NetflixACAJudge.
const (
	// Tolerance is the fraction of |Hodges-Lehmann estimate| the interval
	// must clear.
	Tolerance = 0.25
	// ConfidenceLevel of the Mann-Whitney interval.
	ConfidenceLevel = 0.98
	// NodataThreshold is the percentage of Nodata results at or above
	// which the score is 0.
	NodataThreshold = 50
)

// MetricOptions are a metric's analysis settings, Kayenta's
// analysisConfigurations.canary.
type MetricOptions struct {
	Direction    Direction
	NaNStrategy  NaNStrategy
	Critical     bool
	MustHaveData bool
	// RemoveOutliers drops the samples outside IQR fences (Kayenta's
	// outliers.strategy remove; keep is the default), with the fences
	// OutlierFactor (3.0) interquartile ranges beyond the quartiles, or
	// at the 1st and 99th percentiles where those are wider.
	RemoveOutliers bool
	OutlierFactor  float64
	// EffectSize is the measure the thresholds below apply to
	// (MeanRatio).
	EffectSize EffectSize
	// AllowedIncrease and AllowedDecrease are the effect sizes a High or
	// Low must also reach (1.0 for the mean ratio, 0.5 for CLES).
	AllowedIncrease, AllowedDecrease float64
	// CriticalIncrease and CriticalDecrease are the effect sizes beyond
	// which a critical metric's High or Low fails the whole canary.
	CriticalIncrease, CriticalDecrease float64
}

// Defaults fills unset options with Kayenta's defaults.
func (o MetricOptions) Defaults() MetricOptions {
	if o.Direction == "" {
		o.Direction = Either
	}
	if o.NaNStrategy == "" {
		o.NaNStrategy = RemoveNaN
	}
	if o.EffectSize == "" {
		o.EffectSize = MeanRatio
	}
	if o.OutlierFactor == 0 {
		o.OutlierFactor = 3
	}
	def := 1.0
	if o.EffectSize == CLES {
		def = 0.5
	}
	for _, p := range []*float64{&o.AllowedIncrease, &o.AllowedDecrease, &o.CriticalIncrease, &o.CriticalDecrease} {
		if *p == 0 {
			*p = def
		}
	}
	return o
}

// MetricResult is one metric's classification.
type MetricResult struct {
	Classification Classification `json:"classification"`
	Reason         string         `json:"reason,omitempty"`
	// Ratio is the effect size: mean(canary)/mean(baseline), NaN (null
	// in JSON) when either mean is 0, or the CLES; 1 when the test was not
	// run.
	Ratio Number `json:"ratio"`
	// Critical is set when the result fails the whole canary.
	Critical bool `json:"critical"`
	// Interval and estimate of the shift canary − baseline, when the test
	// ran.
	Lower    *Number `json:"lower,omitempty"`
	Upper    *Number `json:"upper,omitempty"`
	Estimate *Number `json:"estimate,omitempty"`
}

// Classifier is Kayenta's MannWhitneyClassifier.
type Classifier struct {
	// Tolerance is the fraction of |Hodges-Lehmann estimate| the
	// interval must clear; Confidence is the interval's level.
	Tolerance, Confidence float64
	// Rand draws the Gaussian noise added to two constant samples
	// (Kayenta's generator is unseeded; a seeded one keeps a judgement
	// reproducible).
	Rand *rand.Rand
}

// NewClassifier returns the classifier NetflixACAJudge uses: tolerance
// 0.25, confidence 0.98, noise from a fixed seed.
func NewClassifier() *Classifier {
	return &Classifier{Tolerance: Tolerance, Confidence: ConfidenceLevel, Rand: rand.New(rand.NewPCG(1, 2))}
}

// Classify judges canary samples against baseline samples as Kayenta's
// NetflixACAJudge and MannWhitneyClassifier do: NaN handling, the no-data
// rules, identical or single-valued samples pass, Gaussian noise for two
// constant samples, then the Mann-Whitney interval against the tolerance
// times the estimate, the effect size (mean ratio) and the critical
// thresholds.
func (cl *Classifier) Classify(baseline, canary []float64, o MetricOptions) MetricResult {
	o = o.Defaults()
	experiment := handleNaN(canary, o.NaNStrategy)
	control := handleNaN(baseline, o.NaNStrategy)
	if o.RemoveOutliers {
		experiment = removeOutliers(experiment, o.OutlierFactor)
		control = removeOutliers(control, o.OutlierFactor)
	}
	if len(experiment) == 0 || len(control) == 0 {
		if o.NaNStrategy == ReplaceNaN {
			return MetricResult{Classification: Pass, Ratio: 1}
		}
		side := "canary"
		if len(control) == 0 {
			side = "baseline"
		}
		reason := "no data from the " + side
		if o.MustHaveData && !o.Critical {
			return MetricResult{Classification: NodataFailMetric, Reason: reason, Ratio: 1}
		}
		return MetricResult{Classification: Nodata, Reason: reason, Ratio: 1, Critical: o.Critical}
	}
	if slices.Equal(sorted(experiment), sorted(control)) {
		return MetricResult{Classification: Pass, Reason: "the canary and baseline data are identical", Ratio: 1}
	}
	if distinct(append(slices.Clone(experiment), control...)) == 1 {
		return MetricResult{Classification: Pass, Ratio: 1}
	}
	if distinct(experiment) == 1 && distinct(control) == 1 {
		experiment = addNoise(experiment, cl.Rand)
		control = addNoise(control, cl.Rand)
	}
	mw, err := MannWhitney(experiment, control, cl.Confidence)
	if err != nil {
		return MetricResult{Classification: Error, Reason: err.Error(), Ratio: 1, Critical: o.Critical}
	}
	// The effect size: the mean ratio is NaN when either mean is 0 (then
	// the interval alone decides).
	ratio := math.NaN()
	switch o.EffectSize {
	case CLES:
		ratio = cles(control, experiment)
	default:
		if mc, me := mean(control), mean(experiment); mc != 0 && me != 0 {
			ratio = me / mc
		}
	}
	nan := math.IsNaN(ratio)
	bound := cl.Tolerance * math.Abs(mw.Estimate)
	lo, up, est := Number(mw.Lower), Number(mw.Upper), Number(mw.Estimate)
	r := MetricResult{Classification: Pass, Ratio: Number(ratio), Lower: &lo, Upper: &up, Estimate: &est}
	switch {
	case (o.Direction == Increase || o.Direction == Either) && mw.Lower > bound && (nan || ratio >= o.AllowedIncrease):
		r.Classification = High
		r.Reason = fmt.Sprintf("the canary is higher: the %g%% interval of the shift is [%.4g, %.4g], above %.4g", cl.Confidence*100, mw.Lower, mw.Upper, bound)
		r.Critical = o.Critical && (nan || ratio >= o.CriticalIncrease)
	case (o.Direction == Decrease || o.Direction == Either) && mw.Upper < -bound && (nan || ratio <= o.AllowedDecrease):
		r.Classification = Low
		r.Reason = fmt.Sprintf("the canary is lower: the %g%% interval of the shift is [%.4g, %.4g], below %.4g", cl.Confidence*100, mw.Lower, mw.Upper, -bound)
		r.Critical = o.Critical && (nan || ratio <= o.CriticalDecrease)
	}
	if r.Critical {
		r.Reason += " (critical)"
	}
	return r
}

// cles is Kayenta's EffectSizes.cles: (2·R₁ − m(m+1)) / (2nm), R₁ the
// rank sum of the m canary values among all, n the baseline's count.
func cles(control, experiment []float64) float64 {
	m, n := float64(len(experiment)), float64(len(control))
	ranks, _ := rank(append(slices.Clone(experiment), control...))
	var r1 float64
	for _, r := range ranks[:len(experiment)] {
		r1 += r
	}
	return (2*r1 - m*(m+1)) / (2 * n * m)
}

// removeOutliers is Kayenta's IQRDetector with reduceSensitivity: a value
// is an outlier below min(p1, p25 − factor·IQR) or above
// max(p99, p75 + factor·IQR), percentiles estimated as R-7.
func removeOutliers(v []float64, factor float64) []float64 {
	if len(v) == 0 {
		return v
	}
	s := sorted(v)
	p25, p75 := percentileR7(s, 25), percentileR7(s, 75)
	iqr := p75 - p25
	lower := min(percentileR7(s, 1), p25-factor*iqr)
	upper := max(percentileR7(s, 99), p75+factor*iqr)
	return slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return x < lower || x > upper })
}

// percentileR7 is the p-th percentile of sorted s by R's type 7 (linear
// interpolation between the closest ranks), as commons-math's
// Percentile with EstimationType.R_7.
func percentileR7(s []float64, p float64) float64 {
	h := (float64(len(s))-1)*p/100 + 1
	lo := math.Floor(h)
	switch {
	case lo < 1:
		return s[0]
	case lo >= float64(len(s)):
		return s[len(s)-1]
	}
	i := int(lo) - 1
	return s[i] + (h-lo)*(s[i+1]-s[i])
}

func handleNaN(v []float64, s NaNStrategy) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if math.IsNaN(x) {
			if s == ReplaceNaN {
				out = append(out, 0)
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// addNoise adds Gaussian noise with a standard deviation of 1e-5 times
// the (single) value, as Kayenta does for two constant samples.
func addNoise(v []float64, rng *rand.Rand) []float64 {
	sd := v[0] * 1e-5
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x + rng.NormFloat64()*sd
	}
	return out
}

func sorted(v []float64) []float64 { s := slices.Clone(v); slices.Sort(s); return s }

func distinct(v []float64) int { return len(slices.Compact(sorted(v))) }

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Number is a float64 that JSON can carry whatever its value: NaN is
// null and the infinities are "+Inf" and "-Inf", as Prometheus writes
// them.
type Number float64

// MarshalJSON writes the number.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}
