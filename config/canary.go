package config

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
)

// CanaryConfig is the canary section of gatewatch.yaml: what `gatewatch
// canary judge` compares, how it scores, and where the generated Flagger
// and Argo Rollouts checks find Prometheus.
type CanaryConfig struct {
	// Track is the track under test (canary); Baseline the one it is
	// compared with (baseline). Blue-green: track green, baseline blue.
	Track    string `yaml:"track"`
	Baseline string `yaml:"baseline"`
	// Window is how far back the judge reads samples (10m), Step the
	// distance between samples (30s) and RateInterval the range of each
	// sample's rate (1m).
	Window       Duration `yaml:"window"`
	Step         Duration `yaml:"step"`
	RateInterval Duration `yaml:"rate_interval"`
	// MinRequests is the traffic each track must have served to an
	// endpoint within the window for the endpoint to be judged (100).
	MinRequests float64 `yaml:"min_requests"`
	// PassThreshold and MarginalThreshold classify the score (95, 75).
	PassThreshold     float64 `yaml:"pass_threshold"`
	MarginalThreshold float64 `yaml:"marginal_threshold"`
	// GroupWeights weigh metric groups in the score (percent); groups
	// without a weight share what is left of 100.
	GroupWeights map[string]float64 `yaml:"group_weights"`
	// ErrorRatio and LatencyP99 tune the two built-in metrics.
	ErrorRatio CanaryMetricOptions `yaml:"error_ratio"`
	LatencyP99 CanaryMetricOptions `yaml:"latency_p99"`
	// Metrics are further PromQL metrics to compare.
	Metrics []CanaryMetric `yaml:"metrics"`
	// PrometheusURL is the Prometheus the generated Flagger and Argo
	// Rollouts checks query (http://prometheus.monitoring:9090).
	PrometheusURL string `yaml:"prometheus_url"`
	// Interval is how often Flagger and Argo Rollouts run the checks (1m);
	// FailureLimit how many failed checks roll back (3).
	Interval     Duration `yaml:"interval"`
	FailureLimit int      `yaml:"failure_limit"`
}

// CanaryMetricOptions are the analysis settings of one canary metric, as
// Kayenta's analysisConfigurations.canary.
type CanaryMetricOptions struct {
	// Group is the score group (errors, latency; a named metric's own
	// name by default).
	Group string `yaml:"group"`
	// Direction is increase, decrease or either: which change fails.
	Direction string `yaml:"direction"`
	// NaNStrategy is remove (default) or replace (NaN becomes 0).
	NaNStrategy string `yaml:"nan_strategy"`
	// Critical fails the whole canary when the metric fails.
	Critical bool `yaml:"critical"`
	// MustHaveData counts missing data as a failure.
	MustHaveData bool `yaml:"must_have_data"`
	// Outliers is keep (the default) or remove: drop samples beyond IQR
	// fences OutlierFactor (3) interquartile ranges out.
	Outliers      string  `yaml:"outliers"`
	OutlierFactor float64 `yaml:"outlier_factor"`
	// EffectSize is meanRatio (canary/baseline, the default) or cles
	// (the share of pairs where the canary is higher).
	EffectSize string `yaml:"effect_size"`
	// AllowedIncrease and AllowedDecrease are the effect sizes a High or
	// Low must also reach (1 for meanRatio, 0.5 for cles).
	AllowedIncrease float64 `yaml:"allowed_increase"`
	AllowedDecrease float64 `yaml:"allowed_decrease"`
	// CriticalIncrease and CriticalDecrease are the effect sizes beyond
	// which a critical metric fails the canary (as above).
	CriticalIncrease float64 `yaml:"critical_increase"`
	CriticalDecrease float64 `yaml:"critical_decrease"`
}

