package canary

import (
	"errors"
	"math"
	"slices"
)

// MannWhitneyResult is the two-sample location shift of x (the canary)
// against y (the baseline): a confidence interval and the Hodges-Lehmann
// estimate.
type MannWhitneyResult struct {
	Lower, Upper float64
	Estimate     float64
}

// ErrAllTied is returned when every observation is tied: the rank sum has
// no variance and no interval exists.
var ErrAllTied = errors.New("cannot compute a confidence interval when all observations are tied")

// MannWhitney inverts the Mann-Whitney (Wilcoxon rank-sum) test for a
// confidence interval of the shift x − y at level conf, as R's
// wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE) and
// Kayenta's MannWhitney.scala do: the normal approximation with tie and
// continuity corrections, each bound found by Brent's method on
// [min x − max y, max x − min y] and clamped to it. Neither sample may be
// empty or hold NaN.
func MannWhitney(x, y []float64, conf float64) (MannWhitneyResult, error) {
	if len(x) == 0 || len(y) == 0 {
		return MannWhitneyResult{}, errors.New("both samples need at least one value")
	}
	muMin := slices.Min(x) - slices.Max(y)
	muMax := slices.Max(x) - slices.Min(y)
	var err error
	f := func(zq float64) func(float64) float64 {
		return func(mu float64) float64 {
			v, e := wilcoxonDiff(mu, zq, x, y)
			if e != nil {
				err = e
			}
			return v
		}
	}
	root := func(zq float64) float64 {
		g := f(zq)
		lo, hi := g(muMin), g(muMax)
		switch {
		case lo <= 0:
			return muMin
		case hi >= 0:
			return muMax
		}
		return zeroin(muMin, muMax, lo, hi, g)
	}
	z := normalQuantile((1 - conf) / 2)
	r := MannWhitneyResult{Lower: root(-z), Upper: root(z)}
	g := f(0)
	r.Estimate = zeroin(muMin, muMax, g(muMin), g(muMax), g)
	if err != nil {
		return MannWhitneyResult{}, err
	}
	return r, nil
}

// wilcoxonDiff is the standardised rank-sum statistic of x − mu against y
// minus the quantile zq: R's wdiff.
func wilcoxonDiff(mu, zq float64, x, y []float64) (float64, error) {
	nx, ny := float64(len(x)), float64(len(y))
	all := make([]float64, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, v-mu)
	}
	all = append(all, y...)
	ranks, ties := rank(all)
	var sx float64
	for i := range x {
		sx += ranks[i]
	}
	dz := sx - nx*(nx+1)/2 - nx*ny/2
	correction := 0.0
	switch {
	case dz > 0:
		correction = 0.5
	case dz < 0:
		correction = -0.5
	}
	sigma := math.Sqrt(nx * ny / 12 * ((nx + ny + 1) - ties/((nx+ny)*(nx+ny-1))))
	if sigma == 0 || math.IsNaN(sigma) {
		return 0, ErrAllTied
	}
	return (dz-correction)/sigma - zq, nil
}

// rank returns the ranks of v (1-based, ties given their average rank) and
// Σ(t³ − t) over the groups of t tied values.
func rank(v []float64) ([]float64, float64) {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	ranks := make([]float64, len(v))
	var ties float64
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			ranks[idx[k]] = avg
		}
		if t := float64(j - i); t > 1 {
			ties += t*t*t - t
		}
		i = j
	}
	return ranks, ties
}

// zeroin finds a zero of f in [a, b], where fa = f(a) and fb = f(b) have
// opposite signs, by Brent's method with absolute tolerance 1e-4 and at
// most 1,000 iterations: R's R_zeroin2, which uniroot, wilcox.test and
// Kayenta's BrentSolver use. When they do not bracket a zero it returns
// the last approximation, as R_zeroin2 does.
func zeroin(a, b, fa, fb float64, f func(float64) float64) float64 {
	const (
		tol     = 1e-4
		epsilon = 2.220446049250313e-16
	)
	if fa == 0 {
		return a
	}
	if fb == 0 {
		return b
	}
	c, fc := a, fa
	for range 1001 {
		prevStep := b - a
		if math.Abs(fc) < math.Abs(fb) {
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tolAct := 2*epsilon*math.Abs(b) + tol/2
		newStep := (c - b) / 2
		if math.Abs(newStep) <= tolAct || fb == 0 {
			return b
		}
		if math.Abs(prevStep) >= tolAct && math.Abs(fa) > math.Abs(fb) {
			var p, q float64
			cb := c - b
			if a == c { // two points: linear interpolation
				t1 := fb / fa
				p = cb * t1
				q = 1 - t1
			} else { // inverse quadratic interpolation
				q = fa / fc
				t1 := fb / fc
				t2 := fb / fa
				p = t2 * (cb*q*(q-t1) - (b-a)*(t1-1))
				q = (q - 1) * (t1 - 1) * (t2 - 1)
			}
			if p > 0 {
				q = -q
			} else {
				p = -p
			}
			if p < 0.75*cb*q-math.Abs(tolAct*q)/2 && p < math.Abs(prevStep*q/2) {
				newStep = p / q
			}
		}
		if math.Abs(newStep) < tolAct {
			if newStep > 0 {
				newStep = tolAct
			} else {
				newStep = -tolAct
			}
		}
		a, fa = b, fb
		b += newStep
		fb = f(b)
		if (fb > 0 && fc > 0) || (fb < 0 && fc < 0) {
			c, fc = a, fa
		}
	}
	return b
}

// normalQuantile is Φ⁻¹(p), the standard normal quantile.
func normalQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }
