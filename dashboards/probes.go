package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/gatewatch/gatewatch/schema"
)

// probes answers: can clients reach the gateway from outside, how fast,
// and when do its certificates expire.
func (g *generator) probes(bd *board) {
	check := schema.LabelCheck
	bd.b.WithVariable(dashboard.NewQueryVariableBuilder(check).Label("Check").Datasource(ds).
		Query(dashboard.StringOrMap{String: cog.ToPtr(labelValues(g.gw.of(schema.ProbeSuccess.Name), check))}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).IncludeAll(true).AllValue(allValue).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
		}))
	s := g.gw.with(re(check, "$"+check))
	success := s.of(schema.ProbeSuccess.Name)
	expiry := agg("min", s.of(schema.ProbeTLSExpiry.Name), check) + " - time()"

	bd.row("Uptime")
	bd.stat("Checks succeeding", "Checks whose last probe succeeded.", unitNone, 6, neutral(),
		q("sum("+success+")", ""))
	bd.stat("Checks failing", "Checks whose last probe failed.", unitNone, 6,
		thresholds("green", step{1, "red"}),
		q("count("+success+" == 0) or vector(0)", ""))
	bd.stat("Uptime over the time range", "Share of probes that succeeded over the dashboard's time range, all selected checks.", unitPercent, 6,
		thresholds("red", step{0.99, "orange"}, step{0.999, "green"}),
		q("avg(avg_over_time("+success+"["+rangeVar+"]))", ""))
	bd.stat("First certificate expiry", "Time until the first certificate of the selected checks expires.", unitSeconds, 6,
		thresholds("red", step{7 * 86400, "orange"}, step{21 * 86400, "green"}),
		q("min("+expiry+")", ""))

	bd.row("Checks")
	bd.seriesWith("Success by check", "1 when the last probe of a check succeeded, 0 when it failed.", unitNone, 12,
		func(p *timeseries.PanelBuilder) { p.Min(0).Max(1) },
		q(agg("min", success, check), legendOf(check)))
	bd.series("Status code by check", "HTTP status code of the last probe (0: none received).", unitNone, 12,
		q(agg("max", s.of(schema.ProbeStatusCode.Name), check), legendOf(check)))
	bd.seriesWith("Duration by phase", "Time of each phase of the last probe (resolve, connect, tls, processing, transfer), stacked.", unitSeconds, 12,
		func(p *timeseries.PanelBuilder) {
			p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
		},
		q(agg("max", s.of(schema.ProbeDuration.Name), check, schema.LabelPhase), legendOf(check, schema.LabelPhase)))
	bd.table("Certificate expiry", "Time until each check's first certificate expires, soonest first.", unitSeconds, 12,
		thresholds("red", step{7 * 86400, "orange"}, step{21 * 86400, "green"}), nil,
		target{expr: "sort(" + expiry + ")", legend: "expires in"})
}
