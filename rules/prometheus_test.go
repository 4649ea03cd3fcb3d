package rules

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/exporter"
)

// testExporter serves the sidecar's metrics through the real exporter
// (package exporter, as the sidecar uses it: OpenMetrics exposition) and
// records traffic at each scrape: perScrape requests to every endpoint and
// method, half of them answered 503 on the burst series, all fast.
type testExporter struct {
	mu      sync.Mutex
	exp     *exporter.Exporter
	series  []testSeries
	burst   testSeries
	handler http.Handler
}

type testSeries struct {
	ep     *contract.Endpoint
	method string
}

func newTestExporter(c *contract.Contract, gateway string, buckets []float64, burst [2]string) *testExporter {
	reg := prometheus.NewRegistry()
	e := &testExporter{exp: exporter.New(reg, c, exporter.Options{Gateway: gateway, Buckets: buckets})}
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		ms := ep.Methods
		if len(ms) == 0 {
			ms = []string{"GET"}
		}
		for _, m := range ms {
			s := testSeries{ep, m}
			e.series = append(e.series, s)
			if ep.Name == burst[0] && m == burst[1] {
				e.burst = s
			}
		}
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	e.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.tick()
		h.ServeHTTP(w, r)
	})
	return e
}

func (e *testExporter) tick() {
	e.mu.Lock()
	defer e.mu.Unlock()
	const perScrape = 100
	now := time.Now()
	for _, s := range e.series {
		for i := range perScrape {
			ev := accesslog.Event{
				Time: now, Method: s.method, Path: s.ep.Path, Status: http.StatusOK,
				Duration: 4 * time.Millisecond, Upstream: -1, Overhead: -1, BytesIn: -1, BytesOut: -1,
			}
			if s == e.burst && i%2 == 0 {
				ev.Status = http.StatusServiceUnavailable
			}
			e.exp.Record(&ev, s.ep)
		}
	}
	e.exp.Flush()
}

