package rules

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKindDashboardUID(t *testing.T) {
	seen := map[string]bool{}
	long := "A Very Long Gateway Name With Spaces And Ümlauts 2026"
	for _, k := range []string{DashboardOverview, DashboardEndpoint, DashboardSidecar, DashboardProbes} {
		u := KindDashboardUID(long, k)
		require.LessOrEqual(t, len(u), 40, u)
		require.Regexp(t, `^[a-z0-9-]+$`, u)
		require.False(t, seen[u], "uid %s used twice", u)
		seen[u] = true
	}
	require.Equal(t, DashboardUID("shop-gateway"), KindDashboardUID("shop-gateway", DashboardOverview))
	require.Equal(t, "gw-shop-gateway-26cfea23-ep", KindDashboardUID("shop-gateway", DashboardEndpoint))
}

// TestGrafanaURLLinks: with grafana.url and no alerting.dashboard_url,
// burn-rate alerts link to the endpoint dashboard with their endpoint and
// method selected and other alerts to the overview; promtool's unit tests,
// which compare the expanded annotations, pass.
func TestGrafanaURLLinks(t *testing.T) {
	cfg := loadConfig(t, strings.Replace(ordersConfig, "  dashboard_url: https://grafana.example.com/d/{{ .UID }}/gateway\n", "", 1)+
		"grafana:\n  url: https://grafana.example.com/\n")
	s, err := Generate(ordersContract(), cfg)
	require.NoError(t, err)
	ep := "https://grafana.example.com/d/gw-shop-gateway-26cfea23-ep?var-endpoint={{ $labels.endpoint | urlquery }}&var-method={{ $labels.method | urlquery }}"
	var burns, ops int
	for _, g := range s.Rules.Groups {
		for _, r := range g.Rules {
			switch {
			case r.Alert == AlertAvailabilityBurn || r.Alert == AlertLatencyBurn:
				require.Equal(t, ep, r.Annotations[AnnotationDashboard], r.Alert)
				burns++
			case r.Alert != "":
				require.Equal(t, "https://grafana.example.com/d/gw-shop-gateway-26cfea23", r.Annotations[AnnotationDashboard], r.Alert)
				ops++
			}
		}
	}
	require.NotZero(t, burns)
	require.NotZero(t, ops)
	b, err := s.TestsYAML()
	require.NoError(t, err)
	require.Contains(t, string(b), "var-endpoint=%2Fv1%2Forders%2F%7Bid%7D&var-method=POST", "the unit tests expect the expanded link")

	if _, err := os.Stat("/usr/bin/promtool"); err != nil {
		t.Skip("promtool (Prometheus 2.42) is not installed at /usr/bin/promtool; install the prometheus package to run the rest of this test")
	}
	dir := writeSet(t, s)
	for _, args := range [][]string{{"check", "rules", RulesFileName}, {"test", "rules", "rules_test.yml"}} {
		cmd := exec.Command("/usr/bin/promtool", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %v:\n%s", args, out)
	}
}
