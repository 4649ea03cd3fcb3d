// Package e2e follows an alert along the whole path with the real
// programs: access-log lines → the sidecar → Prometheus with the generated
// rules → Alertmanager with the generated configuration → a strict local
// PagerDuty (pdtest). Time is compressed for the test: every range window
// and `for` of the generated rules is divided by timeScale, so minutes
// become seconds while the expressions stay the generated ones.
package e2e

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/alerting"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/internal/amtest"
	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/sidecar/sidecartest"
)

// timeScale divides the rules' windows and holds: 5m becomes 5s, 1h 1m.
const timeScale = 60

var window = regexp.MustCompile(`\[(\d+[smhdwy])(:|\])`)

// compress divides a Prometheus duration by timeScale (at least 4s, so
// that a rate has several 1s samples).
func compress(d string) string {
	v, err := model.ParseDuration(d)
	if err != nil {
		panic(err)
	}
	c := max(time.Duration(v)/timeScale, 4*time.Second)
	return model.Duration(c.Round(time.Second)).String()
}

func compressRules(s *rules.Set) {
	for gi := range s.Rules.Groups {
		for ri := range s.Rules.Groups[gi].Rules {
			r := &s.Rules.Groups[gi].Rules[ri]
			r.Expr = window.ReplaceAllStringFunc(r.Expr, func(m string) string {
				sub := window.FindStringSubmatch(m)
				return "[" + compress(sub[1]) + sub[2]
			})
			if r.For != "" {
				r.For = compress(r.For)
			}
		}
	}
}

const (
	pageKey    = "00000000000000000000000000000001"
	ticketKey  = "00000000000000000000000000000002"
	paymentKey = "00000000000000000000000000000003"
)

// pagerDuty starts a strict local PagerDuty with the services page,
// ticket and payments, stopped when the test ends, and writes their
// routing keys into files under dir: it returns the server and the key
// files by service.
func pagerDuty(t *testing.T, dir string) (*pdtest.Server, map[string]string) {
	t.Helper()
	services := map[string]string{pageKey: "page", ticketKey: "ticket", paymentKey: "payments"}
	pd := pdtest.NewServer(services)
	t.Cleanup(pd.Close)
	files := map[string]string{}
	for key, service := range services {
		p := filepath.Join(dir, service)
		require.NoError(t, os.WriteFile(p, []byte(key+"\n"), 0o600))
		files[service] = p
	}
	return pd, files
}

func testContract() *contract.Contract {
	return &contract.Contract{
		Gateway: contract.KrakenD,
		Name:    "shop",
		Endpoints: []contract.Endpoint{
			{Name: "/v1/orders/{id}", Path: "/v1/orders/{id}", Params: []string{"id"}, Match: contract.MatchExact, Methods: []string{"GET"}, Timeout: 2 * time.Second},
			{Name: "/v1/users", Path: "/v1/users", Match: contract.MatchExact, Methods: []string{"GET"}, Timeout: 2 * time.Second},
		},
	}
}

