// Package rules generates the Prometheus rules of a gateway: recording rules
// for request rates, 5xx ratios, latency quantiles and the SLI ratios over
// every burn-rate window; multiwindow, multi-burn-rate SLO alerts for
// availability and latency; operational alerts for the sidecar, shipping,
// probes, canaries, rate limits and backends; promtool unit tests that make
// every alert fire and stay quiet; and the same rules as a
// prometheus-operator PrometheusRule.
//
// Generation is a pure function of the contract and gatewatch.yaml: the same
// input gives byte-identical output. Every metric and label name comes from
// package schema.
//
// Several gateways share one Prometheus: every rule selects the gateway's
// series ({gateway="<name>"}) and keeps the gateway label, and the
// generated scrape job (prometheus-scrape.yml) sets it on up.
//
// Scaling: recording rules aggregate all endpoints at once (one rule per
// window, by (gateway, endpoint, method)). Alert rules are written per SLO class, the
// endpoints that share an owning team and an objective (and, for latency, a
// threshold), selecting the class's endpoints with label matchers, each
// part with its own traffic guard; a contract with 1,000 endpoints and the
// default SLO has the same number of rules as one with three. The rule text
// grows with the endpoint names in the matchers. The objective (and
// threshold) is an alert label, so no two rules have the same labels.
package rules

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/schema"
)

