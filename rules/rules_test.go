package rules

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	for _, args := range [][]string{{"check", "rules", RulesFileName}, {"test", "rules", "rules_test.yml"}} {
		cmd := exec.Command("/usr/bin/promtool", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
	}
}
