package rules

import (
	"bytes"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatewatch/gatewatch/schema"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// ordersContract is a small KrakenD-like contract: one name served by two
// methods with different SLOs, an endpoint answering any method, a rate
// limit, and an endpoint whose SLO is disabled.
func ordersContract() *contract.Contract {
	return &contract.Contract{
		Gateway: contract.KrakenD,
		Name:    "shop-gateway",
		Endpoints: []contract.Endpoint{
			{Name: "/v1/orders/{id}", Methods: []string{"GET"}, Timeout: 2 * time.Second},
			{Name: "/v1/orders/{id}", Methods: []string{"POST"}, Timeout: 4 * time.Second,
				RateLimit: &contract.RateLimit{Requests: 10, Period: time.Second}},
			{Name: "/v1/users", Methods: []string{"GET"}, Timeout: 2 * time.Second},
			{Name: "catalog", Timeout: 500 * time.Millisecond},
			{Name: "/internal/debug", Methods: []string{"GET"}},
		},
	}
}

const ordersConfig = `
slo:
  availability: 99.9
  endpoints:
    - endpoint: /v1/orders*
      method: POST
      availability: 99.95
      latency: {threshold: 250ms, target: 95}
    - endpoint: /internal/*
      disabled: true
owners:
  default: platform
  teams:
    - name: payments
      endpoints: [/v1/orders*]
alerting:
  runbook_url: https://runbooks.example.com/gatewatch/{{ .Alert }}
  dashboard_url: https://grafana.example.com/d/{{ .UID }}/gateway
`

func loadConfig(t testing.TB, s string) *config.Config {
	t.Helper()
	cfg, err := config.Load("gatewatch.yaml", []byte(s))
	require.NoError(t, err)
	return cfg
}

func writeSet(t *testing.T, s *Set) string {
	t.Helper()
	dir := t.TempDir()
	r, err := s.RulesYAML()
	require.NoError(t, err)
	ts, err := s.TestsYAML()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, RulesFileName), r, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules_test.yml"), ts, 0o644))
	return dir
}

func TestPromtool(t *testing.T) {
	if _, err := os.Stat("/usr/bin/promtool"); err != nil {
		t.Skip("promtool (Prometheus 2.42) is not installed at /usr/bin/promtool; install the prometheus package to run this test")
	}
	s, err := Generate(ordersContract(), loadConfig(t, ordersConfig))
	require.NoError(t, err)
	dir := writeSet(t, s)
	scrape, err := s.ScrapeYAML()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ScrapeFileName), scrape, 0o644))
	for _, args := range [][]string{
		{"check", "rules", "--lint=duplicate-rules", "--lint-fatal", RulesFileName},
		{"test", "rules", "rules_test.yml"},
		{"check", "config", ScrapeFileName},
	} {
		cmd := exec.Command("/usr/bin/promtool", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
	}
}

// TestValid parses the output with Prometheus' own rule file parser and
// PromQL parser, and checks that every metric a query names is exported by
// the sidecar (the schema) or recorded by an earlier rule.
func TestValid(t *testing.T) {
	for name, s := range sets(t) {
		t.Run(name, func(t *testing.T) {
			b, err := s.RulesYAML()
			require.NoError(t, err)
			p := parser.NewParser(parser.Options{})
			_, errs := rulefmt.Parse(b, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
			require.Empty(t, errs)

			known := map[string]bool{"up": true}
			for _, m := range schema.Schema {
				known[m.Name] = true
				if m.Type == schema.Histogram {
					for _, suf := range []string{schema.BucketSuffix, schema.SumSuffix, schema.CountSuffix} {
						known[m.Name+suf] = true
					}
				}
			}
			for _, g := range s.Rules.Groups {
				for _, r := range g.Rules {
					if r.Record != "" {
						known[r.Record] = true
					}
				}
			}
			for _, g := range s.Rules.Groups {
				for _, r := range g.Rules {
					expr, err := p.ParseExpr(r.Expr)
					require.NoError(t, err, r.Expr)
					parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
						if vs, ok := n.(*parser.VectorSelector); ok {
							require.True(t, known[vs.Name], "%s names %q, which nothing exports or records", ruleName(r), vs.Name)
						}
						return nil
					})
					if r.Alert != "" {
						require.Contains(t, []string{SeverityPage, SeverityTicket}, r.Labels[LabelSeverity], ruleName(r))
						require.NotEmpty(t, r.Labels[LabelTeam], ruleName(r))
						require.NotEmpty(t, r.Annotations[AnnotationRunbook], ruleName(r))
						require.NotEmpty(t, r.Annotations[AnnotationSummary], ruleName(r))
					}
				}
			}
		})
	}
}