// CanaryMetric is a metric named in gatewatch.yaml.
type CanaryMetric struct {
	// Name identifies the metric in the judge's table.
	Name string `yaml:"name"`
	// Query is PromQL, a Go template with .Selector (the gateway and track
	// matchers, to put inside braces), .Rate (the rate interval) and
	// .Gateway; its series must keep the track label and may keep
	// endpoint and method.
	Query               string `yaml:"query"`
	CanaryMetricOptions `yaml:",inline"`
}

// CanaryQueryData is what a metric's query template sees.
type CanaryQueryData struct {
	Selector string
	Rate     string
	Gateway  string
}

// Render fills a metric's query template.
func (m CanaryMetric) Render(d CanaryQueryData) (string, error) {
	t, err := template.New(m.Name).Option("missingkey=error").Parse(m.Query)
	if err != nil {
		return "", fmt.Errorf("parsing query template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("executing query template: %w", err)
	}
	return b.String(), nil
}

// Built-in canary metric names.
const (
	CanaryErrorRatio = "error_ratio"
	CanaryLatencyP99 = "latency_p99"
)

// Defaults of the canary section.
const (
	DefaultCanaryPrometheusURL = "http://prometheus.monitoring:9090"
)

var canaryMetricName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (c *CanaryConfig) applyDefaults() {
	if c.Track == "" {
		c.Track = "canary"
	}
	if c.Baseline == "" {
		c.Baseline = "baseline"
	}
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&c.Window, 10*time.Minute)
	def(&c.Step, 30*time.Second)
	def(&c.RateInterval, time.Minute)
	def(&c.Interval, time.Minute)
	if c.MinRequests == 0 {
		c.MinRequests = 100
	}
	if c.PassThreshold == 0 {
		c.PassThreshold = 95
	}
	if c.MarginalThreshold == 0 {
		c.MarginalThreshold = 75
	}
	if c.FailureLimit == 0 {
		c.FailureLimit = 3
	}
	if c.PrometheusURL == "" {
		c.PrometheusURL = DefaultCanaryPrometheusURL
	}
	if c.ErrorRatio.Group == "" {
		c.ErrorRatio.Group = "errors"
	}
	if c.LatencyP99.Group == "" {
		c.LatencyP99.Group = "latency"
	}
	for _, o := range []*CanaryMetricOptions{&c.ErrorRatio, &c.LatencyP99} {
		if o.Direction == "" {
			o.Direction = "increase"
		}
	}
	for i := range c.Metrics {
		m := &c.Metrics[i]
		if m.Group == "" {
			m.Group = m.Name
		}
		if m.Direction == "" {
			m.Direction = "either"
		}
	}
}