// TestAlertPath: an error burst on GET /v1/orders/{id} pages the payments
// team through the real Prometheus and Alertmanager — a PagerDuty trigger
// with severity critical, a dedup key, the runbook and dashboard links —
// and a resolve with the same dedup key follows the recovery. No other
// endpoint pages.
func TestAlertPath(t *testing.T) {
	promtest.SkipUnlessInstalled(t)
	amtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts a sidecar, a Prometheus and an Alertmanager; skipped with -short")
	}
	dir := t.TempDir()
	pd, keys := pagerDuty(t, dir)
	cfg, err := config.Load("gatewatch.yaml", []byte(fmt.Sprintf(`
gateway: {name: shop}
owners:
  default: platform
  teams:
    - name: payments
      endpoints: [/v1/orders*]
alerting:
  runbook_url: https://runbooks.example.com/{{ .Alert }}
  dashboard_url: https://grafana.example.com/d/{{ .UID }}
  group_wait: 1s
  group_interval: 1s
  pagerduty:
    url: %s%s
    page: {routing_key_file: %s}
    ticket: {routing_key_file: %s}
    teams:
      payments: {page_routing_key_file: %s}
`, pd.URL, pdtest.AlertPath, keys["page"], keys["ticket"], keys["payments"])))
	require.NoError(t, err)
	c := testContract()
	set, err := rules.Generate(c, cfg)
	require.NoError(t, err)
	compressRules(set)
	rulesYAML, err := set.RulesYAML()
	require.NoError(t, err)
	am, err := alerting.Alertmanager(cfg)
	require.NoError(t, err)
	amYAML, err := am.YAML()
	require.NoError(t, err)

	sc, logPath := sidecartest.Start(t, dir, cfg, c)

	var burst atomic.Bool
	burst.Store(true)
	sidecartest.WriteEvery(t, logPath, 200*time.Millisecond, func(w *bufio.Writer, rnd *rand.Rand, now time.Time) {
		for _, path := range []string{"/v1/orders/42", "/v1/users"} {
			for i := range 20 {
				status := http.StatusOK
				if path == "/v1/orders/42" && burst.Load() && i%2 == 0 {
					status = http.StatusServiceUnavailable
				}
				w.Write(loggen.Line("kong", rnd, loggen.Request{Time: now, Method: "GET", Path: path, Status: status,
					Duration: 4 * time.Millisecond, Upstream: 3 * time.Millisecond}))
				w.WriteByte('\n')
			}
		}
	})

	amURL := amtest.Start(t, dir, amYAML)
	// The generated scrape job, pointed at the sidecar: its honor_labels
	// and gateway target label are what the rules select.
	set.Scrape.ScrapeConfigs[0].StaticConfigs[0].Targets = []string{sc.Addr().String()}
	scrape, err := set.ScrapeYAML()
	require.NoError(t, err)
	promtest.Start(t, dir, map[string][]byte{
		rules.RulesFileName: rulesYAML,
		"prometheus.yml":    promtest.WithAlertmanager(promtest.Config(scrape, rules.RulesFileName), amURL),
	})

	isPage := func(e pdtest.Event) bool {
		return e.Action == "trigger" && e.Severity == "critical"
	}
	ok := pd.WaitFor(90*time.Second, func(evs []pdtest.Event) bool {
		for _, e := range evs {
			if isPage(e) {
				return true
			}
		}
		return false
	})
	require.True(t, ok, "no page arrived; events %s, rejected %+v", summaries(pd.Events()), pd.Rejections())
	var page pdtest.Event
	for _, e := range pd.Events() {
		if isPage(e) {
			page = e
			break
		}
	}
	require.Equal(t, "payments", page.Team, "the page goes to the payments team's service")
	require.Contains(t, page.Summary, "GET /v1/orders/{id} is burning its availability error budget")
	require.Equal(t, "GET /v1/orders/{id}", page.Details["endpoint"])
	require.Equal(t, "shop", page.Details["gateway"])
	require.Regexp(t, `^[0-9a-f]{64}$`, page.DedupKey)
	require.Contains(t, page.UserAgent, "Alertmanager")
	require.Equal(t, []pdtest.Link{
		{Href: "https://runbooks.example.com/" + rules.AlertAvailabilityBurn, Text: "Runbook"},
		{Href: "https://grafana.example.com/d/" + rules.DashboardUID("shop"), Text: "Dashboard"},
	}, page.Links)
	require.Empty(t, pd.Rejections(), "every event is valid")

	burst.Store(false)
	ok = pd.WaitFor(150*time.Second, func(evs []pdtest.Event) bool {
		for _, e := range evs {
			if e.Action == "resolve" && e.DedupKey == page.DedupKey {
				return true
			}
		}
		return false
	})
	require.True(t, ok, "the page was not resolved; events %s", summaries(pd.Events()))
	require.Empty(t, pd.Open("payments"))
	for _, e := range pd.Events() {
		if isPage(e) { // tickets may follow too: the burst is also a backend's 5xx
			require.Equal(t, "GET /v1/orders/{id}", e.Details["endpoint"], "only the failing endpoint pages: %s", e.Summary)
			require.Equal(t, "payments", e.Team)
		}
	}
	require.Empty(t, pd.Rejections(), "every event is valid")
}
