package rules

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/schema"
)

func requestsTotal() string      { return schema.RequestsTotal.Name }
func durationBucketName() string { return schema.RequestDuration.Name + schema.BucketSuffix }
func durationCount() string      { return schema.RequestDuration.Name + schema.CountSuffix }
func serverErrors() string       { return schema.LabelCode + `=~"5.."` }
func trackLabel() string         { return schema.LabelTrack }
func leMatcher(d time.Duration) string {
	return eq(schema.LabelLE, schema.LE(d.Seconds()))
}
func byEndpointMethodLE() string {
	return "by (" + schema.LabelEndpoint + ", " + schema.LabelMethod + ", " + schema.LabelLE + ")"
}

// opAlert is an operational alert with the data of its two unit tests.
type opAlert struct {
	name     string
	expr     string
	hold     time.Duration
	severity string
	team     string
	extra    map[string]string // further static labels
	// summary and description get a function that writes a series label
	// (as a template or as the test's value).
	summary, description func(l, lit func(string) string) string
	// fire makes the alert fire at opFireAt with these series labels;
	// quiet must not fire it at opFireAt. Both run opSamples minutes.
	fire, quiet []Series
	fireLabels  map[string]string
}

const (
	probeCheck = schema.LabelCheck
	sidecarJob = "job"
	instance   = "instance"
)

// operationalAlerts are the alerts that keep the pipeline itself honest.
func (g *generator) operationalAlerts() ([]Rule, error) {
	job := g.cfg.Alerting.Job
	up := selector("up", eq(sidecarJob, job))
	inst := "sidecar-0:9090"
	lag := time.Duration(g.cfg.Alerting.ShippingLag)
	ops := []opAlert{
		{
			name: AlertSidecarDown, expr: up + " == 0", hold: 5 * time.Minute, severity: SeverityPage,
			summary: func(l, lit func(string) string) string { return "The gatewatch sidecar " + l(instance) + " is down" },
			description: func(l, lit func(string) string) string {
				return "Prometheus cannot scrape the gatewatch sidecar " + l(instance) + " (job " + lit(job) + ") for 5 minutes: per-endpoint metrics and log shipping of " + lit(g.gateway) + " are blind."
			},
			fire:       []Series{{seriesString("up", map[string]string{sidecarJob: job, instance: inst}), opRepeat(0)}},
			quiet:      []Series{{seriesString("up", map[string]string{sidecarJob: job, instance: inst}), opRepeat(1)}},
			fireLabels: map[string]string{sidecarJob: job, instance: inst},
		},
		{
			name: AlertSidecarAbsent, expr: "absent(" + up + ")", hold: 10 * time.Minute, severity: SeverityPage,
			summary: func(_, lit func(string) string) string {
				return "No gatewatch sidecar of " + lit(g.gateway) + " is scraped"
			},
			description: func(_, lit func(string) string) string {
				return "Prometheus has no target in job " + lit(job) + " for 10 minutes: the sidecar is not deployed, or service discovery lost it."
			},
			fire:       []Series{{seriesString("up", map[string]string{sidecarJob: "other", instance: inst}), opRepeat(1)}},
			quiet:      []Series{{seriesString("up", map[string]string{sidecarJob: job, instance: inst}), opRepeat(1)}},
			fireLabels: map[string]string{sidecarJob: job},
		},
		{
			name: AlertShippingLag,
			expr: fmt.Sprintf("%[1]s > %[2]s\nand\ndelta(%[1]s[15m]) > 0", schema.ShipperLagSeconds.Name, formatFloat(lag.Seconds())),
			hold: 15 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string { return "Log shipping of " + l(instance) + " falls behind" },
			description: func(l, lit func(string) string) string {
				return "The oldest access-log line of " + l(instance) + " not yet stored in Elasticsearch is older than " + shortDuration(lag) + " and the lag kept growing for 15 minutes. Metrics and alerts are unaffected; logs in Kibana are late. Nothing is lost while the files stay on disk."
			},
			fire:       []Series{{seriesString(schema.ShipperLagSeconds.Name, map[string]string{sidecarJob: job, instance: inst}), counter(lag.Seconds()/10, opSamples)}},
			quiet:      []Series{{seriesString(schema.ShipperLagSeconds.Name, map[string]string{sidecarJob: job, instance: inst}), opRepeat(3)}},
			fireLabels: map[string]string{sidecarJob: job, instance: inst},
		},
		{
			name: AlertDecodeErrors,
			expr: fmt.Sprintf("sum by (%[1]s, %[2]s) (rate(%[3]s[5m]))\n/\nsum by (%[1]s, %[2]s) (rate(%[4]s[5m]))\n> 0.01",
				sidecarJob, instance, schema.DecodeErrors.Name, schema.LinesRead.Name),
			hold: 15 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "The sidecar " + l(instance) + " cannot decode its access log"
			},
			description: func(l, lit func(string) string) string {
				return "More than 1% of the access-log lines " + l(instance) + " read in the last 5 minutes could not be decoded. The lines are shipped as raw text with an error field, but they are missing from the metrics: the log format probably changed."
			},
			fire: []Series{
				{seriesString(schema.LinesRead.Name, map[string]string{sidecarJob: job, instance: inst, schema.LabelFile: "/var/log/gw/access.log"}), counter(6000, opSamples)},
				{seriesString(schema.DecodeErrors.Name, map[string]string{sidecarJob: job, instance: inst, schema.LabelReason: "syntax"}), counter(600, opSamples)},
			},
			quiet: []Series{
				{seriesString(schema.LinesRead.Name, map[string]string{sidecarJob: job, instance: inst, schema.LabelFile: "/var/log/gw/access.log"}), counter(6000, opSamples)},
				{seriesString(schema.DecodeErrors.Name, map[string]string{sidecarJob: job, instance: inst, schema.LabelReason: "syntax"}), counter(6, opSamples)},
			},
			fireLabels: map[string]string{sidecarJob: job, instance: inst},
		},
		{
			name: AlertCanaryWorse,
			expr: fmt.Sprintf("%s\n> on () group_left ()\n(2 * max(%s) + 0.01)\nand\n%s > 0.1",
				selector(TrackErrorRatio("5m"), eq(schema.LabelTrack, "canary")),
				selector(TrackErrorRatio("5m"), oneOf(schema.LabelTrack, []string{"stable", "baseline"}, false)),
				selector(TrackRequestRate("5m"), eq(schema.LabelTrack, "canary"))),
			hold: 10 * time.Minute, severity: SeverityTicket,
			summary: func(_, lit func(string) string) string {
				return "The canary of " + lit(g.gateway) + " fails more than stable"
			},
			description: func(_, lit func(string) string) string {
				return "Over the last 5 minutes the canary track's 5xx ratio has been more than twice the stable or baseline track's plus one percentage point, for 10 minutes. Stop the rollout and compare the canary's version."
			},
			fire:       canarySeries(600, 3, 600, 120),
			quiet:      canarySeries(600, 3, 600, 3),
			fireLabels: map[string]string{schema.LabelTrack: "canary"},
		},
		{
			name: AlertBackendErrors,
			expr: fmt.Sprintf("sum by (%[1]s) (rate(%[2]s[5m]))\n/\nsum by (%[1]s) (rate(%[3]s[5m]))\n> 0.1\nand\nsum by (%[1]s) (rate(%[2]s[5m])) > 0.1",
				schema.LabelBackend, selector(schema.BackendResponses.Name, serverErrors()), schema.BackendResponses.Name),
			hold: 5 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "Backend " + l(schema.LabelBackend) + " answers with bursts of 5xx"
			},
			description: func(l, lit func(string) string) string {
				return "More than 10% of the responses of backend " + l(schema.LabelBackend) + " behind " + lit(g.gateway) + " were 5xx over the last 5 minutes, for 5 minutes."
			},
			fire:       backendSeries(600, 120),
			quiet:      backendSeries(600, 6),
			fireLabels: map[string]string{schema.LabelBackend: "orders:8080"},
		},
	}
	ops = append(ops, g.probeAlerts()...)
	var rs []Rule
	var tests []opTest
	for _, o := range ops {
		o.team = g.defaultTeam
		r, ts, err := g.opRule(o)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
		tests = append(tests, ts[:]...)
	}
	rl, rlTests, err := g.rateLimitAlerts()
	if err != nil {
		return nil, err
	}
	g.addOpTests(append(tests, rlTests...))
	return append(rs, rl...), nil
}

