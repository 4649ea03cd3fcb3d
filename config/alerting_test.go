package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAlertingDefaults(t *testing.T) {
	c, err := Load("gw.yaml", nil)
	require.NoError(t, err)
	a := c.Alerting
	require.Equal(t, DefaultPageRoutingKeyFile, a.PagerDuty.Page.RoutingKeyFile)
	require.Equal(t, DefaultTicketRoutingKey, a.PagerDuty.Ticket.RoutingKeyFile)
	require.Equal(t, Duration(30*time.Second), a.GroupWait)
	require.Equal(t, Duration(4*time.Hour), a.RepeatInterval)
	require.Equal(t, "gatewatch", a.Job)
	rb, err := a.RunbookFor(LinkData{Alert: "GatewatchSidecarDown"})
	require.NoError(t, err)
	require.Equal(t, "https://github.com/gatewatch/gatewatch/blob/main/docs/alerts.md#gatewatchsidecardown", rb)
	db, err := a.DashboardFor(LinkData{UID: "x"})
	require.NoError(t, err)
	require.Empty(t, db, "no dashboard link unless configured")
}

func TestAlertingLinks(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`
alerting:
  runbook_url: "https://runbooks.example.com/gatewatch/{{ .Alert }}"
  dashboard_url: "https://grafana.example.com/d/{{ .UID }}?var-gateway={{ .Gateway | urlquery }}"
`))
	require.NoError(t, err)
	rb, err := c.Alerting.RunbookFor(LinkData{Alert: "GatewatchDecodeErrors"})
	require.NoError(t, err)
	require.Equal(t, "https://runbooks.example.com/gatewatch/GatewatchDecodeErrors", rb)
	db, err := c.Alerting.DashboardFor(LinkData{UID: "gw-a-1", Gateway: "shop gw"})
	require.NoError(t, err)
	require.Equal(t, "https://grafana.example.com/d/gw-a-1?var-gateway=shop+gw", db)
}

func TestAlertingErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown key", "alerting:\n  runbook: x\n", `gw.yaml:2:3: unknown key "runbook" in alerting; expected one of: dashboard_url, group_interval, group_wait, job, pagerduty, repeat_interval, runbook_url, shipping_lag`},
		{"unknown pagerduty key", "alerting:\n  pagerduty:\n    page: {routing_key: abc}\n", `gw.yaml:3:12: unknown key "routing_key" in alerting.pagerduty.page; expected one of: routing_key_file`},
		{"bad template", "alerting:\n  runbook_url: 'https://x/{{ .Alert'\n", "gw.yaml:2:3: alerting.runbook_url: parsing template:"},
		{"unknown field", "alerting:\n  dashboard_url: 'https://x/{{ .Endpoint }}'\n", "gw.yaml:2:3: alerting.dashboard_url: executing template:"},
		{"not a URL", "alerting:\n  runbook_url: 'runbooks/{{ .Alert }}'\n", `gw.yaml:2:3: alerting.runbook_url: template gives "runbooks/GatewatchSidecarDown", which is not an http(s) URL`},
		{"relative key file", "alerting:\n  pagerduty:\n    ticket:\n      routing_key_file: k\n", `gw.yaml:4:7: alerting.pagerduty.ticket.routing_key_file: "k" is not an absolute path`},
		{"team without files", "alerting:\n  pagerduty:\n    teams:\n      payments: {}\n", `gw.yaml:4:7: alerting.pagerduty.teams.payments: team "payments" names no routing key file`},
		{"bad events url", "alerting:\n  pagerduty:\n    url: events.pagerduty.com\n", `gw.yaml:3:5: alerting.pagerduty.url: "events.pagerduty.com" is not an http(s) URL`},
		{"unknown team", "owners:\n  teams: [{name: payments, endpoints: [/v1/pay*]}]\nalerting:\n  pagerduty:\n    teams:\n      paymnts: {page_routing_key_file: /k}\n", `gw.yaml:6:7: alerting.pagerduty.teams.paymnts: unknown team "paymnts"; expected one of the owners' teams: payments, platform`},
		{"negative", "alerting:\n  group_wait: -1s\n", `gw.yaml:2:15: alerting.group_wait: "-1s" is not a duration`},
		{"bad job", "alerting:\n  job: 'a\"b'\n", `gw.yaml:2:3: alerting.job: "a\"b" is not usable as a job label value`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want prefix %q", err.Error(), tc.want)
		})
	}
}

func FuzzAlertingSection(f *testing.F) {
	f.Add("alerting: {}\n")
	f.Add("alerting:\n  runbook_url: 'https://r/{{ .Alert | lower }}'\n  dashboard_url: 'https://g/d/{{ .UID }}?g={{ .Gateway | urlquery }}'\n")
	f.Add("alerting:\n  pagerduty:\n    page: {routing_key_file: /k/p}\n    teams: {a: {page_routing_key_file: /k/a}}\n    url: http://127.0.0.1:1/v2/enqueue\n")
	f.Add("alerting:\n  runbook_url: '{{ template \"x\" }}'\n  group_wait: 0s\n  job: ''\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Load("gw.yaml", []byte(in))
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "gw.yaml"), "error without the file name: %v", err)
			return
		}
		// A configuration that loads renders its links.
		d := LinkData{Alert: "GatewatchSidecarDown", Gateway: "gw", UID: "gw-0"}
		_, err = c.Alerting.RunbookFor(d)
		require.NoError(t, err)
		_, err = c.Alerting.DashboardFor(d)
		require.NoError(t, err)
		require.NotEmpty(t, c.Alerting.PagerDuty.Page.RoutingKeyFile)
		require.NotEmpty(t, c.Alerting.Job)
	})
}
