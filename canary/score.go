package canary

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Verdict is the judgement of the whole canary.
type Verdict string

// Verdicts.
const (
	VerdictPass     Verdict = "pass"
	VerdictMarginal Verdict = "marginal"
	VerdictFail     Verdict = "fail"
)

// Thresholds classify the summary score: pass at or above Pass, marginal
// at or above Marginal, fail below (Spinnaker's usual 95 and 75).
type Thresholds struct {
	Pass, Marginal float64
}

// Scored is one metric result with the group it is scored in.
type Scored struct {
	Group  string
	Result MetricResult
}

// GroupScore is a metric group's score: Pass/(Pass+High+Low+NodataFailMetric)·100.
type GroupScore struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
	// NoData is set when no metric of the group had a comparable result;
	// the group then counts as 100 in the summary.
	NoData bool `json:"no_data"`
}

// Score is the judge's summary.
type Score struct {
	Score   float64      `json:"score"`
	Verdict Verdict      `json:"verdict"`
	Reason  string       `json:"reason,omitempty"`
	Groups  []GroupScore `json:"groups"`
	// TooManyNodata is set when NodataThreshold % or more of the
	// results were Nodata.
	TooManyNodata bool `json:"too_many_nodata"`
}

// WeightedScore scores results as Kayenta's WeightedSumScorer does and
// classifies the score as its ThresholdScoreClassifier does: groups with a
// weight get it, the others share what the weights leave of 100; a group
// without comparable data counts 100; the summary is rounded to two
// decimals; a critical failure or NodataThreshold % of Nodata results
// makes it 0.
func WeightedScore(results []Scored, weights map[string]float64, th Thresholds) Score {
	type counts struct{ pass, fail int }
	byGroup := map[string]*counts{}
	var names []string
	for _, r := range results {
		c := byGroup[r.Group]
		if c == nil {
			c = &counts{}
			byGroup[r.Group] = c
			names = append(names, r.Group)
		}
		switch r.Result.Classification {
		case Pass:
			c.pass++
		case High, Low, NodataFailMetric:
			c.fail++
		}
	}
	slices.Sort(names)
	var s Score
	var weightSum float64
	for _, w := range weights {
		weightSum += w
	}
	unweighted := 0
	for _, n := range names {
		if _, ok := weights[n]; !ok {
			unweighted++
		}
	}
	shared := 0.0
	if unweighted > 0 {
		shared = (100 - weightSum) / float64(unweighted)
	}
	var summary float64
	for _, n := range names {
		c := byGroup[n]
		g := GroupScore{Name: n}
		if total := c.pass + c.fail; total == 0 {
			g.NoData = true
		} else {
			g.Score = float64(c.pass) / float64(total) * 100
		}
		s.Groups = append(s.Groups, g)
		effective := g.Score
		if g.NoData {
			effective = 100
		}
		w, ok := weights[n]
		if !ok {
			w = shared
		}
		summary += effective * w / 100
	}
	nodata := 0
	var critical []string
	for _, r := range results {
		if r.Result.Classification == Nodata {
			nodata++
		}
		if r.Result.Critical && r.Result.Classification != Pass {
			critical = append(critical, r.Result.Reason)
		}
	}
	switch {
	case len(critical) > 0:
		s.Reason = "canary failed: " + critical[0]
	case len(results) > 0 && float64(nodata)/float64(len(results))*100 >= NodataThreshold:
		s.TooManyNodata = true
		s.Reason = fmt.Sprintf("canary failed: %d%% or more metrics returned NODATA", NodataThreshold)
	case len(results) == 0:
		s.TooManyNodata = true
		s.Reason = "canary failed: no metrics to judge"
	default:
		s.Score = math.Round(summary*100) / 100
	}
	switch {
	case s.Score >= th.Pass:
		s.Verdict = VerdictPass
	case s.Score >= th.Marginal:
		s.Verdict = VerdictMarginal
	default:
		s.Verdict = VerdictFail
	}
	s.Reason = strings.TrimSpace(s.Reason)
	return s
}
