package rules

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
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

// burnSet is the classes and the burn-rate rules of one SLO kind.
type burnSet struct {
	kind    sloKind
	classes []class[sloKey]
	burns   []burnRule
}

// burnEndpoint is an endpoint of the burn-rate tests with its class in
// every SLO kind that has it.
type burnEndpoint struct {
	endpoint, method string
	keys             map[string]sloKey // kind name → class
}

// burnTests makes three tests for the SLO kinds together, each with one
// endpoint of every class of every kind: one where the endpoints burn
// their availability and latency budgets fast (the page rows fire, then
// the ticket rows), one where they are healthy (while the same endpoints
// of another gateway burn theirs) and one where they fail but are below
// the traffic guard. Every endpoint fails as 5xx and as slow
// requests alike, so one test group serves both kinds (promtool evaluates
// every rule for every group). The expected alerts are worked out from
// every rule of each kind, so a series that two classes select is expected
// from both.
func (g *generator) burnTests(sets []burnSet) {
	var eps []*burnEndpoint
	idx := map[[2]string]*burnEndpoint{}
	for _, set := range sets {
		for _, cl := range set.classes {
			e, m := cl.targets[0].sample()
			if idx[[2]string{e, m}] == nil {
				be := &burnEndpoint{endpoint: e, method: m, keys: map[string]sloKey{}}
				idx[[2]string{e, m}] = be
				eps = append(eps, be)
			}
		}
	}
	if len(eps) == 0 {
		return
	}
	// Each endpoint's class in every kind, also where another kind's
	// class picked it.
	for _, be := range eps {
		for _, set := range sets {
			for _, cl := range set.classes {
				if _, ok := be.keys[set.kind.name]; ok {
					break
				}
				for _, t := range cl.targets {
					if t.matches(be.endpoint, be.method) {
						be.keys[set.kind.name] = cl.key
						break
					}
				}
			}
		}
	}
	// over folds f over the endpoint's classes with pick.
	over := func(be *burnEndpoint, f func(sloKey) float64, pick func(a, b float64) float64) float64 {
		first, v := true, 0.0
		for _, set := range sets {
			k, ok := be.keys[set.kind.name]
			if !ok {
				continue
			}
			if first {
				first, v = false, f(k)
				continue
			}
			v = pick(v, f(k))
		}
		return v
	}
	cases := []struct {
		what        string
		total, fail func(be *burnEndpoint) float64
	}{
		{"burn their budgets",
			func(be *burnEndpoint) float64 { return over(be, burnTraffic, math.Max) },
			func(be *burnEndpoint) float64 {
				n := over(be, burnTraffic, math.Max)
				return over(be, func(k sloKey) float64 {
					return math.Min(n, math.Max(1, math.Round(2*burnRows[0].factor*budgetOf(k.objective)*n)))
				}, math.Max)
			}},
		{"are healthy",
			func(be *burnEndpoint) float64 { return over(be, burnTraffic, math.Max) },
			func(be *burnEndpoint) float64 {
				n := over(be, burnTraffic, math.Max)
				return over(be, func(k sloKey) float64 { return math.Floor(budgetOf(k.objective) / 2 * n) }, math.Min)
			}},
		{"fail below the traffic guard",
			func(be *burnEndpoint) float64 {
				return over(be, func(k sloKey) float64 { return k.minReq / 240 }, math.Min)
			},
			func(be *burnEndpoint) float64 {
				return over(be, func(k sloKey) float64 { return k.minReq / 480 }, math.Min)
			}},
	}
	var what []string
	for _, set := range sets {
		if len(set.classes) > 0 {
			what = append(what, fmt.Sprintf("%d %s", len(set.classes), set.kind.name))
		}
	}
	for _, c := range cases {
		tg := TestGroup{
			Name:     fmt.Sprintf("SLO burn rates: endpoints of %s SLO classes %s", strings.Join(what, " and "), c.what),
			Interval: "1m",
		}
		exp := make([][]ExpAlert, len(sets)*len(burnEvals))
		for i := range exp {
			exp[i] = []ExpAlert{}
		}
		for _, be := range eps {
			total, fail := c.total(be), c.fail(be)
			tg.InputSeries = append(tg.InputSeries, burnInput(g.gateway, be, total, fail)...)
			if c.what == "are healthy" {
				// The same endpoint of another gateway burns its
				// budget: this gateway's rules must not see it.
				tg.InputSeries = append(tg.InputSeries, burnInput(otherGateway, be, cases[0].total(be), cases[0].fail(be))...)
			}
			for j, set := range sets {
				for i, at := range burnEvals {
					k := j*len(burnEvals) + i
					exp[k] = append(exp[k], expectBurn(set.burns, be.endpoint, be.method, fail/total, total, at)...)
				}
			}
		}
		for j, set := range sets {
			if len(set.classes) == 0 {
				continue
			}
			for i, at := range burnEvals {
				tg.AlertRuleTests = append(tg.AlertRuleTests, AlertTest{
					EvalTime:  shortDuration(at),
					Alertname: set.kind.alert,
					ExpAlerts: exp[j*len(burnEvals)+i],
				})
			}
		}
		if c.what == "are healthy" {
			tg.PromQLTests = g.objectiveTests(eps, shortDuration(burnEvals[0]))
		}
		g.tests = append(g.tests, tg)
	}
}

