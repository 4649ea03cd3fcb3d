package rules

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gatewatch/gatewatch/exporter"
)

// TestFile is a promtool (2.42) rule unit test file.
type TestFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []TestGroup `yaml:"tests"`
}

// TestGroup is one test: input series and the alerts expected from them.
type TestGroup struct {
	Name           string      `yaml:"name"`
	Interval       string      `yaml:"interval"`
	InputSeries    []Series    `yaml:"input_series"`
	AlertRuleTests []AlertTest `yaml:"alert_rule_test,omitempty"`
	PromQLTests    []ExprTest  `yaml:"promql_expr_test,omitempty"`
}

// Series is one input series in promtool's expanding notation.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest lists every alert of one name firing at EvalTime; an empty list
// means none may fire.
type AlertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []ExpAlert `yaml:"exp_alerts"`
}

// ExpAlert is one expected alert: its labels (without alertname) and all
// its annotations.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// ExprTest checks the value of a query.
type ExprTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []ExpSample `yaml:"exp_samples"`
}

// ExpSample is an expected sample of an ExprTest.
type ExpSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// seriesString writes metric{k="v",...} with sorted label names.
func seriesString(metric string, labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(labels[k])
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// counter writes a counter growing by step each interval for n intervals.
func counter(step float64, n int) string {
	return "0+" + strconv.FormatFloat(step, 'g', -1, 64) + "x" + strconv.Itoa(n)
}

// burnEvalMinutes are the evaluation times of the burn-rate tests: after
// the page rows' hold times and after the ticket rows'.
var burnEvalMinutes = []int{30, 240}

// testEvalMinutes is the evaluation interval of the unit tests; rules
// become pending at the first evaluation (minute 5) and the hold times of
// every row are whole multiples of it.
const testEvalMinutes = 5

const burnSamples = 240

// burnTests makes three tests of every SLO kind, each with one endpoint of
// every class: one where the endpoints burn their budget fast (the page
// rows fire, then the ticket rows), one where they are healthy and one
// where they fail but are below the traffic guard. The expected alerts are
// worked out from every rule of the kind, so a series that two classes
// select is expected from both.
func (g *generator) burnTests(kind sloKind, classes []class[sloKey], burns []burnRule) {
	if len(classes) == 0 {
		return
	}
	cases := []struct {
		what        string
		total, fail func(k sloKey) float64
	}{
		{"burn their budget",
			func(k sloKey) float64 { return burnTraffic(k) },
			func(k sloKey) float64 {
				n := burnTraffic(k)
				return math.Min(n, math.Max(1, math.Round(2*burnRows[0].factor*budgetOf(k.objective)*n)))
			}},
		{"are healthy",
			func(k sloKey) float64 { return burnTraffic(k) },
			func(k sloKey) float64 { return math.Floor(budgetOf(k.objective) / 2 * burnTraffic(k)) }},
		{"fail below the traffic guard",
			func(k sloKey) float64 { return k.minReq / 240 },
			func(k sloKey) float64 { return k.minReq / 480 }},
	}
	for _, c := range cases {
		tg := TestGroup{
			Name:     fmt.Sprintf("%s: endpoints of %d SLO classes %s", kind.alert, len(classes), c.what),
			Interval: "1m",
		}
		exp := make([][]ExpAlert, len(burnEvalMinutes))
		for i := range exp {
			exp[i] = []ExpAlert{}
		}
		for _, cl := range classes {
			e, m := cl.targets[0].sample()
			total, fail := c.total(cl.key), c.fail(cl.key)
			tg.InputSeries = append(tg.InputSeries, burnInput(kind, cl.key, e, m, total, fail)...)
			for i, at := range burnEvalMinutes {
				exp[i] = append(exp[i], expectBurn(burns, e, m, fail/total, total, at)...)
			}
		}
		for i, at := range burnEvalMinutes {
			tg.AlertRuleTests = append(tg.AlertRuleTests, AlertTest{
				EvalTime:  fmt.Sprintf("%dm", at),
				Alertname: kind.alert,
				ExpAlerts: exp[i],
			})
		}
		g.tests = append(g.tests, tg)
	}
}

// burnTraffic is the requests a minute of a test endpoint: plenty, and
// well above the traffic guard.
func burnTraffic(k sloKey) float64 { return math.Max(100000, math.Ceil(k.minReq/60*4)) }

// burnInput writes the series of an endpoint serving total requests a
// minute of which fail (5xx, or slower than the threshold) fail.
func burnInput(kind sloKind, k sloKey, e, m string, total, fail float64) []Series {
	l := map[string]string{exporter.LabelEndpoint: e, exporter.LabelMethod: m, exporter.LabelTrack: "stable"}
	with := func(kv ...string) map[string]string {
		c := maps.Clone(l)
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	if kind.name == SLOAvailability {
		return []Series{
			{seriesString(requestsTotal(), with(exporter.LabelCode, "200")), counter(total-fail, burnSamples)},
			{seriesString(requestsTotal(), with(exporter.LabelCode, "500")), counter(fail, burnSamples)},
		}
	}
	le := exporter.LE(k.threshold.Seconds())
	return []Series{
		{seriesString(requestsTotal(), with(exporter.LabelCode, "200")), counter(total, burnSamples)},
		{seriesString(durationBucketName(), with(exporter.LabelLE, le)), counter(total-fail, burnSamples)},
		{seriesString(durationBucketName(), with(exporter.LabelLE, "+Inf")), counter(total, burnSamples)},
		{seriesString(durationCount(), l), counter(total, burnSamples)},
	}
}

// expectBurn works out which burn-rate rules fire at minute at for an
// endpoint with a constant failure ratio and traffic (requests a minute)
// since minute 0: the rule selects the series, the ratio is above the
// row's threshold, traffic is above the guard, and the condition has held
// from the first evaluation for the row's hold time.
func expectBurn(burns []burnRule, e, m string, ratio, perMinute float64, at int) []ExpAlert {
	out := []ExpAlert{}
	for _, b := range burns {
		minReq, ok := b.matches(e, m)
		if !ok {
			continue
		}
		threshold := b.row.factor * b.budget
		if !(ratio > threshold) || perMinute*60 < minReq {
			continue
		}
		if float64(at-testEvalMinutes) < b.row.hold.Minutes() {
			continue
		}
		labels := maps.Clone(b.labels)
		labels[exporter.LabelEndpoint] = e
		labels[exporter.LabelMethod] = m
		out = append(out, ExpAlert{ExpLabels: labels, ExpAnnotations: b.annotate(e, m)})
	}
	return out
}
