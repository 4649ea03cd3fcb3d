package canary

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/schema"
)

// GatewayWide is the endpoint of a metric whose series have no endpoint
// label.
const GatewayWide = "*"

// Querier is the part of the Prometheus HTTP API the judge uses;
// v1.NewAPI's value is one.
type Querier interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
	QueryRange(ctx context.Context, query string, r v1.Range, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
}

// Request says what to judge.
type Request struct {
	// Gateway is the gateway label's value.
	Gateway string
	// End is the end of the window.
	End time.Time
	// Config is the canary section (with its defaults applied).
	Config config.CanaryConfig
}

// EndpointResult is one metric of one endpoint.
type EndpointResult struct {
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	Metric   string `json:"metric"`
	Group    string `json:"group"`
	// Samples and means of each track, after NaN handling.
	CanarySamples   int    `json:"canary_samples"`
	BaselineSamples int    `json:"baseline_samples"`
	CanaryMean      Number `json:"canary_mean"`
	BaselineMean    Number `json:"baseline_mean"`
	MetricResult
}

// Skipped is an endpoint with too little traffic on a track to be judged.
type Skipped struct {
	Endpoint         string  `json:"endpoint"`
	Method           string  `json:"method"`
	CanaryRequests   float64 `json:"canary_requests"`
	BaselineRequests float64 `json:"baseline_requests"`
}

// Report is the judge's whole answer.
type Report struct {
	Gateway  string           `json:"gateway"`
	Track    string           `json:"track"`
	Baseline string           `json:"baseline"`
	Start    time.Time        `json:"start"`
	End      time.Time        `json:"end"`
	Step     string           `json:"step"`
	Results  []EndpointResult `json:"results"`
	Skipped  []Skipped        `json:"skipped"`
	Score    Score            `json:"score"`
	// NotEnoughData is set when no endpoint had enough traffic on both
	// tracks, or too many metrics had no data: the judge could not judge.
	NotEnoughData bool `json:"not_enough_data"`
}

// Queries are the PromQL expressions of the built-in metrics, for one
// gateway and pair of tracks.
type Queries struct {
	Traffic    string
	ErrorRatio string
	LatencyP99 string
	Selector   string
}

var by = "by (" + schema.LabelEndpoint + ", " + schema.LabelMethod + ", " + schema.LabelTrack + ")"

// BuildQueries writes the judge's queries: requests per endpoint, method
// and track over the window, the 5xx ratio and the p99 latency per step
// over the rate interval. Every name comes from the schema package.
func BuildQueries(gateway string, c config.CanaryConfig) Queries {
	sel := schema.LabelGateway + "=" + strconv.Quote(gateway) + ", " +
		schema.LabelTrack + "=~" + strconv.Quote(regexp.QuoteMeta(c.Track)+"|"+regexp.QuoteMeta(c.Baseline))
	rate := c.RateInterval.String()
	total := func(extra string) string {
		s := sel
		if extra != "" {
			s += ", " + extra
		}
		return fmt.Sprintf("sum %s (rate(%s{%s}[%s]))", by, schema.RequestsTotal.Name, s, rate)
	}
	errs := total(schema.LabelCode + `=~"5.."`)
	all := total("")
	return Queries{
		Selector: sel,
		Traffic:  fmt.Sprintf("sum %s (increase(%s{%s}[%s]))", by, schema.RequestsTotal.Name, sel, c.Window),
		// An endpoint without a single 5xx has no error series; "or 0 *"
		// gives it a ratio of 0 where it had traffic.
		ErrorRatio: fmt.Sprintf("(%s or 0 * %s) / %s", errs, all, all),
		LatencyP99: fmt.Sprintf("histogram_quantile(0.99, sum by (%s, %s, %s, %s) (rate(%s{%s}[%s])))",
			schema.LabelEndpoint, schema.LabelMethod, schema.LabelTrack, schema.LabelLE,
			schema.RequestDuration.Name+schema.BucketSuffix, sel, rate),
	}
}

type seriesKey struct{ endpoint, method, track string }

type epKey struct{ endpoint, method string }