// objectiveTests check the recorded objectives and latency threshold of
// each test endpoint against its classes.
func (g *generator) objectiveTests(eps []*burnEndpoint, at string) []ExprTest {
	var out []ExprTest
	for _, be := range eps {
		l := map[string]string{schema.LabelGateway: g.gateway, schema.LabelEndpoint: be.endpoint, schema.LabelMethod: be.method}
		check := func(record string, extra map[string]string, v float64) {
			m := maps.Clone(l)
			maps.Copy(m, extra)
			ms := make([]string, 0, len(m))
			for _, k := range slices.Sorted(maps.Keys(m)) {
				ms = append(ms, eq(k, m[k]))
			}
			out = append(out, ExprTest{
				Expr: selector(record, ms...), EvalTime: at,
				ExpSamples: []ExpSample{{Labels: seriesString(record, m), Value: v}},
			})
		}
		if k, ok := be.keys[SLOAvailability]; ok {
			check(SLOObjective(), map[string]string{LabelSLO: SLOAvailability}, round(k.objective/100))
		}
		if k, ok := be.keys[SLOLatency]; ok {
			check(SLOObjective(), map[string]string{LabelSLO: SLOLatency}, round(k.objective/100))
			check(SLOLatencyThreshold(), nil, round(k.threshold.Seconds()))
		}
	}
	return out
}

// burnTraffic is the requests a minute of a test endpoint: plenty, and
// above the traffic guard from the first evaluation on, when the longest
// window holds only testEval of the series.
func burnTraffic(k sloKey) float64 {
	return math.Max(100000, math.Ceil(k.minReq/60*2*longestWindow.Minutes()/testEval.Minutes()))
}

// burnInput writes the series of an endpoint serving total requests a
// minute of which fail fail: with a 5xx status where it has an
// availability class, and slower than its threshold where it has a
// latency class.
func burnInput(gateway string, be *burnEndpoint, total, fail float64) []Series {
	l := map[string]string{
		schema.LabelGateway: gateway, schema.LabelEndpoint: be.endpoint, schema.LabelMethod: be.method, schema.LabelTrack: "stable",
	}
	with := func(kv ...string) map[string]string {
		c := maps.Clone(l)
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	var out []Series
	if _, ok := be.keys[SLOAvailability]; ok {
		out = append(out,
			Series{seriesString(requestsTotal(), with(schema.LabelCode, "200")), counter(total-fail, burnSamples)},
			Series{seriesString(requestsTotal(), with(schema.LabelCode, "500")), counter(fail, burnSamples)})
	} else {
		out = append(out, Series{seriesString(requestsTotal(), with(schema.LabelCode, "200")), counter(total, burnSamples)})
	}
	if k, ok := be.keys[SLOLatency]; ok {
		le := schema.LE(k.threshold.Seconds())
		out = append(out,
			Series{seriesString(durationBucketName(), with(schema.LabelLE, le)), counter(total-fail, burnSamples)},
			Series{seriesString(durationBucketName(), with(schema.LabelLE, "+Inf")), counter(total, burnSamples)},
			Series{seriesString(durationCount(), l), counter(total, burnSamples)})
	}
	return out
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
		labels[schema.LabelGateway] = b.gateway
		labels[schema.LabelEndpoint] = e
		labels[schema.LabelMethod] = m
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
