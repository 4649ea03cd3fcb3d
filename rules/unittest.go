package rules

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gatewatch/gatewatch/exporter"
)

// TestFile is a promtool (2.42) rule unit test file.
type TestFile struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	// GroupEvalOrder lists every rule group, recordings first: at an
	// evaluation interval longer than the lookback (5m) an alert must
	// read the recordings of the same evaluation, not the last one.
	GroupEvalOrder []string    `yaml:"group_eval_order"`
	Tests          []TestGroup `yaml:"tests"`
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

// testEval is the evaluation interval of the unit tests. promtool
// evaluates every rule of rules.yml at every interval of a test group up to
// its last eval_time, so the tests cost (last eval_time / testEval) × test
// groups × the rules: the interval is coarse and the tests are few. A
// condition on rates holds from the first evaluation after the start (one
// sample makes no rate), so an alert held for h fires at testEval + h
// rounded up to testEval.
const testEval = 30 * time.Minute

// opFireAt is when the operational tests look: every operational alert
// holds for at most one interval, so each has fired by then.
const opFireAt = 2 * testEval

// opSamples is the length of the operational tests' series, sampled every
// minute: they last until opFireAt.
const opSamples = int(opFireAt / time.Minute)

// opRepeat writes a gauge that stays at v until opFireAt.
func opRepeat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64) + "x" + strconv.Itoa(opSamples)
}

// roundUp rounds d up to a multiple of m.
func roundUp(d, m time.Duration) time.Duration { return (d + m - 1) / m * m }

// burnEvals are the evaluation times of the burn-rate tests: when the page
// rows have fired (and the ticket rows still hold back), and when every
// row has.
var burnEvals = func() []time.Duration {
	var page, all time.Duration
	for _, r := range burnRows {
		if r.severity == SeverityPage {
			page = max(page, r.hold)
		}
		all = max(all, r.hold)
	}
	return []time.Duration{testEval + roundUp(page, testEval), testEval + roundUp(all, testEval)}
}()

// burnSamples is the length of the burn-rate tests' series, sampled every
// minute.
var burnSamples = int(burnEvals[len(burnEvals)-1] / time.Minute)

// longestWindow is the longest window of the burn-rate rows.
var longestWindow = func() time.Duration {
	var l time.Duration
	for _, r := range burnRows {
		l = max(l, mustDuration(r.long))
	}
	return l
}()

func mustDuration(s string) time.Duration {
	d, err := model.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("burn-rate window %q: %v", s, err))
	}
	return time.Duration(d)
}

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
		exp := make([][]ExpAlert, len(burnEvals))
		for i := range exp {
			exp[i] = []ExpAlert{}
		}
		for _, cl := range classes {
			e, m := cl.targets[0].sample()
			total, fail := c.total(cl.key), c.fail(cl.key)
			tg.InputSeries = append(tg.InputSeries, burnInput(kind, cl.key, e, m, total, fail)...)
			for i, at := range burnEvals {
				exp[i] = append(exp[i], expectBurn(burns, e, m, fail/total, total, at)...)
			}
		}
		for i, at := range burnEvals {
			tg.AlertRuleTests = append(tg.AlertRuleTests, AlertTest{
				EvalTime:  shortDuration(at),
				Alertname: kind.alert,
				ExpAlerts: exp[i],
			})
		}
		g.tests = append(g.tests, tg)
	}
}

// burnTraffic is the requests a minute of a test endpoint: plenty, and
// above the traffic guard from the first evaluation on, when the longest
// window holds only testEval of the series.
func burnTraffic(k sloKey) float64 {
	return math.Max(100000, math.Ceil(k.minReq/60*2*longestWindow.Minutes()/testEval.Minutes()))
}

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

