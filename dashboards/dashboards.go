// Package dashboards generates the Grafana dashboards of a gateway with
// Grafana's own Go SDK (grafana-foundation-sdk): an overview, an endpoint
// dashboard whose endpoint and method are variables (its JSON does not
// grow with the contract), a sidecar dashboard and a probes dashboard;
// the file-provisioning YAML for them and for a Prometheus datasource;
// and Push, which creates or updates them through Grafana's HTTP API.
//
// Generation is a pure function of the contract and gatewatch.yaml: the
// same input gives byte-identical output. Every query selects the
// gateway's label and names only metrics from the schema package, series
// recorded by the rules generator (through its name functions) and
// Prometheus' own up and ALERTS.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// SchemaVersion is the dashboard schema the JSON declares: Grafana 11's,
// which Grafana 11 and 12 load (12 migrates it on load). The SDK's
// default, 42, is newer than Grafana 11 knows.
const SchemaVersion = 39

// Tag is on every generated dashboard, with the gateway's name.
const Tag = "gatewatch"

// Dashboard is one generated dashboard.
type Dashboard struct {
	// Kind is rules.DashboardOverview, DashboardEndpoint,
	// DashboardSidecar or DashboardProbes.
	Kind string
	// Gateway is the gateway's name.
	Gateway string
	// UID is rules.KindDashboardUID(Gateway, Kind).
	UID string
	// Title is the dashboard's title.
	Title string
	// Model is the dashboard as the SDK builds it.
	Model dashboard.Dashboard
}

// JSON returns the dashboard's JSON model, indented, newline-terminated.
func (d *Dashboard) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d.Model); err != nil {
		return nil, fmt.Errorf("encoding dashboard %s: %w", d.UID, err)
	}
	return b.Bytes(), nil
}

// FileName is the dashboard's file name: its uid and kind, so that the
// dashboards of several gateways can share a provisioning folder.
func (d *Dashboard) FileName() string {
	return rules.DashboardUID(d.Gateway) + "-" + d.Kind + ".json"
}

// Set is everything generated for one gateway.
type Set struct {
	// Gateway is the gateway's name as the series' gateway label gives it.
	Gateway string
	// Folder is the Grafana folder title (grafana.folder).
	Folder string
	// Dashboards are the overview, endpoint, sidecar and probes
	// dashboards, in that order.
	Dashboards []Dashboard

	cfg *config.Config
}

// Options are inputs that do not come from gatewatch.yaml.
type Options struct {
	// KibanaSearch is the id of the Kibana saved search of the gateway's
	// access logs (shipper.SavedSearchID); with grafana.kibana_url, the
	// endpoint dashboard links to it. Empty: no Kibana link.
	KibanaSearch string
}

// generator holds what every dashboard needs.
type generator struct {
	c       *contract.Contract
	cfg     *config.Config
	opts    Options
	gateway string
	gw      scope // gateway="<name>"
	period  string
	// longest is the longest window the rules record ratios over.
	longest string
}

// Generate writes the dashboards of contract c with gatewatch.yaml cfg.
func Generate(c *contract.Contract, cfg *config.Config, opts Options) (*Set, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	g := &generator{c: c, cfg: cfg, opts: opts, gateway: rules.GatewayName(c, cfg)}
	g.gw = scope{eq(schema.LabelGateway, g.gateway)}
	g.period = model.Duration(time.Duration(cfg.SLO.Period)).String()
	g.longest = rules.Windows[len(rules.Windows)-1]
	s := &Set{Gateway: g.gateway, Folder: cfg.Grafana.Folder, cfg: cfg}
	for _, k := range []struct {
		kind, title string
		build       func(*board)
	}{
		{rules.DashboardOverview, "overview", g.overview},
		{rules.DashboardEndpoint, "endpoint", g.endpoint},
		{rules.DashboardSidecar, "sidecar", g.sidecar},
		{rules.DashboardProbes, "probes", g.probes},
	} {
		d, err := g.build(k.kind, g.gateway+" "+k.title, k.build)
		if err != nil {
			return nil, err
		}
		s.Dashboards = append(s.Dashboards, d)
	}
	return s, nil
}

// build makes one dashboard: the common settings, the datasource
// variable, links to its siblings, then what fill adds.
func (g *generator) build(kind, title string, fill func(*board)) (Dashboard, error) {
	uid := rules.KindDashboardUID(g.gateway, kind)
	b := dashboard.NewDashboardBuilder(title).Uid(uid).
		Tags([]string{Tag, g.gateway}).
		Timezone("browser").Refresh("30s").Time("now-6h", "now").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder(datasourceVar).Label("Data source").Type("prometheus").
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(DatasourceName)},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(DatasourceUID)},
			})).
		Link(dashboard.NewDashboardLinkBuilder(g.gateway + " dashboards").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag, g.gateway}).AsDropdown(true).KeepTime(true).Icon("external link"))
	firing := g.gw.with(eq(schema.LabelAlertState, schema.AlertStateFiring)).of(schema.PrometheusAlerts)
	b.Annotation(dashboard.NewAnnotationQueryBuilder().Name("Annotations & Alerts").BuiltIn(1).Type("dashboard").
		Datasource(common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")}).
		Enable(true).Hide(true).IconColor("rgba(0, 211, 255, 1)"))
	b.Annotation(dashboard.NewAnnotationQueryBuilder().Name("Firing gatewatch alerts").Datasource(ds).
		Enable(true).IconColor("red").Expr(firing).Step("60s").
		TitleFormat("{{" + schema.LabelAlertName + "}}").
		TextFormat("{{" + schema.LabelEndpoint + "}} {{" + schema.LabelMethod + "}}").
		TagKeys(rules.LabelSeverity + "," + rules.LabelTeam))
	bd := &board{b: b}
	fill(bd)
	d, err := b.Build()
	if err != nil {
		return Dashboard{}, fmt.Errorf("building the %s dashboard: %w", kind, err)
	}
	d.SchemaVersion = SchemaVersion
	for i := range d.Links {
		// The SDK places links in Grafana 12's controls menu; without
		// placement they show above the panels in every version.
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil // likewise
	}
	for _, p := range d.Panels {
		if p.Panel != nil && p.Panel.FieldConfig != nil {
			for i := range p.Panel.FieldConfig.Defaults.Links {
				p.Panel.FieldConfig.Defaults.Links[i].Placement = nil // data links have none
			}
		}
	}
	return Dashboard{Kind: kind, Gateway: g.gateway, UID: uid, Title: title, Model: d}, nil
}
