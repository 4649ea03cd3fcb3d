package rules

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
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

func newTestExporter(c *contract.Contract, buckets []float64, burst [2]string) *testExporter {
	reg := prometheus.NewRegistry()
	e := &testExporter{exp: exporter.New(reg, c, exporter.Options{Buckets: buckets})}
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

type promResult struct {
	Status string `json:"status"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
		} `json:"result"`
		Alerts []struct {
			Labels map[string]string `json:"labels"`
			State  string            `json:"state"`
		} `json:"alerts"`
	} `json:"data"`
}

func promGet(base, path string, q url.Values) (*promResult, error) {
	resp, err := http.Get(base + path + "?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r promResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: status %s", path, r.Status)
	}
	return &r, nil
}

// TestPrometheus loads the generated rules, unchanged, into a real
// Prometheus scraping the real exporter every second: every recording rule
// must return data, and a burst of errors on one endpoint must make that
// endpoint's availability page alert hold (pending: the rules keep their
// real `for`, which the test does not wait out) while no other endpoint
// has an SLO alert.
func TestPrometheus(t *testing.T) {
	const bin = "/usr/bin/prometheus"
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is not installed; install the prometheus package (2.42) to run this test", bin)
	}
	if testing.Short() {
		t.Skip("starts a Prometheus and waits for rule evaluations; skipped with -short")
	}
	cfg := loadConfig(t, ordersConfig)
	c := ordersContract()
	s, err := Generate(c, cfg)
	require.NoError(t, err)

	burst := [2]string{"/v1/orders/{id}", "GET"}
	exp := newTestExporter(c, schema.Buckets(cfg.LatencyThresholds(c)...), burst)
	srv := httptest.NewServer(exp.handler)
	t.Cleanup(srv.Close)

	rulesYAML, err := s.RulesYAML()
	require.NoError(t, err)
	base := promtest.Start(t, t.TempDir(), map[string][]byte{
		RulesFileName:    rulesYAML,
		"prometheus.yml": promtest.ScrapeConfig(cfg.Alerting.Job, srv.Listener.Addr().String(), RulesFileName),
	})

	records := s.Rules.Records()
	missing := func() []string {
		var out []string
		for _, rec := range records {
			r, err := promGet(base, "/api/v1/query", url.Values{"query": {rec}})
			if err != nil || len(r.Data.Result) == 0 {
				out = append(out, rec)
			}
		}
		return out
	}
	promtest.WaitFor(t, 90*time.Second, func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("recording rules without data: %v", missing()) })

	burnAlerts := func() []map[string]string {
		r, err := promGet(base, "/api/v1/alerts", nil)
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