func ruleName(r Rule) string {
	if r.Alert != "" {
		return "alert " + r.Alert
	}
	return "record " + r.Record
}

// sets are the generated rules of the test contracts.
func sets(t testing.TB) map[string]*Set {
	out := map[string]*Set{}
	for name, in := range map[string]struct {
		c   *contract.Contract
		cfg *config.Config
	}{
		"orders":   {ordersContract(), loadConfig(t, ordersConfig)},
		"defaults": {ordersContract(), nil},
		"large":    {largeContract(50), loadConfig(t, ordersConfig)},
	} {
		s, err := Generate(in.c, in.cfg)
		require.NoError(t, err)
		out[name] = s
	}
	return out
}

// largeContract has n endpoints, some with rate limits, methods and
// timeouts varying.
func largeContract(n int) *contract.Contract {
	c := &contract.Contract{Gateway: contract.Kong, Name: "large"}
	methods := [][]string{{"GET"}, {"POST"}, nil, {"GET", "HEAD"}}
	for i := range n {
		ep := contract.Endpoint{
			Name:    fmt.Sprintf("/v1/res%d/{id}", i),
			Methods: methods[i%len(methods)],
			Timeout: time.Duration(1+i%3) * time.Second,
		}
		if i%5 == 0 {
			ep.Name = fmt.Sprintf("/v1/orders/%d", i)
		}
		if i%7 == 0 {
			ep.RateLimit = &contract.RateLimit{Requests: 100, Period: time.Minute}
		}
		c.Endpoints = append(c.Endpoints, ep)
	}
	return c
}

// TestGolden compares the output with testdata; run with -update after an
// intended change and review the diff.
func TestGolden(t *testing.T) {
	s, err := Generate(ordersContract(), loadConfig(t, ordersConfig))
	require.NoError(t, err)
	for _, f := range []struct {
		name string
		gen  func() ([]byte, error)
	}{
		{"orders.rules.yml", s.RulesYAML},
		{"orders.rules_test.yml", s.TestsYAML},
		{"orders.prometheusrule.yaml", s.PrometheusRuleYAML},
		{"orders.prometheus-scrape.yml", s.ScrapeYAML},
	} {
		got, err := f.gen()
		require.NoError(t, err)
		path := filepath.Join("testdata", f.name)
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s differs; run go test ./rules -update and review the diff", path)
	}
}

// TestDeterministic generates twice from separately built inputs.
func TestDeterministic(t *testing.T) {
	gen := func() [][]byte {
		s, err := Generate(largeContract(200), loadConfig(t, ordersConfig))
		require.NoError(t, err)
		r, err := s.RulesYAML()
		require.NoError(t, err)
		ts, err := s.TestsYAML()
		require.NoError(t, err)
		pr, err := s.PrometheusRuleYAML()
		require.NoError(t, err)
		return [][]byte{r, ts, pr}
	}
	a, b := gen(), gen()
	for i := range a {
		require.True(t, bytes.Equal(a[i], b[i]), "output %d differs between two runs", i)
	}
}

