package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/alerting"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/internal/amtest"
	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/prober"
	"github.com/gatewatch/gatewatch/rules"
)

// TestProbePath: the gateway goes down. `gatewatch probe` pages on its
// own through a PagerDuty outage (503s, then a 429 with Retry-After), and
// through the real Prometheus (scraping the prober with the generated
// job, evaluating the generated probe rules) and Alertmanager,
// GatewatchGatewayDown pages and inhibits the endpoint alerts of the same
// gateway. When the gateway is back both incidents resolve.
func TestProbePath(t *testing.T) {
	promtest.SkipUnlessInstalled(t)
	amtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts a prober, a Prometheus and an Alertmanager; skipped with -short")
	}
	dir := t.TempDir()
	pd, keys := pagerDuty(t, dir)
	var down atomic.Bool
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	t.Cleanup(gateway.Close)
	proberAddr := promtest.FreeAddr(t)
	cfg, err := config.Load("gatewatch.yaml", []byte(fmt.Sprintf(`
gateway: {name: shop}
owners:
  default: platform
  teams:
    - name: payments
      endpoints: [/v1/orders*]
alerting:
  group_wait: 1s
  group_interval: 1s
  pagerduty:
    url: %[1]s%[2]s
    page: {routing_key_file: %[3]s}
    ticket: {routing_key_file: %[4]s}
    teams:
      payments: {page_routing_key_file: %[5]s}
probe:
  interval: 1s
  timeout: 500ms
  trigger_after: 2
  resolve_after: 2
  location: test-runner
  listen: %[6]s
  outbox_dir: %[7]s
  base_url: %[8]s
  targets:
    - {name: health, url: /health, expect_body: '"status":"ok"'}
  pagerduty:
    url: %[1]s
    routing_key_file: %[3]s
`, pd.URL, pdtest.AlertPath, keys["page"], keys["ticket"], keys["payments"],
		proberAddr, filepath.Join(dir, "outbox"), gateway.URL)))
	require.NoError(t, err)

	set, err := rules.Generate(testContract(), cfg)
	require.NoError(t, err)
	compressRules(set)
	rulesYAML, err := set.RulesYAML()
	require.NoError(t, err)
	am, err := alerting.Alertmanager(cfg)
	require.NoError(t, err)
	amYAML, err := am.YAML()
	require.NoError(t, err)
	targets, _ := probe.Targets(nil, cfg)
	scrape, err := probe.New(targets, probe.Options{Gateway: "shop", Interval: time.Second, ProberAddress: proberAddr}).ScrapeYAML()
	require.NoError(t, err)

	s, err := prober.FromConfig(cfg, nil, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	amURL := amtest.Start(t, dir, amYAML)
	// The generated scrape jobs; the blackbox job is there too, its
	// exporter absent: only the prober is scraped.
	base := promtest.Start(t, dir, map[string][]byte{
		rules.RulesFileName: rulesYAML,
		"prometheus.yml":    promtest.WithAlertmanager(promtest.Config(scrape, rules.RulesFileName), amURL),
	})

	// Healthy first: Prometheus sees the prober's series.
	promtest.WaitFor(t, 30*time.Second, func() bool {
		return strings.Contains(promtest.Show(base, `gatewatch_probe_success{gateway="shop",check="health"}`), `"1"]`)
	}, func() string { return "no gatewatch_probe_success from the prober: " + promtest.Show(base, "up") })

	pd.Inject(pdtest.Fault{Status: 503, Count: 2})
	pd.Inject(pdtest.Fault{Status: 429, RetryAfter: "1", Count: 1})
	down.Store(true)
	// An endpoint alert of the same gateway reaches Alertmanager while the
	// gateway is down: it must be inhibited. One of another gateway is not.
	endpointAlert := func(gw string) map[string]any {
		return map[string]any{"labels": map[string]string{"alertname": rules.AlertAvailabilityBurn, "severity": "page", "team": "payments",
			"gateway": gw, "endpoint": "/v1/orders/{id}", "method": "GET", "slo": "availability", "window": "1h"},
			"annotations": map[string]string{"summary": "burn on " + gw}}
	}
	trigger := func(evs []pdtest.Event, pred func(pdtest.Event) bool) bool {
		for _, e := range evs {
			if e.Action == "trigger" && pred(e) {
				return true
			}
		}
		return false
	}
	proberPage := func(e pdtest.Event) bool { return e.DedupKey == probe.DedupKey("shop", "health") }
	amPage := func(e pdtest.Event) bool { return strings.Contains(e.Summary, "Every probe of shop fails") }
	require.True(t, pd.WaitFor(60*time.Second, func(evs []pdtest.Event) bool { return trigger(evs, proberPage) && trigger(evs, amPage) }),
		"pages: %s; alerts: %s", summaries(pd.Events()), promtest.Show(base, "ALERTS"))
	amtest.PostAlerts(t, amURL, endpointAlert("shop"), endpointAlert("other"))
	require.True(t, pd.WaitFor(30*time.Second, func(evs []pdtest.Event) bool {
		return trigger(evs, func(e pdtest.Event) bool { return e.Summary == "burn on other" })
	}), "the other gateway's alert is delivered")
	time.Sleep(3 * time.Second) // group_wait and group_interval are 1s: an uninhibited alert would be here
	require.False(t, trigger(pd.Events(), func(e pdtest.Event) bool { return e.Summary == "burn on shop" }), "the endpoint alert of the down gateway is inhibited")

	var pe pdtest.Event
	for _, e := range pd.Events() {
		if e.Action == "trigger" && proberPage(e) {
			pe = e
		}
	}
	require.Equal(t, "page", pe.Team)
	require.Equal(t, "critical", pe.Severity)
	require.Equal(t, "test-runner", pe.Details["location"])
	require.Contains(t, pe.Summary, "status 502")
	requests, faulted := pd.Counts()
	require.Equal(t, 3, faulted, "the outage was seen (%d requests)", requests)

	var gatewayDown string
	for _, e := range pd.Events() {
		if e.Action == "trigger" && amPage(e) {
			gatewayDown = e.DedupKey
		}
	}
	down.Store(false)
	require.True(t, pd.WaitFor(60*time.Second, func(evs []pdtest.Event) bool {
		open := pd.Open("page")
		return !slices.Contains(open, gatewayDown) && !slices.Contains(open, probe.DedupKey("shop", "health"))
	}), "open incidents after recovery: %v; events %s", pd.Open("page"), summaries(pd.Events()))
	var seq []string
	for _, e := range pd.Events() {
		if proberPage(e) {
			seq = append(seq, e.Action)
		}
	}
	require.Equal(t, []string{"trigger", "resolve"}, seq, "the prober's events: once each, in order")
	require.Empty(t, pd.Rejections())
}

// summaries says what each event is, for messages.
func summaries(evs []pdtest.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %s %s team=%s severity=%s %q", e.Action, e.DedupKey, e.Team, e.Severity, e.Summary)
	}
	return b.String()
}
