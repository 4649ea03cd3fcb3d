package alerting

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	amcommon "github.com/prometheus/alertmanager/config/common"
	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const teamsConfig = `
owners:
  default: platform
  teams:
    - name: payments
      endpoints: [/v1/orders*]
    - name: search
      endpoints: [/v1/search*]
alerting:
  group_wait: 10s
  pagerduty:
    page: {routing_key_file: /etc/am/pd-page}
    ticket: {routing_key_file: /etc/am/pd-ticket}
    url: http://127.0.0.1:9999/v2/enqueue
    teams:
      payments:
        page_routing_key_file: /etc/am/payments-page
        ticket_routing_key_file: /etc/am/payments-ticket
      search:
        page_routing_key_file: /etc/am/search-page
`

func load(t *testing.T, s string) *config.Config {
	t.Helper()
	cfg, err := config.Load("gatewatch.yaml", []byte(s))
	require.NoError(t, err)
	return cfg
}

func generate(t *testing.T, cfg *config.Config) []byte {
	t.Helper()
	c, err := Alertmanager(cfg)
	require.NoError(t, err)
	b, err := c.YAML()
	require.NoError(t, err)
	return b
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ name, cfg string }{
		{"defaults", ""},
		{"teams", teamsConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := generate(t, load(t, tc.cfg))
			require.Equal(t, got, generate(t, load(t, tc.cfg)), "output must be deterministic")
			path := filepath.Join("testdata", tc.name+".alertmanager.yml")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

// TestRouting loads the output with Alertmanager's own config package and
// checks where alerts go by walking its route tree.
func TestRouting(t *testing.T) {
	b := generate(t, load(t, teamsConfig))
	c, err := amconfig.Load(string(b))
	require.NoError(t, err)
	route := func(labels map[string]string) string {
		r := c.Route
		for {
			var next *amconfig.Route
			for _, sub := range r.Routes {
				if matches(sub.Matchers, labels) {
					next = sub
					break
				}
			}
			if next == nil {
				return r.Receiver
			}
			r = next
		}
	}
	cases := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"team": "payments", "severity": "page"}, "team-payments-page"},
		{map[string]string{"team": "payments", "severity": "ticket"}, "team-payments-ticket"},
		{map[string]string{"team": "search", "severity": "page"}, "team-search-page"},
		{map[string]string{"team": "search", "severity": "ticket"}, ReceiverTicket},
		{map[string]string{"team": "platform", "severity": "page"}, ReceiverPage},
		{map[string]string{"team": "unknown", "severity": "page"}, ReceiverPage},
		{map[string]string{"severity": "ticket"}, ReceiverTicket},
		{map[string]string{}, ReceiverTicket},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, route(tc.labels), "%v", tc.labels)
	}
	require.Equal(t, []string{"alertname", "gateway", "endpoint"}, groupBy(c.Route))
	for _, r := range c.Receivers {
		for _, pd := range r.PagerdutyConfigs {
			require.NotEmpty(t, pd.RoutingKeyFile, r.Name)
			require.Empty(t, string(pd.RoutingKey), "no key may be written, only its file")
		}
	}
}

func matches(ms amcommon.Matchers, l map[string]string) bool {
	ls := model.LabelSet{}
	for k, v := range l {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return amlabels.Matchers(ms).Matches(ls)
}

func groupBy(r *amconfig.Route) []string {
	var out []string
	for _, l := range r.GroupBy {
		out = append(out, string(l))
	}
	return out
}

// TestInhibition checks the inhibit rules against alert label sets the
// rules package generates.
func TestInhibition(t *testing.T) {
	c, err := amconfig.Load(string(generate(t, load(t, ""))))
	require.NoError(t, err)
	inhibits := func(source, target map[string]string) bool {
		for _, ir := range c.InhibitRules {
			if !matches(ir.SourceMatchers, source) || !matches(ir.TargetMatchers, target) {
				continue
			}
			ok := true
			for _, l := range ir.Equal {
				if source[l] != target[l] {
					ok = false
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	burn := func(sev, ep string) map[string]string {
		return map[string]string{"alertname": rules.AlertAvailabilityBurn, "severity": sev, "slo": "availability",
			"gateway": "gw", "endpoint": ep, "method": "GET"}
	}
	// The labels the generated alerts carry: the gateway from the
	// series, job and instance where the expression keeps them.
	allDown := map[string]string{"alertname": rules.AlertSidecarsAllDown, "severity": "page", "gateway": "gw"}
	absent := map[string]string{"alertname": rules.AlertSidecarAbsent, "severity": "page", "gateway": "gw", "job": "gatewatch"}
	oneDown := map[string]string{"alertname": rules.AlertSidecarDown, "severity": "ticket", "gateway": "gw", "job": "gatewatch", "instance": "10.0.0.1:9090"}
	decode := map[string]string{"alertname": rules.AlertDecodeErrors, "severity": "ticket", "gateway": "gw", "job": "gatewatch", "instance": "10.0.0.1:9090"}

	require.True(t, inhibits(allDown, burn("page", "/a")), "every sidecar of the gateway down: its endpoint alerts add nothing")
	require.True(t, inhibits(absent, burn("ticket", "/a")))
	require.False(t, inhibits(oneDown, burn("page", "/a")), "one replica down never silences an endpoint's page")
	require.True(t, inhibits(burn("page", "/a"), burn("ticket", "/a")))
	require.False(t, inhibits(burn("page", "/a"), burn("ticket", "/b")), "another endpoint's ticket stays")
	require.False(t, inhibits(burn("ticket", "/a"), burn("page", "/a")), "a ticket never silences a page")
	require.False(t, inhibits(allDown, decode), "a page without an SLO silences no operational ticket")
	other := burn("page", "/a")
	other["gateway"] = "other"
	require.False(t, inhibits(allDown, other), "another gateway's alerts stay")
	otherTicket := burn("ticket", "/a")
	otherTicket["gateway"] = "other"
	require.False(t, inhibits(burn("page", "/a"), otherTicket), "the same endpoint name on another gateway stays")
}

func TestAmtool(t *testing.T) {
	if _, err := os.Stat("/usr/bin/amtool"); err != nil {
		t.Skip("amtool (Alertmanager 0.25) is not installed at /usr/bin/amtool; install prometheus-alertmanager to run this test")
	}
	for _, cfg := range []string{"", teamsConfig} {
		path := filepath.Join(t.TempDir(), "alertmanager.yml")
		require.NoError(t, os.WriteFile(path, generate(t, load(t, cfg)), 0o644))
		out, err := exec.Command("/usr/bin/amtool", "check-config", path).CombinedOutput()
		require.NoError(t, err, "amtool check-config:\n%s", out)
	}
}

func TestUnknownTeam(t *testing.T) {
	// config.Load refuses the file with its line (config's tests); a
	// configuration built in Go meets this check.
	cfg := config.Default()
	cfg.File = "gatewatch.yaml"
	cfg.Alerting.PagerDuty.Teams = map[string]config.TeamPagerDuty{"nobody": {PageRoutingKeyFile: "/k"}}
	_, err := Alertmanager(cfg)
	require.EqualError(t, err, `gatewatch.yaml: alerting.pagerduty.teams.nobody: unknown team "nobody"; expected one of the owners' teams: platform`)
}