// TestLatencyThresholdIsABucket checks that every le a rule selects is a
// boundary the exporter has for the contract, written as the le label
// reads.
func TestLatencyThresholdIsABucket(t *testing.T) {
	cfg := loadConfig(t, ordersConfig)
	c := ordersContract()
	s, err := Generate(c, cfg)
	require.NoError(t, err)
	les := map[string]bool{}
	for _, b := range schema.Buckets(cfg.LatencyThresholds(c)...) {
		les[schema.LE(b)] = true
	}
	p := parser.NewParser(parser.Options{})
	n := 0
	for _, g := range s.Rules.Groups {
		for _, r := range g.Rules {
			expr, err := p.ParseExpr(r.Expr)
			require.NoError(t, err)
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				vs, ok := node.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				for _, m := range vs.LabelMatchers {
					if m.Name == schema.LabelLE {
						require.True(t, les[m.Value], "le=%q is not a bucket boundary", m.Value)
						n++
					}
				}
				return nil
			})
		}
	}
	require.NotZero(t, n)
	require.Contains(t, string(mustYAML(t, s)), `le="0.25"`, "the POST override's 250ms threshold")
	require.Contains(t, string(mustYAML(t, s)), `le="1.0"`, "half of GET's 2s timeout, in OpenMetrics form")
}

func mustYAML(t *testing.T, s *Set) []byte {
	b, err := s.RulesYAML()
	require.NoError(t, err)
	return b
}

// TestClasses checks the scaling design: endpoints sharing an SLO and team
// share alert rules, so the rule count does not grow with endpoints.
func TestClasses(t *testing.T) {
	count := func(n int) int {
		s, err := Generate(largeContract(n), loadConfig(t, ordersConfig))
		require.NoError(t, err)
		k := 0
		for _, g := range s.Rules.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					k++
				}
			}
		}
		return k
	}
	require.Equal(t, count(100), count(1000))
}

func TestDashboardUID(t *testing.T) {
	cases := map[string]string{
		"shop-gateway": "gw-shop-gateway-26cfea23",
		"":             "gw-e3b0c442",
	}
	for in, want := range cases {
		require.Equal(t, want, DashboardUID(in))
	}
	long := DashboardUID("A Very Long Gateway Name With Spaces And Ümlauts 2026")
	require.LessOrEqual(t, len(long), 40)
	require.Regexp(t, `^[a-z0-9-]+$`, long)
}

func TestExhaustion(t *testing.T) {
	month := 30 * 24 * time.Hour
	require.Equal(t, "2.1 days", exhaustion(month, 14.4))
	require.Equal(t, "5 days", exhaustion(month, 6))
	require.Equal(t, "30 days", exhaustion(month, 1))
	require.Equal(t, "7 hours", exhaustion(7*24*time.Hour, 24))
}

func TestBadLinkTemplate(t *testing.T) {
	cfg := loadConfig(t, ordersConfig)
	cfg.Alerting.DashboardURL = "https://g/{{ .Nope }}"
	_, err := Generate(ordersContract(), cfg)
	require.ErrorContains(t, err, "alerting.dashboard_url")
}