func canarySeries(stable, stableFail, canary, canaryFail float64) []Series {
	s := func(track, code string, v float64) Series {
		return Series{seriesString(requestsTotal(), map[string]string{
			schema.LabelEndpoint: "/health", schema.LabelMethod: "GET", schema.LabelCode: code, schema.LabelTrack: track,
		}), counter(v, opSamples)}
	}
	return []Series{
		s("stable", "200", stable-stableFail), s("stable", "500", stableFail),
		s("canary", "200", canary-canaryFail), s("canary", "500", canaryFail),
	}
}

func backendSeries(total, fail float64) []Series {
	s := func(code string, v float64) Series {
		return Series{seriesString(schema.BackendResponses.Name, map[string]string{
			schema.LabelBackend: "orders:8080", schema.LabelCode: code, schema.LabelTrack: "stable",
		}), counter(v, opSamples)}
	}
	return []Series{s("200", total-fail), s("503", fail)}
}

// escapeTemplate makes literal text safe inside a Prometheus annotation
// template: "{{" would open an action.
func escapeTemplate(s string) string {
	return strings.ReplaceAll(s, "{{", `{{ "{{" }}`)
}

// escapeLabels escapes the values of alert labels, which Prometheus
// expands as templates too.
func escapeLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = escapeTemplate(v)
	}
	return out
}