// Judge reads the samples from Prometheus and judges every endpoint with
// enough traffic on both tracks.
func Judge(ctx context.Context, q Querier, req Request) (*Report, error) {
	c := req.Config
	qs := BuildQueries(req.Gateway, c)
	start := req.End.Add(-c.Window.Std())
	rep := &Report{
		Gateway: req.Gateway, Track: c.Track, Baseline: c.Baseline,
		Start: start, End: req.End, Step: c.Step.String(),
		Results: []EndpointResult{}, Skipped: []Skipped{},
	}
	traffic, err := instant(ctx, q, qs.Traffic, req.End)
	if err != nil {
		return nil, err
	}
	var eps []epKey
	seen := map[epKey]bool{}
	for k := range traffic {
		e := epKey{k.endpoint, k.method}
		if !seen[e] {
			seen[e] = true
			eps = append(eps, e)
		}
	}
	slices.SortFunc(eps, func(a, b epKey) int {
		return strings.Compare(a.endpoint+"\x00"+a.method, b.endpoint+"\x00"+b.method)
	})
	var judged []epKey
	for _, e := range eps {
		cr := traffic[seriesKey{e.endpoint, e.method, c.Track}]
		br := traffic[seriesKey{e.endpoint, e.method, c.Baseline}]
		if cr < c.MinRequests || br < c.MinRequests {
			rep.Skipped = append(rep.Skipped, Skipped{Endpoint: e.endpoint, Method: e.method, CanaryRequests: cr, BaselineRequests: br})
			continue
		}
		judged = append(judged, e)
	}
	if len(judged) == 0 {
		rep.NotEnoughData = true
		rep.Score = Score{Verdict: VerdictFail, Reason: fmt.Sprintf("no endpoint served %g requests on both the %s and the %s track within %s", c.MinRequests, c.Track, c.Baseline, c.Window), Groups: []GroupScore{}}
		return rep, nil
	}
	rng := v1.Range{Start: start, End: req.End, Step: c.Step.Std()}
	type metric struct {
		name, query string
		opts        config.CanaryMetricOptions
		builtIn     bool
	}
	metrics := []metric{
		{config.CanaryErrorRatio, qs.ErrorRatio, c.ErrorRatio, true},
		{config.CanaryLatencyP99, qs.LatencyP99, c.LatencyP99, true},
	}
	for _, m := range c.Metrics {
		query, err := m.Render(config.CanaryQueryData{Selector: qs.Selector, Rate: c.RateInterval.String(), Gateway: req.Gateway})
		if err != nil {
			return nil, fmt.Errorf("canary metric %s: %w", m.Name, err)
		}
		metrics = append(metrics, metric{m.Name, query, m.CanaryMetricOptions, false})
	}
	cl := NewClassifier()
	var scored []Scored
	for _, m := range metrics {
		samples, err := matrix(ctx, q, m.query, rng)
		if err != nil {
			return nil, fmt.Errorf("canary metric %s: %w", m.name, err)
		}
		// The built-in metrics are per endpoint even when a track has no
		// series at all (Nodata for each endpoint); a metric of
		// gatewatch.yaml whose series have no endpoint label is judged
		// once, gateway-wide.
		targets := judged
		if !m.builtIn && !hasEndpoint(samples) {
			targets = []epKey{{GatewayWide, ""}}
		}
		opts := options(m.opts)
		for _, e := range targets {
			base := samples[seriesKey{e.endpoint, e.method, c.Baseline}]
			can := samples[seriesKey{e.endpoint, e.method, c.Track}]
			r := cl.Classify(base, can, opts)
			cs, bs := handleNaN(can, opts.NaNStrategy), handleNaN(base, opts.NaNStrategy)
			rep.Results = append(rep.Results, EndpointResult{
				Endpoint: e.endpoint, Method: e.method, Metric: m.name, Group: m.opts.Group,
				CanarySamples: len(cs), BaselineSamples: len(bs),
				CanaryMean: meanOrNaN(cs), BaselineMean: meanOrNaN(bs),
				MetricResult: r,
			})
			scored = append(scored, Scored{Group: m.opts.Group, Result: r})
		}
	}
	rep.Score = WeightedScore(scored, c.GroupWeights, Thresholds{Pass: c.PassThreshold, Marginal: c.MarginalThreshold})
	rep.NotEnoughData = rep.Score.TooManyNodata
	return rep, nil
}

func options(o config.CanaryMetricOptions) MetricOptions {
	return MetricOptions{
		Direction: Direction(o.Direction), NaNStrategy: NaNStrategy(o.NaNStrategy),
		Critical: o.Critical, MustHaveData: o.MustHaveData, EffectSize: EffectSize(o.EffectSize),
		RemoveOutliers: o.Outliers == "remove", OutlierFactor: o.OutlierFactor,
		AllowedIncrease: o.AllowedIncrease, AllowedDecrease: o.AllowedDecrease,
		CriticalIncrease: o.CriticalIncrease, CriticalDecrease: o.CriticalDecrease,
	}.Defaults()
}

func meanOrNaN(v []float64) Number {
	if len(v) == 0 {
		return Number(math.NaN())
	}
	return Number(mean(v))
}

func hasEndpoint(m map[seriesKey][]float64) bool {
	for k := range m {
		if k.endpoint != GatewayWide {
			return true
		}
	}
	return false
}

func key(m model.Metric) seriesKey {
	k := seriesKey{
		endpoint: string(m[model.LabelName(schema.LabelEndpoint)]),
		method:   string(m[model.LabelName(schema.LabelMethod)]),
		track:    string(m[model.LabelName(schema.LabelTrack)]),
	}
	if _, ok := m[model.LabelName(schema.LabelEndpoint)]; !ok {
		k.endpoint = GatewayWide
	}
	return k
}

func instant(ctx context.Context, q Querier, query string, ts time.Time) (map[seriesKey]float64, error) {
	v, _, _, err := q.Query(ctx, query, ts)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus (%s): %w", query, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("querying Prometheus (%s): expected a vector, got %s", query, v.Type())
	}
	out := map[seriesKey]float64{}
	for _, s := range vec {
		out[key(s.Metric)] += float64(s.Value)
	}
	return out, nil
}

func matrix(ctx context.Context, q Querier, query string, r v1.Range) (map[seriesKey][]float64, error) {
	v, _, _, err := q.QueryRange(ctx, query, r)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus (%s): %w", query, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("querying Prometheus (%s): expected a matrix, got %s", query, v.Type())
	}
	out := map[seriesKey][]float64{}
	for _, s := range m {
		if _, ok := s.Metric[model.LabelName(schema.LabelTrack)]; !ok {
			return nil, fmt.Errorf("query %s returned a series without the %s label (%s); aggregate by (%s) at least", query, schema.LabelTrack, s.Metric, schema.LabelTrack)
		}
		k := key(s.Metric)
		for _, p := range s.Values {
			out[k] = append(out[k], float64(p.Value))
		}
	}
	return out, nil
}
