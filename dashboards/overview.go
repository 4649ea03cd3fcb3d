package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// topN is how many endpoints the overview's top lists show.
const topN = "10"

var (
	ep     = schema.LabelEndpoint
	method = schema.LabelMethod
)

// toEndpoint is a table data link to the endpoint dashboard with the
// row's endpoint and method selected, keeping time range and datasource.
func (g *generator) toEndpoint() []cog.Builder[dashboard.DashboardLink] {
	url := "/d/" + rules.KindDashboardUID(g.gateway, rules.DashboardEndpoint) +
		"?var-" + ep + "=${__data.fields." + ep + ":percentencode}" +
		"&var-" + method + "=${__data.fields." + method + ":percentencode}" +
		"&${" + datasourceVar + ":queryparam}&${__url_time_range}"
	return []cog.Builder[dashboard.DashboardLink]{
		dashboard.NewDashboardLinkBuilder("Endpoint dashboard").Type(dashboard.DashboardLinkTypeLink).Url(url),
	}
}

// budgetLeft is the share of the error budget over the SLO period left
// per endpoint and method: 1 - error ratio / (1 - objective), with the
// endpoint's own objective from the recorded series.
func (g *generator) budgetLeft(s scope) string {
	by := []string{ep, method}
	return "1 - (" + periodErrorRatio(s, g.period, by...) + ") / on (" + ep + ", " + method + ") (1 - " +
		g.gw.with(availSLO).of(rules.SLOObjective()) + ")"
}

// overview answers: is the gateway healthy, which endpoints hurt, and
// what is firing.
func (g *generator) overview(bd *board) {
	gw := g.gw
	total := sumBy(rate(gw.of(requests), rateInterval))
	firing := gw.with(eq(schema.LabelAlertState, schema.AlertStateFiring)).of(schema.PrometheusAlerts)

	bd.row("Service level")
	bd.stat("Requests per second", "Requests served by the gateway, all endpoints.", unitReqPS, 4, neutral(),
		q(total, ""))
	bd.stat("Error ratio (5xx)", "Share of requests answered with a 5xx status.", unitPercent, 4,
		thresholds("green", step{0.001, "orange"}, step{0.01, "red"}),
		q(errorRatio(gw, rateInterval), ""))
	bd.stat("p99 latency", "99th percentile of the time the gateway took to answer, all endpoints.", unitSeconds, 4, neutral(),
		q(quantile("0.99", buckets, gw), ""))
	bd.stat("Availability over "+g.period, "Share of requests over the SLO period ("+g.period+") not answered with a 5xx.", unitPercent, 4,
		thresholds("red", step{0.99, "orange"}, step{0.999, "green"}),
		q("1 - ("+periodErrorRatio(gw, g.period)+")", ""))
	bd.stat("Endpoints over budget", "Endpoints and methods that have spent their whole availability error budget over the SLO period.", unitNone, 4,
		thresholds("green", step{1, "red"}),
		q("count(("+g.budgetLeft(gw)+") < 0) or vector(0)", ""))
	bd.stat("Firing alerts", "Gatewatch alerts of this gateway firing now.", unitNone, 4,
		thresholds("green", step{1, "red"}),
		q("count("+firing+") or vector(0)", ""))

	bd.row("Traffic")
	bd.series("Requests per second by status code", "Requests by HTTP status code.", unitReqPS, 12,
		q(sumBy(rate(gw.of(requests), rateInterval), schema.LabelCode), legendOf(schema.LabelCode)))
	bd.series("Latency", "Quantiles of the time the gateway took to answer, all endpoints.", unitSeconds, 12,
		q(quantile("0.5", buckets, gw), "p50"),
		q(quantile("0.9", buckets, gw), "p90"),
		q(quantile("0.99", buckets, gw), "p99"))
	bd.series("Availability against the SLO", "Share of requests not answered with a 5xx, and the strictest availability objective of the gateway's endpoints (each endpoint's own is on the endpoint dashboard).", unitPercent, 12,
		q("1 - ("+errorRatio(gw, rateInterval)+")", "availability"),
		q("min("+gw.with(availSLO).of(rules.SLOObjective())+")", "strictest objective"))
	bd.series("Rate-limited requests (429)", "Requests refused with 429 Too Many Requests, by endpoint and method.", unitReqPS, 12,
		q(sumBy(rate(gw.with(tooMany).of(requests), rateInterval), ep, method), legendOf(method, ep)))

	bd.row("Endpoints")
	bd.table("Error budget left over "+g.period, "Share of each endpoint's availability error budget left over the SLO period, lowest first; below 0 the objective is missed. Click a row for the endpoint dashboard.", unitPercent, 24,
		thresholds("red", step{0, "orange"}, step{0.25, "green"}), g.toEndpoint(),
		target{expr: "sort(" + g.budgetLeft(gw) + ")", legend: "budget left"},
		target{expr: "1 - (" + periodErrorRatio(gw, g.period, ep, method) + ")", legend: "availability"},
		target{expr: sumBy(gw.with(availSLO).of(rules.SLOObjective()), ep, method), legend: "objective"})
	bd.table("Top endpoints by errors", "Endpoints with the most 5xx answers per second.", unitReqPS, 12, neutral(), g.toEndpoint(),
		target{expr: "topk(" + topN + ", " + sumBy(rate(gw.with(serverError).of(requests), rateInterval), ep, method) + ")", legend: "5xx per second"})
	bd.table("Top endpoints by latency", "Endpoints with the highest 99th percentile latency.", unitSeconds, 12, neutral(), g.toEndpoint(),
		target{expr: "topk(" + topN + ", " + quantile("0.99", buckets, gw, ep, method) + ")", legend: "p99"})
	bd.series("Backend 5xx", "5xx answers per second by upstream host, where the log format names the upstream.", unitReqPS, 12,
		q(sumBy(rate(gw.with(serverError).of(schema.BackendResponses.Name), rateInterval), schema.LabelBackend), legendOf(schema.LabelBackend)))
	bd.series("Distinct clients", "Estimated distinct client addresses per minute, by track.", unitNone, 12,
		q(sumBy(gw.of(schema.DistinctClients.Name), schema.LabelTrack), legendOf(schema.LabelTrack)))

	bd.row("Tracks")
	bd.series("Requests per second by track", "Stable, canary and baseline (or blue and green) side by side.", unitReqPS, 12,
		q(gw.of(rules.TrackRequestRate("5m")), legendOf(schema.LabelTrack)))
	bd.series("Error ratio by track", "5xx share per track; a canary worse than the baseline shows here first.", unitPercent, 12,
		q(gw.of(rules.TrackErrorRatio("5m")), legendOf(schema.LabelTrack)))
	bd.series("p99 latency by track", "99th percentile latency per track.", unitSeconds, 12,
		q(quantile("0.99", buckets, gw, schema.LabelTrack), legendOf(schema.LabelTrack)))
	bd.series("Versions", "Sidecars by track and deployed version (gatewatch_contract_info).", unitNone, 12,
		q(agg("count", gw.of(schema.ContractInfo.Name), schema.LabelTrack, schema.LabelVersion), legendOf(schema.LabelTrack, schema.LabelVersion)))

	bd.row("Alerts")
	bd.table("Firing gatewatch alerts", "Alerts of this gateway firing now; each links to its runbook in the alert's annotations.", unitNone, 24, neutral(), g.toEndpoint(),
		target{expr: agg("count", firing, schema.LabelAlertName, rules.LabelSeverity, rules.LabelTeam, ep, method), legend: "alerts"})
}