// TestPrometheus loads the generated rules, unchanged, into a real
// Prometheus scraping the real exporter every second: every recording rule
// must return data, and a burst of errors on one endpoint must make that
// endpoint's availability page alert hold (pending: the rules keep their
// real `for`, which the test does not wait out) while no other endpoint
// has an SLO alert.
func TestPrometheus(t *testing.T) {
	promtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts a Prometheus and waits for rule evaluations; skipped with -short")
	}
	cfg := loadConfig(t, ordersConfig)
	c := ordersContract()
	s, err := Generate(c, cfg)
	require.NoError(t, err)

	burst := [2]string{"/v1/orders/{id}", "GET"}
	exp := newTestExporter(c, s.Gateway, schema.Buckets(cfg.LatencyThresholds(c)...), burst)
	srv := httptest.NewServer(exp.handler)
	t.Cleanup(srv.Close)

	rulesYAML, err := s.RulesYAML()
	require.NoError(t, err)
	// The generated scrape job, pointed at the test exporter.
	s.Scrape.ScrapeConfigs[0].StaticConfigs[0].Targets = []string{srv.Listener.Addr().String()}
	scrape, err := s.ScrapeYAML()
	require.NoError(t, err)
	base := promtest.Start(t, t.TempDir(), map[string][]byte{
		RulesFileName:    rulesYAML,
		"prometheus.yml": promtest.Config(scrape, RulesFileName),
	})

	records := s.Rules.Records()
	missing := func() []string {
		var out []string
		for _, rec := range records {
			r, err := promtest.Get(base, "/api/v1/query", url.Values{"query": {rec}})
			if err != nil || len(r.Data.Result) == 0 {
				out = append(out, rec)
			}
		}
		return out
	}
	promtest.WaitFor(t, 90*time.Second, func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("recording rules without data: %v", missing()) })

	burnAlerts := func() []map[string]string {
		r, err := promtest.Get(base, "/api/v1/alerts", nil)
		if err != nil {
			return nil
		}
		var out []map[string]string
		for _, a := range r.Data.Alerts {
			if a.Labels[LabelSLO] != "" {
				out = append(out, a.Labels)
			}
		}
		return out
	}
	promtest.WaitFor(t, 60*time.Second, func() bool {
		for _, a := range burnAlerts() {
			if a["alertname"] == AlertAvailabilityBurn && a[LabelSeverity] == SeverityPage && a[LabelWindow] == "1h" &&
				a[schema.LabelEndpoint] == burst[0] && a[schema.LabelMethod] == burst[1] {
				return true
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("the page alert of %s %s never held; alerts: %v", burst[1], burst[0], burnAlerts())
	})
	for _, a := range burnAlerts() {
		require.Equal(t, AlertAvailabilityBurn, a["alertname"], "no latency alert: every request is fast: %v", a)
		require.Equal(t, burst[0], a[schema.LabelEndpoint], "only the failing endpoint alerts: %v", a)
		require.Equal(t, burst[1], a[schema.LabelMethod], "only the failing endpoint alerts: %v", a)
		require.Equal(t, "payments", a[LabelTeam])
	}
}

// TestPrometheusTwoGateways loads the rules of two Kong gateways whose
// routes have the same names into one real Prometheus, scraping two real
// exporters through the generated scrape jobs. An error burst on one
// gateway's users route must make that gateway's users alert hold and no
// other; the recorded series of the two gateways stay apart, and up
// carries the gateway label.
func TestPrometheusTwoGateways(t *testing.T) {
	promtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts a Prometheus and waits for rule evaluations; skipped with -short")
	}
	kong := func(name string) *contract.Contract {
		return &contract.Contract{
			Gateway: contract.Kong,
			Name:    name,
			Endpoints: []contract.Endpoint{
				{Name: "users", Path: "/users", Match: contract.MatchPrefix, Methods: []string{"GET"}, Timeout: time.Minute},
				{Name: "orders", Path: "/orders", Match: contract.MatchPrefix, Methods: []string{"GET", "POST"}, Timeout: time.Minute},
			},
		}
	}
	cfg := loadConfig(t, "")
	burst := [2]string{"users", "GET"}
	files := map[string][]byte{}
	var scrape ScrapeConfig
	var ruleFiles []string
	for _, gw := range []struct {
		name  string
		burst [2]string
	}{{"kong-eu", burst}, {"kong-us", [2]string{}}} {
		c := kong(gw.name)
		s, err := Generate(c, cfg)
		require.NoError(t, err)
		require.Equal(t, gw.name, s.Gateway)
		exp := newTestExporter(c, s.Gateway, schema.Buckets(cfg.LatencyThresholds(c)...), gw.burst)
		srv := httptest.NewServer(exp.handler)
		t.Cleanup(srv.Close)
		b, err := s.RulesYAML()
		require.NoError(t, err)
		file := gw.name + ".rules.yml"
		files[file] = b
		ruleFiles = append(ruleFiles, file)
		job := s.Scrape.ScrapeConfigs[0]
		job.StaticConfigs = []StaticConfig{{Targets: []string{srv.Listener.Addr().String()}}}
		scrape.ScrapeConfigs = append(scrape.ScrapeConfigs, job)
	}
	sc, err := scrape.YAML()
	require.NoError(t, err)
	files["prometheus.yml"] = promtest.Config(sc, ruleFiles...)
	base := promtest.Start(t, t.TempDir(), files)

	// values returns gateway → value of an instant query's series.
	values := func(q string) map[string]string {
		series, err := promtest.Query(base, q)
		if err != nil {
			return nil
		}
		out := map[string]string{}
		for _, s := range series {
			out[s.Metric[schema.LabelGateway]] = fmt.Sprint(s.Value[1])
		}
		return out
	}
	ratio := selector(ErrorRatio("5m"), eq(schema.LabelEndpoint, "users"), eq(schema.LabelMethod, "GET"))
	promtest.WaitFor(t, 90*time.Second, func() bool {
		v := values(ratio)
		return len(v) == 2 && v["kong-eu"] == "0.5" && v["kong-us"] == "0"
	}, func() string {
		return fmt.Sprintf("the users 5xx ratios of both gateways, apart: %v", values(ratio))
	})
	for _, q := range []string{
		selector("up", eq(sidecarJob, cfg.Alerting.Job)),
		selector(RequestRate("5m"), eq(schema.LabelEndpoint, "users")),
		selector(SLOObjective(), eq(schema.LabelEndpoint, "users"), eq(LabelSLO, SLOAvailability)),
	} {
		v := values(q)
		require.Len(t, v, 2, "%s: one series per gateway: %v", q, v)
		require.Contains(t, v, "kong-eu", q)
		require.Contains(t, v, "kong-us", q)
	}

	alerts := func() []map[string]string {
		r, err := promtest.Get(base, "/api/v1/alerts", nil)
		if err != nil {
			return nil
		}
		var out []map[string]string
		for _, a := range r.Data.Alerts {
			if a.Labels[LabelSLO] != "" {
				out = append(out, a.Labels)
			}
		}
		return out
	}
	promtest.WaitFor(t, 60*time.Second, func() bool {
		for _, a := range alerts() {
			if a["alertname"] == AlertAvailabilityBurn && a[LabelSeverity] == SeverityPage && a[LabelWindow] == "1h" &&
				a[schema.LabelGateway] == "kong-eu" && a[schema.LabelEndpoint] == "users" {
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("the page alert of kong-eu users never held; alerts: %v", alerts()) })
	for _, a := range alerts() {
		require.Equal(t, "kong-eu", a[schema.LabelGateway], "only the failing gateway alerts: %v", a)
		require.Equal(t, "users", a[schema.LabelEndpoint], "only the failing route alerts: %v", a)
		require.Equal(t, AlertAvailabilityBurn, a["alertname"], "every request is fast: %v", a)
	}
}
