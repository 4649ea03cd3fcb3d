package dashboards

import (
	"net/url"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// allValue is what the method variable's All stands for.
const allValue = ".*"

// endpoint answers, for one endpoint and its methods: is it within its
// own SLO, how is it served, and where are its logs. One dashboard serves
// every endpoint: endpoint and method are variables, and the objectives
// come from the series the rules generator records for each endpoint.
func (g *generator) endpoint(bd *board) {
	bd.b.WithVariable(dashboard.NewQueryVariableBuilder(ep).Label("Endpoint").Datasource(ds).
		Query(dashboard.StringOrMap{String: cog.ToPtr(labelValues(g.gw.of(requests), ep))}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc))
	bd.b.WithVariable(dashboard.NewQueryVariableBuilder(method).Label("Method").Datasource(ds).
		Query(dashboard.StringOrMap{String: cog.ToPtr(labelValues(g.gw.with(eq(ep, "$"+ep)).of(requests), method))}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).IncludeAll(true).AllValue(allValue).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
		}))
	if g.cfg.Grafana.KibanaURL != "" && g.opts.KibanaSearch != "" {
		bd.b.Link(dashboard.NewDashboardLinkBuilder("Access logs in Kibana").Type(dashboard.DashboardLinkTypeLink).
			Url(g.kibanaURL()).TargetBlank(true).Icon("doc").
			Tooltip("The shipper's saved search of this gateway's access logs, for this endpoint and time range"))
	}
	bd.b.Link(dashboard.NewDashboardLinkBuilder(g.gateway + " overview").Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + rules.KindDashboardUID(g.gateway, rules.DashboardOverview)).KeepTime(true).Icon("dashboard"))

	s := g.gw.with(eq(ep, "$"+ep), re(method, "$"+method))
	objective := func(slo string) string { return "min(" + s.with(slo).of(rules.SLOObjective()) + ")" }
	threshold := "min(" + s.of(rules.SLOLatencyThreshold()) + ")"
	// slowRatio weighs each method's recorded slow ratio by its traffic.
	slowRatio := func(w string) string {
		return "sum(" + s.of(rules.SlowRatio(w)) + " * " + s.of(rules.RequestRate(w)) + ") / sum(" + s.of(rules.RequestRate(w)) + ")"
	}

	bd.row("Service level")
	bd.stat("Availability objective", "The endpoint's availability objective from gatewatch.yaml (the strictest of the selected methods), read from "+rules.SLOObjective()+".", unitPercent, 4, neutral(),
		q(objective(availSLO), ""))
	bd.stat("Availability over "+g.period, "Share of requests over the SLO period not answered with a 5xx.", unitPercent, 4, neutral(),
		q("1 - ("+periodErrorRatio(s, g.period)+")", ""))
	bd.stat("Error budget left", "Share of the availability error budget over the SLO period left: 1 - error ratio / (1 - objective). Below 0 the objective is missed.", unitPercent, 4,
		thresholds("red", step{0, "orange"}, step{0.25, "green"}),
		q("1 - ("+periodErrorRatio(s, g.period)+") / (1 - "+objective(availSLO)+")", ""))
	bd.stat("Latency threshold", "The duration a request must not exceed, read from "+rules.SLOLatencyThreshold()+".", unitSeconds, 4, neutral(),
		q(threshold, ""))
	bd.stat("Latency objective", "Share of requests that must be faster than the threshold.", unitPercent, 4, neutral(),
		q(objective(latencySLO), ""))
	bd.stat("Fast requests over "+g.longest, "Share of requests faster than the threshold over "+g.longest+" (the longest window the rules record).", unitPercent, 4, neutral(),
		q("1 - ("+slowRatio(g.longest)+")", ""))

	bd.row("Traffic")
	bd.series("Requests per second by status code", "Requests by HTTP status code.", unitReqPS, 12,
		q(sumBy(rate(s.of(requests), rateInterval), schema.LabelCode), legendOf(schema.LabelCode)))
	bd.series("Error ratio against the budget", "5xx share of requests, and the error budget (1 - objective): above the line the budget burns faster than the SLO period allows.", unitPercent, 12,
		q(errorRatio(s, rateInterval), "5xx ratio"),
		q("1 - "+objective(availSLO), "error budget"))
	bd.series("Latency", "Quantiles of the time the gateway took to answer, and the SLO threshold.", unitSeconds, 12,
		q(quantile("0.5", buckets, s), "p50"),
		q(quantile("0.9", buckets, s), "p90"),
		q(quantile("0.99", buckets, s), "p99"),
		q(threshold, "threshold"))
	bd.series("Slow requests against the budget", "Share of requests slower than the threshold (recorded over 5m), and the latency budget (1 - objective).", unitPercent, 12,
		q(slowRatio("5m"), "slow ratio"),
		q("1 - "+objective(latencySLO), "latency budget"))
	bd.series("Latency by method", "99th percentile per method.", unitSeconds, 12,
		q(quantile("0.99", buckets, s, method), legendOf(method)))
	bd.series("Backend latency", "99th percentile of the time spent waiting for the backend (where the log format has it) against the total.", unitSeconds, 12,
		q(quantile("0.99", upBuckets, s), "backend p99"),
		q(quantile("0.99", buckets, s), "total p99"))
	bd.series("Requests per second by track", "Stable, canary and baseline (or blue and green) side by side.", unitReqPS, 12,
		q(sumBy(rate(s.of(requests), rateInterval), schema.LabelTrack), legendOf(schema.LabelTrack)))
	bd.series("Error ratio by track", "5xx share per track.", unitPercent, 12,
		q(errorRatio(s, rateInterval, schema.LabelTrack), legendOf(schema.LabelTrack)))
	bd.series("Rate-limited requests (429)", "Requests refused with 429 Too Many Requests, by method.", unitReqPS, 12,
		q(sumBy(rate(s.with(tooMany).of(requests), rateInterval), method), legendOf(method)))
	bd.series("Throughput", "Bytes received from clients and sent to them.", unitBPS, 12,
		q(sumBy(rate(s.of(schema.RequestBytes.Name), rateInterval)), "received"),
		q(sumBy(rate(s.of(schema.ResponseBytes.Name), rateInterval)), "sent"))
}

// kibanaURL is Discover opened on the shipper's saved search, filtered to
// this gateway and the selected endpoint, over the dashboard's time range.
// Grafana fills in ${__from}, ${__to} and ${endpoint} when the link is
// clicked; the rest is escaped here (KQL quoting, then Rison, then
// percent-encoding).
func (g *generator) kibanaURL() string {
	const hole = "\x00"
	kql := strings.Split(risonString("gatewatch.gateway:"+kqlQuote(g.gateway)+" and gatewatch.endpoint:\""+hole+"\""), hole)
	return strings.TrimRight(g.cfg.Grafana.KibanaURL, "/") +
		"/app/discover#/view/" + url.PathEscape(g.opts.KibanaSearch) +
		"?_g=(time:(from:'${__from:date:iso}',to:'${__to:date:iso}'))" +
		"&_a=(query:(language:kuery,query:" + escapeState(kql[0]) + "${" + ep + ":percentencode}" + escapeState(kql[1]) + "))"
}

// kqlQuote writes s as a KQL quoted string.
func kqlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// risonString writes s as a Rison string: quoted with ', ! and '
// escaped with !.
func risonString(s string) string {
	return "'" + strings.NewReplacer("!", "!!", "'", "!'").Replace(s) + "'"
}

// escapeState percent-encodes a value in the fragment's query string:
// everything but letters, digits and Rison's punctuation.
func escapeState(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!'()*,:/@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}