// expectBurn works out which burn-rate rules fire at time at for an
// endpoint with a constant failure ratio and traffic (requests a minute)
// since time 0: the rule selects the series, the ratio is above the row's
// threshold, and at every evaluation from testEval on for the row's hold
// time the traffic the long window saw is above the guard. The series
// start at 0, so rate() over a window longer than the data does not
// extrapolate: it sees perMinute × the minutes of data / the window.
func expectBurn(burns []burnRule, e, m string, ratio, perMinute float64, at time.Duration) []ExpAlert {
	out := []ExpAlert{}
	for _, b := range burns {
		minReq, ok := b.matches(e, m)
		if !ok {
			continue
		}
		if !(ratio > b.row.factor*b.budget) {
			continue
		}
		long := mustDuration(b.row.long)
		since := time.Duration(-1)
		for t := testEval; t <= at; t += testEval {
			if perMinute*60*min(t, long).Hours()/long.Hours() >= minReq {
				if since < 0 {
					since = t
				}
			} else {
				since = -1
			}
		}
		if since < 0 || at-since < b.row.hold {
			continue
		}
		labels := maps.Clone(b.labels)
		labels[exporter.LabelEndpoint] = e
		labels[exporter.LabelMethod] = m
		out = append(out, ExpAlert{ExpLabels: labels, ExpAnnotations: b.annotate(e, m)})
	}
	return out
}

// opTest is one test of an operational alert, before addOpTests packs the
// tests into test groups.
type opTest struct {
	name  string
	input []Series
	test  AlertTest
	// reads are the metric names the alert's rule reads, through the
	// recording rules.
	reads map[string]bool
}

// addOpTests packs the operational tests into as few test groups as
// possible (promtool loads and evaluates every rule for every group): a
// test joins a group when no other test there adds a series of a metric
// its rule reads (or the same series with other values), and no test there
// checks the same alert. Each alert therefore sees exactly the input it
// would see alone.
func (g *generator) addOpTests(tests []opTest) {
	// adds reports whether b's input leaves what a reads unchanged.
	adds := func(a, b opTest) bool {
		for _, s := range b.input {
			if a.reads[metricOf(s.Series)] && !slices.Contains(a.input, s) {
				return true
			}
		}
		return false
	}
	var groups []*opGroup
next:
	for _, t := range tests {
		for _, gr := range groups {
			ok := true
			for _, o := range gr.tests {
				if o.test.Alertname == t.test.Alertname || adds(o, t) || adds(t, o) {
					ok = false
					break
				}
			}
			for _, s := range t.input {
				if v, dup := gr.seen[s.Series]; dup && v != s.Values {
					ok = false
				}
			}
			if !ok {
				continue
			}
			gr.add(t)
			continue next
		}
		gr := &opGroup{seen: map[string]string{}, tg: TestGroup{Interval: "1m"}}
		gr.add(t)
		groups = append(groups, gr)
	}
	for _, gr := range groups {
		gr.tg.Name = strings.Join(gr.names, "; ")
		g.tests = append(g.tests, gr.tg)
	}
}

// opGroup is a test group of operational tests being packed.
type opGroup struct {
	tests []opTest
	names []string
	seen  map[string]string // series → values
	tg    TestGroup
}

func (gr *opGroup) add(t opTest) {
	gr.tests = append(gr.tests, t)
	gr.names = append(gr.names, t.name)
	for _, s := range t.input {
		if _, dup := gr.seen[s.Series]; dup {
			continue
		}
		gr.seen[s.Series] = s.Values
		gr.tg.InputSeries = append(gr.tg.InputSeries, s)
	}
	gr.tg.AlertRuleTests = append(gr.tg.AlertRuleTests, t.test)
}

// metricOf is the metric name of a series in promtool's notation.
func metricOf(series string) string {
	if i := strings.IndexByte(series, '{'); i >= 0 {
		return series[:i]
	}
	return series
}

// reads returns the metric names expr reads, following recording rules
// to the metrics they read.
func (g *generator) reads(expr string) (map[string]bool, error) {
	out := map[string]bool{}
	var walk func(expr string) error
	walk = func(expr string) error {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
		if err != nil {
			return fmt.Errorf("parsing %q: %w", expr, err)
		}
		var names []string
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				name := vs.Name
				for _, m := range vs.LabelMatchers {
					if m.Name == "__name__" {
						name = m.Value
					}
				}
				names = append(names, name)
			}
			return nil
		})
		for _, n := range names {
			if out[n] {
				continue
			}
			out[n] = true
			for _, r := range g.recorded[n] {
				if err := walk(r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(expr)
}