func (c *CanaryConfig) validate(v *validator) {
	at := []any{"canary"}
	k := func(key ...any) []any { return append(slices.Clone(at), key...) }
	for _, t := range []struct {
		key, val string
	}{{"track", c.Track}, {"baseline", c.Baseline}} {
		if !oneOf(t.val, Tracks) {
			v.errorf(k(t.key), "unknown track %q; expected one of %s", t.val, strings.Join(Tracks, ", "))
		}
	}
	if c.Track == c.Baseline {
		v.errorf(k("baseline"), "the baseline must differ from the track under test (%q)", c.Track)
	}
	for _, d := range []struct {
		key string
		d   Duration
	}{{"window", c.Window}, {"step", c.Step}, {"rate_interval", c.RateInterval}, {"interval", c.Interval}} {
		if d.d < 0 {
			v.errorf(k(d.key), "must not be negative")
		}
	}
	if c.Step > 0 && c.Window > 0 && c.Window < 3*c.Step {
		v.errorf(k("window"), "window %s holds fewer than 3 steps of %s; the judge needs several samples per track", c.Window, c.Step)
	}
	if c.MinRequests < 0 {
		v.errorf(k("min_requests"), "must not be negative")
	}
	if c.PassThreshold < 0 || c.PassThreshold > 100 {
		v.errorf(k("pass_threshold"), "%g is not a score; expected 0 to 100", c.PassThreshold)
	}
	if c.MarginalThreshold < 0 || c.MarginalThreshold > c.PassThreshold {
		v.errorf(k("marginal_threshold"), "%g must lie between 0 and pass_threshold (%g)", c.MarginalThreshold, c.PassThreshold)
	}
	var sum float64
	for _, g := range sortedKeys(c.GroupWeights) {
		w := c.GroupWeights[g]
		if w < 0 {
			v.errorf(k("group_weights", g), "weight %g must not be negative", w)
		}
		sum += w
	}
	if sum > 100 {
		v.errorf(k("group_weights"), "weights add up to %g; expected at most 100", sum)
	}
	if c.FailureLimit < 0 {
		v.errorf(k("failure_limit"), "must not be negative")
	}
	if u, err := url.Parse(c.PrometheusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(k("prometheus_url"), "%q is not an http(s) URL; expected Prometheus' address as the cluster sees it, such as %s", c.PrometheusURL, DefaultCanaryPrometheusURL)
	}
	c.ErrorRatio.validate(v, k(CanaryErrorRatio))
	c.LatencyP99.validate(v, k(CanaryLatencyP99))
	seen := map[string]bool{CanaryErrorRatio: true, CanaryLatencyP99: true}
	for i, m := range c.Metrics {
		ma := k("metrics", i)
		switch {
		case !canaryMetricName.MatchString(m.Name):
			v.errorf(append(slices.Clone(ma), "name"), "%q is not a metric name; expected lower-case letters, digits and _", m.Name)
		case seen[m.Name]:
			v.errorf(append(slices.Clone(ma), "name"), "%q is used twice (error_ratio and latency_p99 are built in; tune them under canary.error_ratio and canary.latency_p99)", m.Name)
		}
		seen[m.Name] = true
		if strings.TrimSpace(m.Query) == "" {
			v.errorf(append(slices.Clone(ma), "query"), "query must be set: PromQL whose series keep the track label, e.g. sum by (track) (rate(my_total{ {{ .Selector }} }[{{ .Rate }}]))")
		} else if _, err := m.Render(CanaryQueryData{Selector: `gateway="g"`, Rate: "1m", Gateway: "g"}); err != nil {
			v.errorf(append(slices.Clone(ma), "query"), "%v; expected a Go template using .Selector, .Rate or .Gateway", err)
		}
		m.validate(v, ma)
	}
}

func (o *CanaryMetricOptions) validate(v *validator, at []any) {
	k := func(key string) []any { return append(slices.Clone(at), key) }
	if o.Direction != "" && !oneOf(o.Direction, []string{"increase", "decrease", "either"}) {
		v.errorf(k("direction"), "unknown direction %q; expected increase, decrease or either", o.Direction)
	}
	if o.NaNStrategy != "" && !oneOf(o.NaNStrategy, []string{"remove", "replace"}) {
		v.errorf(k("nan_strategy"), "unknown NaN strategy %q; expected remove or replace", o.NaNStrategy)
	}
	if o.Outliers != "" && !oneOf(o.Outliers, []string{"keep", "remove"}) {
		v.errorf(k("outliers"), "unknown outlier strategy %q; expected keep or remove", o.Outliers)
	}
	if o.OutlierFactor < 0 {
		v.errorf(k("outlier_factor"), "%g must not be negative", o.OutlierFactor)
	}
	if o.EffectSize != "" && !oneOf(o.EffectSize, []string{"meanRatio", "cles"}) {
		v.errorf(k("effect_size"), "unknown effect size %q; expected meanRatio or cles", o.EffectSize)
	}
	for _, r := range []struct {
		key string
		v   float64
	}{{"allowed_increase", o.AllowedIncrease}, {"allowed_decrease", o.AllowedDecrease}, {"critical_increase", o.CriticalIncrease}, {"critical_decrease", o.CriticalDecrease}} {
		if r.v < 0 {
			v.errorf(k(r.key), "ratio %g must not be negative", r.v)
		}
	}
}
