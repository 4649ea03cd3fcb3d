package canary

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func res(group string, c Classification, critical bool) Scored {
	return Scored{Group: group, Result: MetricResult{Classification: c, Critical: critical}}
}

// TestScorerSuite ports Kayenta's ScorerSuite (WeightedSumScorer).
func TestScorerSuite(t *testing.T) {
	cases := []struct {
		name    string
		weights map[string]float64
		results []Scored
		want    float64
	}{
		{"single metric pass", nil, []Scored{res("g", Pass, false)}, 100},
		{"single metric fail", nil, []Scored{res("g", High, false)}, 0},
		{"single group nodata", nil, []Scored{res("nodata", Nodata, false)}, 0},
		{"two groups, one pass, one nodata", nil, []Scored{res("pass", Pass, false), res("pass", Pass, false), res("nodata", Nodata, false)}, 100},
		{"one group, two metrics", nil, []Scored{res("g", Pass, false), res("g", High, false)}, 50},
		{"one group, three metrics", nil, []Scored{res("g", Pass, false), res("g", High, false), res("g", Low, false)}, 33.33},
		{"two groups, three metrics", map[string]float64{"group-1": 75, "group-2": 25}, []Scored{res("group-1", Pass, false), res("group-1", Pass, false), res("group-2", High, false)}, 75},
		{"two groups, equal weight", map[string]float64{"group-1": 50, "group-2": 50}, []Scored{res("group-1", Pass, false), res("group-1", High, false), res("group-2", High, false)}, 25},
		{"two groups, equal weight, one nodata", map[string]float64{"group-1": 50, "group-2": 50}, []Scored{res("group-1", Pass, false), res("group-1", Nodata, false), res("group-2", High, false)}, 50},
		{"one good, one critical fail", nil, []Scored{res("g", Pass, false), res("g", High, true)}, 0},
		{"one low, one critical pass", nil, []Scored{res("g", Low, false), res("g", Pass, true)}, 50},
		{"one good, one critical nodata", nil, []Scored{res("g", Pass, false), res("g", Nodata, true)}, 0},
		{"unequal weights, four metrics", map[string]float64{"group1": 15, "group2": 85}, []Scored{res("group1", High, false), res("group1", Low, false), res("group1", Pass, false), res("group2", High, false)}, 5},
		// Not in the suite: NodataFailMetric counts as a failure.
		{"nodata fail metric", nil, []Scored{res("g", Pass, false), res("g", NodataFailMetric, false)}, 50},
		// Unweighted groups share what the weights leave: 60 + 2·20.
		{"shared weight", map[string]float64{"a": 60}, []Scored{res("a", Pass, false), res("b", Pass, false), res("c", High, false)}, 80},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := WeightedScore(tc.results, tc.weights, Thresholds{Pass: 95, Marginal: 75})
			require.InDelta(t, tc.want, s.Score, 0)
		})
	}
}

func TestScoreVerdict(t *testing.T) {
	th := Thresholds{Pass: 95, Marginal: 75}
	s := WeightedScore([]Scored{res("a", Pass, false)}, nil, th)
	require.Equal(t, VerdictPass, s.Verdict)
	s = WeightedScore([]Scored{res("a", Pass, false), res("a", Pass, false), res("a", Pass, false), res("a", High, false)}, nil, th)
	require.Equal(t, VerdictMarginal, s.Verdict)
	require.InDelta(t, 75.0, s.Score, 0)
	s = WeightedScore([]Scored{res("a", Pass, false), res("b", Nodata, false)}, nil, th)
	require.Equal(t, VerdictFail, s.Verdict)
	require.True(t, s.TooManyNodata, "half the results are Nodata")
	require.Contains(t, s.Reason, "50% or more metrics returned NODATA")
}
