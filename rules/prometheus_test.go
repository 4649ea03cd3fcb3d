package rules

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/exporter"
)

// testExporter serves the request metrics of the schema through
// client_golang in OpenMetrics form, as the sidecar does. Each scrape adds
// traffic: perScrape requests to every series, errors of them 5xx on the
// series of errEndpoint.
type testExporter struct {
	mu        sync.Mutex
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	series    [][2]string
	errSeries [2]string
	handler   http.Handler
}

func newTestExporter(buckets []float64, series [][2]string, errSeries [2]string) *testExporter {
	reg := prometheus.NewRegistry()
	e := &testExporter{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: exporter.RequestsTotal.Name, Help: exporter.RequestsTotal.Help,
		}, exporter.RequestsTotal.Labels),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: exporter.RequestDuration.Name, Help: exporter.RequestDuration.Help, Buckets: buckets,
		}, exporter.RequestDuration.Labels),
		series:    series,
		errSeries: errSeries,
	}
	reg.MustRegister(e.requests, e.durations)
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
	for _, s := range e.series {
		fail := 0
		if s == e.errSeries {
			fail = perScrape / 2
		}
		// Label order of the schema: endpoint, method, code, track.
		e.requests.WithLabelValues(s[0], s[1], "200", "stable").Add(float64(perScrape - fail))
		if fail > 0 {
			e.requests.WithLabelValues(s[0], s[1], "503", "stable").Add(float64(fail))
		}
		for range 10 {
			e.durations.WithLabelValues(s[0], s[1], "stable").Observe(0.004)
		}
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
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
// Prometheus scraping a test exporter every second: every recording rule
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

	var series [][2]string
	for _, ep := range c.Endpoints {
		for _, m := range ep.Methods {
			series = append(series, [2]string{ep.Name, m})
		}
		if len(ep.Methods) == 0 {
			series = append(series, [2]string{ep.Name, "GET"})
		}
	}
	burst := [2]string{"/v1/orders/{id}", "GET"}
	exp := newTestExporter(exporter.Buckets(cfg.LatencyThresholds(c)...), series, burst)
	srv := httptest.NewServer(exp.handler)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	rulesYAML, err := s.RulesYAML()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, RulesFileName), rulesYAML, 0o644))
	target := srv.Listener.Addr().String()
	promCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%s]
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%q]
`, RulesFileName, cfg.Alerting.Job, target)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promCfg), 0o644))

	addr := freePort(t)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	base := "http://" + addr

	var records []string
	seen := map[string]bool{}
	for _, g := range s.Rules.Groups {
		for _, r := range g.Rules {
			if r.Record != "" && !seen[r.Record] {
				seen[r.Record] = true
				records = append(records, r.Record)
			}
		}
	}
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
	require.Eventually(t, func() bool { return len(missing()) == 0 }, 90*time.Second, time.Second,
		"recording rules without data: %v", missing())

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
	require.Eventually(t, func() bool {
		for _, a := range burnAlerts() {
			if a["alertname"] == AlertAvailabilityBurn && a[LabelSeverity] == SeverityPage && a[LabelWindow] == "1h" &&
				a[exporter.LabelEndpoint] == burst[0] && a[exporter.LabelMethod] == burst[1] {
				return true
			}
		}
		return false
	}, 60*time.Second, time.Second, "the page alert of %s %s never held; alerts: %v", burst[1], burst[0], burnAlerts())
	for _, a := range burnAlerts() {
		require.Equal(t, AlertAvailabilityBurn, a["alertname"], "no latency alert: every request is fast: %v", a)
		require.Equal(t, burst[0], a[exporter.LabelEndpoint], "only the failing endpoint alerts: %v", a)
		require.Equal(t, burst[1], a[exporter.LabelMethod], "only the failing endpoint alerts: %v", a)
		require.Equal(t, "payments", a[LabelTeam])
	}
}
