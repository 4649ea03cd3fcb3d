// Package e2e runs the generated rules against the real pipeline:
// access-log lines written to a file, the sidecar reading and matching
// them, a real Prometheus scraping the sidecar and evaluating the rules.
// It lives apart from package rules so that the rules tests do not depend
// on the sidecar's build.
package e2e

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/sidecar/sidecartest"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/rules"
)

const gwConfig = `
slo:
  endpoints:
    - endpoint: /v1/orders*
      method: POST
      availability: 99.95
      latency: {threshold: 250ms, target: 95}
owners:
  default: platform
  teams:
    - name: payments
      endpoints: [/v1/orders*]
`

func testContract() *contract.Contract {
	return &contract.Contract{
		// KrakenD: its matcher reads {id} as a path parameter.
		Gateway: contract.KrakenD,
		Name:    "shop",
		Endpoints: []contract.Endpoint{
			{Name: "/v1/orders/{id}", Path: "/v1/orders/{id}", Params: []string{"id"}, Match: contract.MatchExact, Methods: []string{"GET"}, Timeout: 2 * time.Second},
			{Name: "/v1/orders/{id}", Path: "/v1/orders/{id}", Params: []string{"id"}, Match: contract.MatchExact, Methods: []string{"POST"}, Timeout: 4 * time.Second},
			{Name: "/v1/users", Path: "/v1/users", Match: contract.MatchExact, Methods: []string{"GET"}, Timeout: 2 * time.Second},
			{Name: "catalog", Path: "/catalog/*", Match: contract.MatchPrefix, Timeout: 500 * time.Millisecond},
		},
	}
}

// request is one kind of line the writer keeps appending.
type request struct {
	method, path string
	fail         bool // every other request answered 503
}

// TestSidecarPrometheus: every recording rule returns data, and an error
// burst on GET /v1/orders/{id} makes that endpoint's availability page
// rule hold (pending counts: the rules keep their real `for`) while no
// other endpoint has an SLO alert.
func TestSidecarPrometheus(t *testing.T) {
	promtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts a sidecar and a Prometheus; skipped with -short")
	}
	dir := t.TempDir()
	cfg, err := config.Load("gatewatch.yaml", []byte(gwConfig))
	require.NoError(t, err)
	c := testContract()
	set, err := rules.Generate(c, cfg)
	require.NoError(t, err)

	sc, logPath := sidecartest.Start(t, dir, cfg, c)

	// The writer appends 50 lines per kind of request every 200ms.
	kinds := []request{
		{"GET", "/v1/orders/42", true},
		{"POST", "/v1/orders/42", false},
		{"GET", "/v1/users", false},
		{"GET", "/catalog/books", false},
		{"PUT", "/catalog/books", false},
	}
	sidecartest.WriteEvery(t, logPath, 200*time.Millisecond, func(w *bufio.Writer, rnd *rand.Rand, now time.Time) {
		for _, k := range kinds {
			for i := range 50 {
				status := http.StatusOK
				if k.fail && i%2 == 0 {
					status = http.StatusServiceUnavailable
				}
				w.Write(loggen.Line("kong", rnd, loggen.Request{
					Time: now, Method: k.method, Path: k.path, Status: status,
					Duration: 4 * time.Millisecond, Upstream: 3 * time.Millisecond,
				}))
				w.WriteByte('\n')
			}
		}
	})

	rulesYAML, err := set.RulesYAML()
	require.NoError(t, err)
	// The generated scrape job, pointed at the sidecar.
	set.Scrape.ScrapeConfigs[0].StaticConfigs[0].Targets = []string{sc.Addr().String()}
	scrape, err := set.ScrapeYAML()
	require.NoError(t, err)
	base := promtest.Start(t, dir, map[string][]byte{
		rules.RulesFileName: rulesYAML,
		"prometheus.yml":    promtest.Config(scrape, rules.RulesFileName),
	})

	records := set.Rules.Records()
	missing := func() []string {
		var out []string
		for _, rec := range records {
			if promtest.Count(base, rec) <= 0 {
				out = append(out, rec)
			}
		}
		return out
	}
	promtest.WaitFor(t, 90*time.Second, func() bool { return len(missing()) == 0 },
		func() string { return fmt.Sprintf("recording rules without data: %v", missing()) })

	burn := func() []map[string]string {
		r, err := promtest.Get(base, "/api/v1/alerts", nil)
		if err != nil {
			return nil
		}
		var out []map[string]string
		for _, a := range r.Data.Alerts {
			if a.Labels[rules.LabelSLO] != "" {
				out = append(out, a.Labels)
			}
		}
		return out
	}
	promtest.WaitFor(t, 60*time.Second, func() bool {
		for _, a := range burn() {
			if a["alertname"] == rules.AlertAvailabilityBurn && a[rules.LabelWindow] == "1h" &&
				a[schema.LabelEndpoint] == "/v1/orders/{id}" && a[schema.LabelMethod] == "GET" {
				return true
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("the page rule of GET /v1/orders/{id} never held; alerts: %v; 5xx ratios: %s", burn(), promtest.Show(base, rules.ErrorRatio("5m")))
	})
	for _, a := range burn() {
		require.Equal(t, rules.AlertAvailabilityBurn, a["alertname"], "every request is fast: %v", a)
		require.Equal(t, "/v1/orders/{id}", a[schema.LabelEndpoint], "only the failing endpoint alerts: %v", a)
		require.Equal(t, "GET", a[schema.LabelMethod], "only the failing endpoint alerts: %v", a)
		require.Equal(t, "payments", a[rules.LabelTeam])
	}
}