// Rule is one recording or alerting rule as a Prometheus 2.42 rule file
// writes it.
type Rule struct {
	Record      string            `yaml:"record,omitempty" json:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty" json:"alert,omitempty"`
	Expr        string            `yaml:"expr" json:"expr"`
	For         string            `yaml:"for,omitempty" json:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// Group is a rule group. Prometheus 2.42 knows no group labels or
// query_offset, so there are none.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// File is a rule file.
type File struct {
	Groups []Group `yaml:"groups"`
}

// Records returns the metric names f's recording rules record, each once,
// in order.
func (f File) Records() []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Record != "" && !seen[r.Record] {
				seen[r.Record] = true
				out = append(out, r.Record)
			}
		}
	}
	return out
}

// Set is everything generated for one gateway.
type Set struct {
	// Gateway is the gateway's name as the alerts' gateway label gives it.
	Gateway string
	// Rules is rules.yml.
	Rules File
	// Tests is rules_test.yml, a promtool unit test file for Rules.
	Tests TestFile
	// Scrape is prometheus-scrape.yml, the scrape job of the gateway's
	// sidecars that sets the labels the rules select.
	Scrape ScrapeConfig
	// Notes are remarks for the user about choices made for them (a
	// latency threshold derived from a default timeout); generate prints
	// them.
	Notes []string
}

// RulesFileName is the name rules_test.yml expects the rules under.
const RulesFileName = "rules.yml"

// Generate writes the rules of contract c with the SLOs, owners and links
// of cfg.
func Generate(c *contract.Contract, cfg *config.Config) (*Set, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	if err := checkLabelValues(c, cfg); err != nil {
		return nil, err
	}
	g := &generator{c: c, cfg: cfg, gateway: GatewayName(c, cfg)}
	g.gw = eq(schema.LabelGateway, g.gateway)
	g.uid = DashboardUID(g.gateway)
	g.series = endpointSeries(c)
	teams := cfg.TeamNames()
	g.defaultTeam = teams[len(teams)-1]

	recordings := append(g.recordings(), g.objectiveRecordings()...)
	latency := g.latencyRecordings()
	g.recorded = map[string][]string{}
	for _, r := range append(slices.Clone(recordings), latency...) {
		g.recorded[r.Record] = append(g.recorded[r.Record], r.Expr)
	}
	slo, err := g.sloAlerts()
	if err != nil {
		return nil, err
	}
	ops, err := g.operationalAlerts()
	if err != nil {
		return nil, err
	}
	s := &Set{Gateway: g.gateway, Notes: g.thresholdNotes()}
	s.Scrape.ScrapeConfigs = []ScrapeJob{ScrapeJobFor(g.gateway, cfg.Alerting.Job, []string{defaultTarget(cfg.Sidecar.Listen)})}
	s.Rules.Groups = append(s.Rules.Groups, Group{Name: "gatewatch-sli", Rules: recordings})
	if len(latency) > 0 {
		s.Rules.Groups = append(s.Rules.Groups, Group{Name: "gatewatch-sli-latency", Rules: latency})
	}
	if len(slo) > 0 {
		s.Rules.Groups = append(s.Rules.Groups, Group{Name: "gatewatch-slo-alerts", Rules: slo})
	}
	s.Rules.Groups = append(s.Rules.Groups, Group{Name: "gatewatch-operational-alerts", Rules: ops})
	s.Tests = TestFile{
		RuleFiles:          []string{RulesFileName},
		EvaluationInterval: shortDuration(testEval),
		GroupEvalOrder:     groupNames(s.Rules.Groups),
		Tests:              g.tests,
	}
	return s, nil
}

func groupNames(gs []Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

// checkLabelValues rejects names that cannot be Prometheus label values
// (they must be valid UTF-8): no series could ever carry them.
func checkLabelValues(c *contract.Contract, cfg *config.Config) error {
	if g := GatewayName(c, cfg); !utf8.ValidString(g) {
		return fmt.Errorf("%s: gateway name %q is not valid UTF-8, which a Prometheus label value must be", c.Source, g)
	}
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		loc := c.Source
		if p := ep.Pos.String(); p != "" {
			loc += ":" + p
		}
		if !utf8.ValidString(ep.Name) {
			return fmt.Errorf("%s: endpoint name %q is not valid UTF-8, which a Prometheus label value must be", loc, ep.Name)
		}
		for _, m := range ep.Methods {
			if !utf8.ValidString(m) {
				return fmt.Errorf("%s: endpoint %q: method %q is not valid UTF-8, which a Prometheus label value must be", loc, ep.Name, m)
			}
		}
	}
	return nil
}

// GatewayName is the gateway's name in labels: gatewatch.yaml's
// gateway.name, or the contract's own name (config.GatewayName, which the
// sidecar uses too).
func GatewayName(c *contract.Contract, cfg *config.Config) string {
	return config.GatewayName(c, cfg)
}

// RulesYAML returns rules.yml.
func (s *Set) RulesYAML() ([]byte, error) { return marshal(s.Rules) }

// TestsYAML returns rules_test.yml.
func (s *Set) TestsYAML() ([]byte, error) { return marshal(s.Tests) }

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	return b.Bytes(), nil
}

type generator struct {
	c           *contract.Contract
	cfg         *config.Config
	gateway     string
	gw          string // the matcher gateway="<name>" every selector has
	uid         string
	defaultTeam string
	series      []series
	burns       []burnRule
	tests       []TestGroup
	// recorded maps a recording rule's name to its expressions.
	recorded map[string][]string
}

// labels returns the static labels of an alert: the given pairs. The
// gateway label comes from the series every rule selects by gateway.
func (g *generator) labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// sel writes a selector of metric for this gateway: metric{gateway="<name>", matchers...}.
func (g *generator) sel(metric string, matchers ...string) string {
	return selector(metric, append([]string{g.gw}, matchers...)...)
}

// annotations returns summary, description and the links of an alert.
func (g *generator) annotations(alert, summary, description string) (map[string]string, error) {
	d := config.LinkData{Alert: alert, Gateway: g.gateway, UID: g.uid}
	rb, err := g.cfg.Alerting.RunbookFor(d)
	if err != nil {
		return nil, fmt.Errorf("alerting.runbook_url: %w", err)
	}
	db, err := g.cfg.Alerting.DashboardFor(d)
	if err != nil {
		return nil, fmt.Errorf("alerting.dashboard_url: %w", err)
	}
	m := map[string]string{
		AnnotationSummary:     summary,
		AnnotationDescription: description,
		AnnotationRunbook:     rb,
	}
	if db == "" && g.cfg.Grafana.URL != "" {
		db = DashboardURL(g.cfg.Grafana.URL, g.gateway, DashboardOverview)
	}
	if db != "" {
		m[AnnotationDashboard] = db
	}
	return m, nil
}

// recordings are the SLI recording rules over all endpoints of the
// gateway.
func (g *generator) recordings() []Rule {
	total := requestsTotal()
	var rs []Rule
	for _, w := range Windows {
		rs = append(rs, Rule{
			Record: RequestRate(w),
			Expr:   fmt.Sprintf("sum %s (rate(%s[%s]))", byEndpointMethod, g.sel(total), w),
		})
		rs = append(rs, Rule{
			Record: ErrorRatio(w),
			Expr: fmt.Sprintf("(\n  sum %s (rate(%s[%s]))\n  or\n  0 * %s\n)\n/\n%s",
				byEndpointMethod, g.sel(total, serverErrors()), w, g.sel(RequestRate(w)), g.sel(RequestRate(w))),
		})
	}
	rs = append(rs, Rule{
		Record: BucketRate("5m"),
		Expr:   fmt.Sprintf("sum %s (rate(%s[5m]))", byEndpointMethodLE, g.sel(durationBucketName())),
	})
	for _, q := range Quantiles {
		rs = append(rs, Rule{
			Record: LatencyQuantile("5m"),
			Expr:   fmt.Sprintf("histogram_quantile(%s, %s)", q, g.sel(BucketRate("5m"))),
			Labels: map[string]string{LabelQuantile: q},
		})
	}
	rs = append(rs,
		Rule{Record: TrackRequestRate("5m"), Expr: fmt.Sprintf("sum %s (rate(%s[5m]))", byTrack, g.sel(total))},
		Rule{
			Record: TrackErrorRatio("5m"),
			Expr: fmt.Sprintf("(\n  sum %s (rate(%s[5m]))\n  or\n  0 * %s\n)\n/\n%s",
				byTrack, g.sel(total, serverErrors()), g.sel(TrackRequestRate("5m")), g.sel(TrackRequestRate("5m"))),
		},
	)
	return rs
}

// objectiveRecordings record every endpoint's SLO objectives (as ratios,
// label slo) and latency threshold (seconds) as constant series, so that
// dashboards and the canary judge read an endpoint's own SLO. Each class
// of endpoints sharing a value is one part: 0 times the endpoint's request
// count plus the value. The exporter creates the count series of every
// endpoint and declared method at start, so the series exist before any
// traffic; an endpoint with SLOs disabled has none.
func (g *generator) objectiveRecordings() []Rule {
	type value struct {
		record string
		labels map[string]string
		of     func(config.SLO) float64
	}
	values := []value{
		{SLOObjective(), map[string]string{LabelSLO: SLOAvailability}, func(s config.SLO) float64 { return s.Availability / 100 }},
		{SLOObjective(), map[string]string{LabelSLO: SLOLatency}, func(s config.SLO) float64 { return s.LatencyTarget / 100 }},
		{SLOLatencyThreshold(), nil, func(s config.SLO) float64 { return s.LatencyThreshold.Seconds() }},
	}
	var rs []Rule
	for _, v := range values {
		classes := classify(g.series, func(s series) (float64, bool) {
			slo := g.cfg.SLOFor(s.ep)
			return round(v.of(slo)), !slo.Disabled
		})
		var parts []string
		for _, cl := range classes {
			for _, t := range cl.targets {
				parts = append(parts, fmt.Sprintf("0 * max %s (%s) + %s",
					byEndpointMethod, g.sel(durationCount(), t.matchers()...), formatFloat(cl.key)))
			}
		}
		if len(parts) == 0 {
			continue
		}
		rs = append(rs, Rule{Record: v.record, Expr: orParts(parts), Labels: v.labels})
	}
	return rs
}

// orParts joins expressions with or, each in parentheses when there are
// several.
func orParts(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(\n" + strings.Join(parts, "\n)\nor\n(\n") + "\n)"
}

// latencyRecordings record, per window, the ratio of requests slower than
// each endpoint's latency threshold. Endpoints sharing a threshold share a
// rule; the threshold is the le label exactly as the exporter writes it.
func (g *generator) latencyRecordings() []Rule {
	classes := classify(g.series, func(s series) (time.Duration, bool) {
		slo := g.cfg.SLOFor(s.ep)
		return slo.LatencyThreshold, !slo.Disabled
	})
	var rs []Rule
	for _, w := range Windows {
		var parts []string
		for _, cl := range classes {
			for _, t := range cl.targets {
				ms := t.matchers()
				count := g.sel(durationCount(), ms...)
				bucket := g.sel(durationBucketName(), append(slices.Clone(ms), leMatcher(cl.key))...)
				parts = append(parts, fmt.Sprintf("(\n  sum %[1]s (rate(%[2]s[%[4]s]))\n  -\n  sum %[1]s (rate(%[3]s[%[4]s]))\n)\n/\nsum %[1]s (rate(%[2]s[%[4]s]))",
					byEndpointMethod, count, bucket, w))
			}
		}
		if len(parts) == 0 {
			continue
		}
		rs = append(rs, Rule{Record: SlowRatio(w), Expr: orParts(parts)})
	}
	return rs
}

// thresholdNotes say where a latency threshold was derived from a timeout
// the contract does not set: half the gateway's built-in default (Kong's
// 60s read_timeout, Envoy's 15s route timeout; the loaders mark them
// TimeoutIsDefault), or 1s without any timeout.
func (g *generator) thresholdNotes() []string {
	type derived struct {
		n     int      // series
		names []string // the first three endpoints
	}
	var order []time.Duration
	by := map[time.Duration]*derived{}
	for _, s := range g.series {
		slo := g.cfg.SLOFor(s.ep)
		if slo.Disabled || !slo.LatencyThresholdFromTimeout {
			continue
		}
		if s.ep.Timeout > 0 && !s.ep.TimeoutIsDefault {
			continue // a timeout the contract sets (the endpoint's or its own default)
		}
		d, ok := by[s.ep.Timeout]
		if !ok {
			d = &derived{}
			by[s.ep.Timeout] = d
			order = append(order, s.ep.Timeout)
		}
		d.n++
		if !slices.Contains(d.names, s.name) && len(d.names) < 3 {
			d.names = append(d.names, s.name)
		}
	}
	var notes []string
	for _, t := range order {
		d := by[t]
		n := d.n
		eg := strings.Join(d.names, ", ")
		if n > len(d.names) {
			eg += ", …"
		}
		thr := HumanDuration(config.DefaultLatencyThreshold(t))
		if t == 0 {
			notes = append(notes, fmt.Sprintf("%s: latency threshold %s for %d endpoint series without a timeout (%s): the default; set slo.latency.threshold in gatewatch.yaml to say what clients expect",
				g.c.Source, thr, n, eg))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s: latency threshold %s for %d endpoint series (%s): half the gateway's default timeout of %s, which they inherit without a timeout of their own; set slo.latency.threshold in gatewatch.yaml to say what clients expect",
			g.c.Source, thr, n, eg, HumanDuration(t)))
	}
	return notes
}

// periodPhrase writes an SLO period as "30-day" (or "36h" when it is not
// whole days).
func periodPhrase(p time.Duration) string {
	if p%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", p/(24*time.Hour))
	}
	return HumanDuration(p)
}

// exhaustion writes how long a budget lasts at a burn rate: "2.1 days",
// "30 hours".
func exhaustion(period time.Duration, factor float64) string {
	h := period.Hours() / factor
	if h < 48 {
		return trimFloat(h, 1) + " hours"
	}
	return trimFloat(h/24, 1) + " days"
}

func trimFloat(f float64, decimals int) string {
	s := fmt.Sprintf("%.*f", decimals, f)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
