package rules

import (
	"net/url"
	"strings"

	"github.com/gatewatch/gatewatch/schema"
)

// Dashboard kinds: the four dashboards the dashboards generator writes per
// gateway.
const (
	DashboardOverview = "overview"
	DashboardEndpoint = "endpoint"
	DashboardSidecar  = "sidecar"
	DashboardProbes   = "probes"
)

// dashboardSuffix keeps every uid within Grafana's 40 characters:
// DashboardUID is at most 34.
var dashboardSuffix = map[string]string{
	DashboardOverview: "",
	DashboardEndpoint: "-ep",
	DashboardSidecar:  "-sc",
	DashboardProbes:   "-pr",
}

// KindDashboardUID is the Grafana uid of one of a gateway's dashboards:
// DashboardUID(gateway) for the overview (so existing links stay valid),
// the same with a short suffix for the others (-ep, -sc, -pr). It panics
// on an unknown kind, which is a programming error.
func KindDashboardUID(gateway, kind string) string {
	s, ok := dashboardSuffix[kind]
	if !ok {
		panic("rules: unknown dashboard kind " + kind)
	}
	return DashboardUID(gateway) + s
}

// DashboardURL is the address of one of a gateway's dashboards in the
// Grafana at base (https://grafana.example.com).
func DashboardURL(base, gateway, kind string) string {
	return strings.TrimRight(base, "/") + "/d/" + KindDashboardUID(gateway, kind)
}

// endpointDashboard is the link of a per-endpoint alert to the endpoint
// dashboard with its endpoint and method selected, when grafana.url is
// set and alerting.dashboard_url is not. e and m are the endpoint and
// method either as alert templates (tmplLabel) or as literal values (in
// the unit tests' expected annotations): a template is URL-escaped by
// Prometheus' urlquery, a value here, so both give the same text.
func (g *generator) endpointDashboard(e, m string) string {
	if g.cfg.Alerting.DashboardURL != "" || g.cfg.Grafana.URL == "" {
		return ""
	}
	q := func(label, v string) string {
		if v == tmplLabel(label) {
			return "{{ $labels." + label + " | urlquery }}"
		}
		return url.QueryEscape(v)
	}
	return DashboardURL(g.cfg.Grafana.URL, g.gateway, DashboardEndpoint) +
		"?var-" + schema.LabelEndpoint + "=" + q(schema.LabelEndpoint, e) +
		"&var-" + schema.LabelMethod + "=" + q(schema.LabelMethod, m)
}