// BenchmarkGenerate1000 measures a 1,000-endpoint contract: "all" is the
// whole of `gatewatch generate rules` without the disk writes; the other
// sub-benchmarks split it.
func BenchmarkGenerate1000(b *testing.B) {
	c := largeContract(1000)
	cfg, err := config.Load("gatewatch.yaml", []byte(ordersConfig))
	require.NoError(b, err)
	s, err := Generate(c, cfg)
	require.NoError(b, err)
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("all", func() error {
		s, err := Generate(c, cfg)
		if err != nil {
			return err
		}
		for _, f := range []func() ([]byte, error){s.RulesYAML, s.TestsYAML, s.PrometheusRuleYAML} {
			if _, err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	run("generate", func() error { _, err := Generate(c, cfg); return err })
	run("rules.yml", func() error { _, err := s.RulesYAML(); return err })
	run("rules_test.yml", func() error { _, err := s.TestsYAML(); return err })
	run("prometheusrule.yaml", func() error { _, err := s.PrometheusRuleYAML(); return err })
}

// TestPrometheusRuleStrict decodes prometheusrule.yaml strictly into the
// operator's API type and checks it carries the same rules as rules.yml.
func TestPrometheusRuleStrict(t *testing.T) {
	s, err := Generate(ordersContract(), loadConfig(t, ordersConfig))
	require.NoError(t, err)
	b, err := s.PrometheusRuleYAML()
	require.NoError(t, err)
	var pr monitoringv1.PrometheusRule
	require.NoError(t, k8syaml.UnmarshalStrict(b, &pr))
	require.Equal(t, "monitoring.coreos.com/v1", pr.APIVersion)
	require.Equal(t, "PrometheusRule", pr.Kind)
	require.Equal(t, "gatewatch-shop-gateway-26cfea23", pr.Name)
	require.Len(t, pr.Spec.Groups, len(s.Rules.Groups))
	for i, g := range pr.Spec.Groups {
		want := s.Rules.Groups[i]
		require.Equal(t, want.Name, g.Name)
		require.Len(t, g.Rules, len(want.Rules))
		for j, r := range g.Rules {
			w := want.Rules[j]
			require.Equal(t, w.Expr, r.Expr.String())
			require.Equal(t, w.Alert+w.Record, r.Alert+r.Record)
			if w.For != "" {
				require.Equal(t, w.For, string(*r.For))
			}
			require.Equal(t, w.Labels, r.Labels)
			require.Equal(t, w.Annotations, r.Annotations)
		}
	}
}

// TestEmptyContract generates for a contract without endpoints, named with
// template braces that must reach the annotations literally.
func TestEmptyContract(t *testing.T) {
	if _, err := os.Stat("/usr/bin/promtool"); err != nil {
		t.Skip("promtool (Prometheus 2.42) is not installed at /usr/bin/promtool")
	}
	s, err := Generate(&contract.Contract{Gateway: contract.Envoy, Name: "tcp {{ only }}"}, nil)
	require.NoError(t, err)
	dir := writeSet(t, s)
	for _, args := range [][]string{{"check", "rules", "--lint-fatal", RulesFileName}, {"test", "rules", "rules_test.yml"}} {
		cmd := exec.Command("/usr/bin/promtool", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
	}
}

// FuzzGenerate feeds endpoint names and methods as contract files may
// write them (quotes, backslashes, braces, regex characters, non-ASCII):
// the rules must parse and validate, templates included, and the unit
// test series must parse.
func FuzzGenerate(f *testing.F) {
	f.Add("/v1/users/{id}", "GET", "catalog")
	f.Add(`/a"b\c`, "post", `~/api/v[0-9]+/.*`)
	f.Add("{{ .x }}", "", "/ü/€/{id}")
	f.Add("a\nb", "GET,HEAD", "$labels")
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, name, method, other string) {
		c := &contract.Contract{Gateway: contract.Kong, Name: other, Endpoints: []contract.Endpoint{
			{Name: name, Methods: strings.Split(method, ","), RateLimit: &contract.RateLimit{Requests: 1, Period: time.Second}},
			{Name: other},
			{Name: name},
		}}
		if method == "" {
			c.Endpoints[0].Methods = nil
		}
		s, err := Generate(c, nil)
		// Each on its own: "\xde" and "\x94" are invalid, "\xde\x94" is U+0794.
		if !utf8.ValidString(name) || !utf8.ValidString(method) || !utf8.ValidString(other) {
			require.ErrorContains(t, err, "is not valid UTF-8")
			return
		}
		require.NoError(t, err)
		b, err := s.RulesYAML()
		require.NoError(t, err)
		_, errs := rulefmt.Parse(b, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
		require.Empty(t, errs, "%s", b)
		for _, tg := range s.Tests.Tests {
			for _, in := range tg.InputSeries {
				_, _, err := p.ParseSeriesDesc(in.Series + " " + in.Values)
				require.NoError(t, err, in.Series)
			}
		}
	})
}

// BenchmarkGenerateScale measures the whole of `gatewatch generate rules`
// without the disk writes at 1,000 and 10,000 endpoints: generation must
// stay linear in the endpoints (10,000 within 12x of 1,000; see
// docs/benchmarks.md).
func BenchmarkGenerateScale(b *testing.B) {
	cfg, err := config.Load("gatewatch.yaml", []byte(ordersConfig))
	require.NoError(b, err)
	for _, n := range []int{1000, 10000} {
		c := largeContract(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := Generate(c, cfg)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range []func() ([]byte, error){s.RulesYAML, s.TestsYAML, s.PrometheusRuleYAML, s.ScrapeYAML} {
					if _, err := f(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                  "0s",
		1500 * time.Millisecond:            "1.5s",
		250 * time.Millisecond:             "250ms",
		2 * time.Second:                    "2s",
		90 * time.Second:                   "1m30s",
		30 * 24 * time.Hour:                "30d",
		time.Minute + 500*time.Millisecond: "1m500ms",
		500 * time.Microsecond:             "500µs",
		1250 * time.Microsecond:            "1.25ms",
		36 * time.Hour:                     "1d12h",
		-1500 * time.Millisecond:           "-1.5s",
	} {
		require.Equal(t, want, HumanDuration(d), "%v", d)
	}
}

// TestThresholdNotes: generate says when a latency threshold is half a
// default timeout the endpoint inherits (Kong's 60s), and not when the
// endpoint has its own timeout or gatewatch.yaml sets the threshold.
func TestThresholdNotes(t *testing.T) {
	c := &contract.Contract{
		Gateway: contract.Kong, Name: "kong", Source: "kong.yaml",
		Defaults: contract.Defaults{Timeout: time.Minute},
		Endpoints: []contract.Endpoint{
			{Name: "users", Path: "/users", Match: contract.MatchPrefix, Methods: []string{"GET"}, Timeout: time.Minute, TimeoutIsDefault: true},
			{Name: "orders", Path: "/orders", Match: contract.MatchPrefix, Methods: []string{"GET"}, Timeout: 5 * time.Second},
			{Name: "payments", Path: "/payments", Match: contract.MatchPrefix, Methods: []string{"GET"}, Timeout: time.Minute, TimeoutIsDefault: true},
		},
	}
	cfg := loadConfig(t, "slo:\n  endpoints:\n    - endpoint: payments\n      latency: {threshold: 1500ms}\n")
	s, err := Generate(c, cfg)
	require.NoError(t, err)
	require.Equal(t, []string{"kong.yaml: latency threshold 30s for 1 endpoint series (users): half the gateway's default timeout of 1m, which they inherit without a timeout of their own; set slo.latency.threshold in gatewatch.yaml to say what clients expect"}, s.Notes)
	b, err := s.RulesYAML()
	require.NoError(t, err)
	require.Contains(t, string(b), "threshold: 1.5s", "durations in labels as people write them")
	require.Contains(t, string(b), "took longer than 1.5s", "and in annotations")

	cfg = loadConfig(t, "slo:\n  latency: {threshold: 1s}\n")
	s, err = Generate(c, cfg)
	require.NoError(t, err)
	require.Empty(t, s.Notes)
}

// TestEveryAlertDocumented: the default runbook_url points at an anchor of
// docs/alerts.md named after the alert, so every generated alert needs its
// section there.
func TestEveryAlertDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "alerts.md"))
	require.NoError(t, err)
	for name, s := range sets(t) {
		for _, g := range s.Rules.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					require.Contains(t, string(doc), "\n### "+r.Alert+"\n", "%s: %s has no section in docs/alerts.md", name, r.Alert)
				}
			}
		}
	}
}
