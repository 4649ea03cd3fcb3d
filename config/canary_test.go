package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCanaryDefaults(t *testing.T) {
	c, err := Load("gw.yaml", nil)
	require.NoError(t, err)
	k := c.Canary
	require.Equal(t, "canary", k.Track)
	require.Equal(t, "baseline", k.Baseline)
	require.Equal(t, Duration(10*time.Minute), k.Window)
	require.Equal(t, Duration(30*time.Second), k.Step)
	require.Equal(t, Duration(time.Minute), k.RateInterval)
	require.InDelta(t, 100.0, k.MinRequests, 0)
	require.InDelta(t, 95.0, k.PassThreshold, 0)
	require.InDelta(t, 75.0, k.MarginalThreshold, 0)
	require.Equal(t, "errors", k.ErrorRatio.Group)
	require.Equal(t, "increase", k.LatencyP99.Direction)
	require.Equal(t, DefaultCanaryPrometheusURL, k.PrometheusURL)
	require.Equal(t, 3, k.FailureLimit)
}

func TestCanaryMetrics(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`
canary:
  track: green
  baseline: blue
  group_weights: {errors: 60, latency: 30}
  error_ratio: {critical: true, critical_increase: 2}
  metrics:
    - name: upstream_p90
      query: 'histogram_quantile(0.9, sum by (endpoint, method, track, le) (rate(my_seconds_bucket{ {{ .Selector }} }[{{ .Rate }}])))'
      direction: increase
`))
	require.NoError(t, err)
	k := c.Canary
	require.Equal(t, "green", k.Track)
	require.True(t, k.ErrorRatio.Critical)
	require.InDelta(t, 2.0, k.ErrorRatio.CriticalIncrease, 0)
	require.Len(t, k.Metrics, 1)
	m := k.Metrics[0]
	require.Equal(t, "upstream_p90", m.Group, "a metric is its own group by default")
	q, err := m.Render(CanaryQueryData{Selector: `gateway="shop", track=~"green|blue"`, Rate: "1m"})
	require.NoError(t, err)
	require.Equal(t, `histogram_quantile(0.9, sum by (endpoint, method, track, le) (rate(my_seconds_bucket{ gateway="shop", track=~"green|blue" }[1m])))`, q)
}

func TestCanaryErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown key", "canary:\n  treshold: 3\n", `gw.yaml:2:3: unknown key "treshold" in canary; expected one of: baseline, error_ratio, failure_limit, group_weights, interval, latency_p99, marginal_threshold, metrics, min_requests, pass_threshold, prometheus_url, rate_interval, step, track, window`},
		{"unknown metric key", "canary:\n  metrics:\n    - {name: a, query: x, critcal: true}\n", `gw.yaml:3:27: unknown key "critcal" in canary.metrics[0]; expected one of: allowed_decrease, allowed_increase, critical, critical_decrease, critical_increase, direction, effect_size, group, must_have_data, name, nan_strategy, outlier_factor, outliers, query`},
		{"bad track", "canary:\n  track: blu\n", `gw.yaml:2:3: canary.track: unknown track "blu"; expected one of stable, canary, baseline, blue, green`},
		{"same tracks", "canary:\n  track: blue\n  baseline: blue\n", `gw.yaml:3:3: canary.baseline: the baseline must differ from the track under test ("blue")`},
		{"short window", "canary:\n  window: 1m\n", `gw.yaml:2:3: canary.window: window 1m holds fewer than 3 steps of 30s`},
		{"thresholds", "canary:\n  pass_threshold: 80\n  marginal_threshold: 90\n", `gw.yaml:3:3: canary.marginal_threshold: 90 must lie between 0 and pass_threshold (80)`},
		{"weights", "canary:\n  group_weights: {errors: 70, latency: 40}\n", `gw.yaml:2:3: canary.group_weights: weights add up to 110; expected at most 100`},
		{"direction", "canary:\n  latency_p99: {direction: up}\n", `gw.yaml:2:17: canary.latency_p99.direction: unknown direction "up"; expected increase, decrease or either`},
		{"effect size", "canary:\n  error_ratio: {effect_size: cohen}\n", `gw.yaml:2:17: canary.error_ratio.effect_size: unknown effect size "cohen"; expected meanRatio or cles`},
		{"outliers", "canary:\n  latency_p99: {outliers: drop}\n", `gw.yaml:2:17: canary.latency_p99.outliers: unknown outlier strategy "drop"; expected keep or remove`},
		{"built-in name", "canary:\n  metrics:\n    - {name: error_ratio, query: x}\n", `gw.yaml:3:8: canary.metrics[0].name: "error_ratio" is used twice`},
		{"no query", "canary:\n  metrics:\n    - name: a\n", `gw.yaml:3:7: canary.metrics[0].query: query must be set`},
		{"bad template", "canary:\n  metrics:\n    - {name: a, query: 'x{ {{ .Selectr }} }'}\n", `gw.yaml:3:17: canary.metrics[0].query: executing query template:`},
		{"bad url", "canary:\n  prometheus_url: prometheus:9090\n", `gw.yaml:2:3: canary.prometheus_url: "prometheus:9090" is not an http(s) URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want prefix %q", err.Error(), tc.want)
		})
	}
}

func FuzzCanarySection(f *testing.F) {
	f.Add("canary: {}\n")
	f.Add("canary:\n  track: green\n  baseline: blue\n  window: 5m\n  step: 15s\n  group_weights: {errors: 70}\n")
	f.Add("canary:\n  error_ratio: {critical: true, critical_increase: 2}\n  metrics:\n    - {name: rps, query: 'sum by (track) (rate(x{ {{ .Selector }} }[{{ .Rate }}]))'}\n")
	f.Add("canary:\n  metrics:\n    - {name: a, query: '{{ .Nope }}'}\n  pass_threshold: 101\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Load("gw.yaml", []byte(in))
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "gw.yaml"), "error without the file name: %v", err)
			return
		}
		// A configuration that loads is usable by the judge.
		k := c.Canary
		require.NotEqual(t, k.Track, k.Baseline)
		require.Positive(t, k.Step.Std())
		require.GreaterOrEqual(t, k.Window, 3*k.Step)
		require.LessOrEqual(t, k.MarginalThreshold, k.PassThreshold)
		for _, m := range k.Metrics {
			_, err := m.Render(CanaryQueryData{Selector: `gateway="g"`, Rate: "1m", Gateway: "g"})
			require.NoError(t, err)
			require.NotEmpty(t, m.Group)
		}
	})
}