// opRule writes an operational alert rule and its two tests, which it
// returns for the caller to add with addOpTests.
func (g *generator) opRule(o opAlert) (Rule, [2]opTest, error) {
	if testEval+roundUp(o.hold, testEval) > opFireAt {
		return Rule{}, [2]opTest{}, fmt.Errorf("%s: a hold time of %s does not fit the unit tests, which look at %s", o.name, shortDuration(o.hold), shortDuration(opFireAt))
	}
	labels := g.labels(LabelSeverity, o.severity, LabelTeam, o.team)
	maps.Copy(labels, o.extra)
	render := func(l, lit func(string) string) (map[string]string, error) {
		return g.annotations(o.name, o.summary(l, lit), o.description(l, lit))
	}
	ann, err := render(tmplLabel, escapeTemplate)
	if err != nil {
		return Rule{}, [2]opTest{}, err
	}
	expLabels := maps.Clone(labels)
	maps.Copy(expLabels, o.fireLabels)
	expAnn, err := render(func(n string) string { return o.fireLabels[n] }, func(s string) string { return s })
	if err != nil {
		return Rule{}, [2]opTest{}, err
	}
	reads, err := g.reads(o.expr)
	if err != nil {
		return Rule{}, [2]opTest{}, fmt.Errorf("%s: %w", o.name, err)
	}
	at := shortDuration(opFireAt)
	tests := [2]opTest{
		{
			name: o.name + " fires", input: o.fire, reads: reads,
			test: AlertTest{EvalTime: at, Alertname: o.name, ExpAlerts: []ExpAlert{{ExpLabels: expLabels, ExpAnnotations: expAnn}}},
		},
		{
			name: o.name + " stays quiet", input: o.quiet, reads: reads,
			test: AlertTest{EvalTime: at, Alertname: o.name, ExpAlerts: []ExpAlert{}},
		},
	}
	return Rule{Alert: o.name, Expr: o.expr, For: shortDuration(o.hold), Labels: escapeLabels(labels), Annotations: ann}, tests, nil
}

// rateLimitAlerts watch endpoints with a rate limit: a ticket when more
// than 5% of their requests are refused with 429 for 15 minutes. One rule
// per owning team. Its two tests cover every team at once: an endpoint of
// each team is refused often, or rarely.
func (g *generator) rateLimitAlerts() ([]Rule, []opTest, error) {
	classes := classify(g.series, func(s series) (string, bool) {
		return g.cfg.OwnerOf(s.ep), s.ep.RateLimit != nil
	})
	var rs []Rule
	var tests []opTest
	for _, cl := range classes {
		var parts []string
		for _, t := range cl.targets {
			parts = append(parts, fmt.Sprintf("sum %s (rate(%s[5m]))",
				byEndpointMethod, selector(requestsTotal(), append(t.matchers(), eq(schema.LabelCode, "429"))...)))
		}
		num := parts[0]
		for _, p := range parts[1:] {
			num = "(\n" + num + "\nor\n" + p + "\n)"
		}
		e, m := cl.targets[0].sample()
		in := func(limited float64) []Series {
			l := func(code string) map[string]string {
				return map[string]string{schema.LabelEndpoint: e, schema.LabelMethod: m, schema.LabelCode: code, schema.LabelTrack: "stable"}
			}
			return []Series{
				{seriesString(requestsTotal(), l("200")), counter(600-limited, opSamples)},
				{seriesString(requestsTotal(), l("429")), counter(limited, opSamples)},
			}
		}
		o := opAlert{
			name: AlertRateLimitSaturate,
			expr: num + "\n/\n" + RequestRate("5m") + "\n> 0.05",
			hold: 15 * time.Minute, severity: SeverityTicket, team: cl.key,
			summary: func(l, lit func(string) string) string {
				return l(schema.LabelMethod) + " " + l(schema.LabelEndpoint) + " refuses many requests with 429"
			},
			description: func(l, lit func(string) string) string {
				return "More than 5% of the requests to " + l(schema.LabelMethod) + " " + l(schema.LabelEndpoint) + " were refused by the gateway's rate limit over the last 5 minutes, for 15 minutes: raise the limit or find the client."
			},
			fire: in(60), quiet: in(6),
			fireLabels: map[string]string{schema.LabelEndpoint: e, schema.LabelMethod: m},
		}
		r, ts, err := g.opRule(o)
		if err != nil {
			return nil, nil, err
		}
		rs = append(rs, r)
		if len(tests) == 0 {
			tests = ts[:]
			continue
		}
		for i := range tests {
			tests[i].input = append(tests[i].input, ts[i].input...)
			tests[i].test.ExpAlerts = append(tests[i].test.ExpAlerts, ts[i].test.ExpAlerts...)
			maps.Copy(tests[i].reads, ts[i].reads)
		}
	}
	if len(classes) > 1 {
		for i := range tests {
			tests[i].name += fmt.Sprintf(" (endpoints of %d teams)", len(classes))
		}
	}
	return rs, tests, nil
}
