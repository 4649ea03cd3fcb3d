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
func leMatcher(d time.Duration) string {
	return eq(schema.LabelLE, schema.LE(d.Seconds()))
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
	// fire makes the alert fire at opFireAt with these series labels
	// (besides gateway, which every alert has from its series); quiet
	// must not fire it at opFireAt. Both run opSamples minutes.
	fire, quiet []Series
	fireLabels  map[string]string
}

const (
	sidecarJob = "job"
	instance   = "instance"
	// otherGateway names a second gateway in the unit tests: its series
	// must never make this gateway's alerts fire.
	otherGateway = "another-gateway"
)

// operationalSources write the operational alerts, in this order. Every
// rule selects its series by gateway and keeps the gateway label. A
// generator of further operational alerts (e.g. the prober's, in
// rules/probe.go) appends its function here in an init function.
var operationalSources = []func(g *generator) []opAlert{
	(*generator).sidecarAlerts,
	(*generator).readerAlerts,
	(*generator).shippingAlerts,
	(*generator).trafficAlerts,
}

// operationalAlerts are the alerts that keep the pipeline itself honest.
func (g *generator) operationalAlerts() ([]Rule, error) {
	var ops []opAlert
	for _, src := range operationalSources {
		ops = append(ops, src(g)...)
	}
	var rs []Rule
	var tests []opTest
	for _, o := range ops {
		if o.team == "" {
			o.team = g.defaultTeam
		}
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

// in is an input series of this gateway (its gateway label set unless
// labels name another).
func (g *generator) in(metric string, labels map[string]string, values string) Series {
	l := maps.Clone(labels)
	if _, ok := l[schema.LabelGateway]; !ok {
		l[schema.LabelGateway] = g.gateway
	}
	return Series{seriesString(metric, l), values}
}

// sidecar labels a series of the test sidecar target.
func (g *generator) sidecar(inst string, kv ...string) map[string]string {
	m := map[string]string{sidecarJob: g.cfg.Alerting.Job, instance: inst}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

const (
	inst0 = "sidecar-0:9090"
	inst1 = "sidecar-1:9090"
)

// sidecarAlerts: the sidecar targets of the gateway are down or missing.
// One replica down is a ticket; every target of the gateway down (or none
// scraped) pages and, in Alertmanager, silences the gateway's endpoint
// alerts, which nothing can compute then.
func (g *generator) sidecarAlerts() []opAlert {
	job := g.cfg.Alerting.Job
	up := g.sel("up", eq(sidecarJob, job))
	return []opAlert{
		{
			name: AlertSidecarDown, expr: up + " == 0", hold: 5 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string { return "The gatewatch sidecar " + l(instance) + " is down" },
			description: func(l, lit func(string) string) string {
				return "Prometheus cannot scrape the gatewatch sidecar " + l(instance) + " (job " + lit(job) + ") of " + l(schema.LabelGateway) + " for 5 minutes: the requests its gateway replica serves are missing from the metrics and its logs are not shipped."
			},
			fire: []Series{g.in("up", g.sidecar(inst0), opRepeat(0)), g.in("up", g.sidecar(inst1), opRepeat(1))},
			quiet: []Series{
				g.in("up", g.sidecar(inst0), opRepeat(1)),
				g.in("up", g.sidecar(inst0, schema.LabelGateway, otherGateway), opRepeat(0)),
			},
			fireLabels: g.sidecar(inst0),
		},
		{
			name:     AlertSidecarsAllDown,
			expr:     fmt.Sprintf("sum %s (%s) == 0", by(schema.LabelGateway), up),
			hold:     5 * time.Minute,
			severity: SeverityPage,
			summary: func(l, _ func(string) string) string {
				return "Every gatewatch sidecar of " + l(schema.LabelGateway) + " is down"
			},
			description: func(l, lit func(string) string) string {
				return "Prometheus has scraped no gatewatch sidecar of " + l(schema.LabelGateway) + " (job " + lit(job) + ") for 5 minutes: its per-endpoint metrics, SLO alerts and log shipping are blind."
			},
			fire: []Series{g.in("up", g.sidecar(inst0), opRepeat(0)), g.in("up", g.sidecar(inst1), opRepeat(0))},
			quiet: []Series{
				g.in("up", g.sidecar(inst0), opRepeat(0)), g.in("up", g.sidecar(inst1), opRepeat(1)),
				g.in("up", g.sidecar(inst0, schema.LabelGateway, otherGateway), opRepeat(0)),
			},
			fireLabels: map[string]string{},
		},
		{
			name: AlertSidecarAbsent, expr: "absent(" + up + ")", hold: 10 * time.Minute, severity: SeverityPage,
			summary: func(l, _ func(string) string) string {
				return "No gatewatch sidecar of " + l(schema.LabelGateway) + " is scraped"
			},
			description: func(l, lit func(string) string) string {
				return "Prometheus has no target of " + l(schema.LabelGateway) + " in job " + lit(job) + " for 10 minutes: the sidecar is not deployed, service discovery lost it, or its scrape configuration does not set the gateway label (generate rules writes one)."
			},
			fire: []Series{
				g.in("up", g.sidecar(inst0, sidecarJob, "other"), opRepeat(1)),
				g.in("up", g.sidecar(inst0, schema.LabelGateway, otherGateway), opRepeat(1)),
			},
			quiet:      []Series{g.in("up", g.sidecar(inst0), opRepeat(1))},
			fireLabels: map[string]string{sidecarJob: job},
		},
	}
}

// readerAlerts: the metrics reader reads nothing, cannot decode what it
// reads, loses lines or cannot write its checkpoint.
func (g *generator) readerAlerts() []opAlert {
	const glob = "/var/log/gw/*.log"
	file := "/var/log/gw/access.log"
	lost := eq(schema.LabelReason, schema.SkippedLost)
	return []opAlert{
		{
			name: AlertReadsNothing, expr: g.sel(schema.FilesMatched.Name) + " == 0", hold: 10 * time.Minute, severity: SeverityTicket,
			summary: func(l, _ func(string) string) string {
				return "The sidecar " + l(instance) + " finds no file at " + l(schema.LabelGlob)
			},
			description: func(l, _ func(string) string) string {
				return "The log path " + l(schema.LabelGlob) + " of the sidecar " + l(instance) + " has matched no file for 10 minutes: it reads nothing there, so the gateway's requests are missing from the metrics and the SLO alerts. Check sidecar.logs[].path against the gateway's log location and the volume mount."
			},
			fire:       []Series{g.in(schema.FilesMatched.Name, g.sidecar(inst0, schema.LabelGlob, glob), opRepeat(0))},
			quiet:      []Series{g.in(schema.FilesMatched.Name, g.sidecar(inst0, schema.LabelGlob, glob), opRepeat(1))},
			fireLabels: g.sidecar(inst0, schema.LabelGlob, glob),
		},
		{
			name: AlertDecodeErrors,
			expr: fmt.Sprintf("sum %[1]s (rate(%[2]s[5m]))\n/\nsum %[1]s (rate(%[3]s[5m]))\n> 0.01",
				by(schema.LabelGateway, sidecarJob, instance), g.sel(schema.DecodeErrors.Name), g.sel(schema.LinesRead.Name)),
			hold: 15 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "The sidecar " + l(instance) + " cannot decode its access log"
			},
			description: func(l, lit func(string) string) string {
				return "More than 1% of the access-log lines " + l(instance) + " read in the last 5 minutes could not be decoded. The lines are shipped as raw text with an error field, but they are missing from the metrics: the log format probably changed."
			},
			fire: []Series{
				g.in(schema.LinesRead.Name, g.sidecar(inst0, schema.LabelFile, file), counter(6000, opSamples)),
				g.in(schema.DecodeErrors.Name, g.sidecar(inst0, schema.LabelReason, "syntax"), counter(600, opSamples)),
			},
			quiet: []Series{
				g.in(schema.LinesRead.Name, g.sidecar(inst0, schema.LabelFile, file), counter(6000, opSamples)),
				g.in(schema.DecodeErrors.Name, g.sidecar(inst0, schema.LabelReason, "syntax"), counter(6, opSamples)),
			},
			fireLabels: g.sidecar(inst0),
		},
		{
			name: AlertLogsLost,
			expr: fmt.Sprintf("sum %s (increase(%s[30m])) > 0",
				by(schema.LabelGateway, sidecarJob, instance), g.sel(schema.SkippedBytes.Name, lost)),
			severity: SeverityTicket,
			summary: func(l, _ func(string) string) string {
				return "The sidecar " + l(instance) + " lost access-log lines before reading them"
			},
			description: func(l, _ func(string) string) string {
				return "Over the last 30 minutes files followed by the sidecar " + l(instance) + " were rotated, truncated or deleted before it had read them (" + schema.SkippedBytes.Name + "{reason=\"" + schema.SkippedLost + "\"}): those requests are missing from the metrics. Rotate less often, keep one more rotated file, or look for a sidecar that was down or far behind."
			},
			fire: []Series{
				g.in(schema.SkippedBytes.Name, g.sidecar(inst0, schema.LabelReason, schema.SkippedLost), counter(4096, opSamples)),
				g.in(schema.SkippedBytes.Name, g.sidecar(inst0, schema.LabelReason, schema.SkippedTooLong), opRepeat(0)),
			},
			quiet: []Series{
				g.in(schema.SkippedBytes.Name, g.sidecar(inst0, schema.LabelReason, schema.SkippedLost), opRepeat(0)),
				g.in(schema.SkippedBytes.Name, g.sidecar(inst0, schema.LabelReason, schema.SkippedTooLong), counter(4096, opSamples)),
			},
			fireLabels: g.sidecar(inst0),
		},
		{
			name: AlertCheckpointErrors,
			expr: fmt.Sprintf("increase(%s[15m]) > 0", g.sel(schema.CheckpointErrors.Name)),
			hold: 15 * time.Minute, severity: SeverityTicket,
			summary: func(l, _ func(string) string) string {
				return "The sidecar " + l(instance) + " cannot write its checkpoint"
			},
			description: func(l, _ func(string) string) string {
				return "Writes of the metrics reader's checkpoint of " + l(instance) + " have kept failing for 15 minutes. Metrics are unaffected until the sidecar restarts; then it resumes from the last checkpoint written and counts the lines since then again. Check that sidecar.checkpoint_dir is writable and not full."
			},
			fire:       []Series{g.in(schema.CheckpointErrors.Name, g.sidecar(inst0), counter(1, opSamples))},
			quiet:      []Series{g.in(schema.CheckpointErrors.Name, g.sidecar(inst0), opRepeat(3))},
			fireLabels: g.sidecar(inst0),
		},
	}
}

// shippingAlerts: log shipping to Elasticsearch is late or loses lines.
func (g *generator) shippingAlerts() []opAlert {
	lag := time.Duration(g.cfg.Alerting.ShippingLag)
	return []opAlert{
		{
			name: AlertShippingLag,
			expr: fmt.Sprintf("%[1]s > %[2]s\nand\ndelta(%[1]s[15m]) > 0", g.sel(schema.ShipperLagSeconds.Name), formatFloat(lag.Seconds())),
			hold: 15 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string { return "Log shipping of " + l(instance) + " falls behind" },
			description: func(l, lit func(string) string) string {
				return "The oldest access-log line of " + l(instance) + " not yet stored in Elasticsearch is older than " + HumanDuration(lag) + " and the lag kept growing for 15 minutes. Metrics and alerts are unaffected; logs in Kibana are late. Nothing is lost while the files stay on disk."
			},
			fire:       []Series{g.in(schema.ShipperLagSeconds.Name, g.sidecar(inst0), counter(lag.Seconds()/10, opSamples))},
			quiet:      []Series{g.in(schema.ShipperLagSeconds.Name, g.sidecar(inst0), opRepeat(3))},
			fireLabels: g.sidecar(inst0),
		},
		{
			name: AlertShippingLost,
			expr: fmt.Sprintf("sum %s (increase(%s[30m])) > 0",
				by(schema.LabelGateway, sidecarJob, instance), g.sel(schema.ShipperLostBytes.Name)),
			severity: SeverityTicket,
			summary: func(l, _ func(string) string) string {
				return "Log shipping of " + l(instance) + " lost access-log lines"
			},
			description: func(l, _ func(string) string) string {
				return "Over the last 30 minutes rotated access-log files of " + l(instance) + " disappeared before the shipper had sent them to Elasticsearch (" + schema.ShipperLostBytes.Name + "): those lines are missing from Kibana, not from the metrics. Keep rotated files longer than the shipping lag."
			},
			fire:       []Series{g.in(schema.ShipperLostBytes.Name, g.sidecar(inst0, schema.LabelReason, "unread"), counter(4096, opSamples))},
			quiet:      []Series{g.in(schema.ShipperLostBytes.Name, g.sidecar(inst0, schema.LabelReason, "unread"), opRepeat(0))},
			fireLabels: g.sidecar(inst0),
		},
		{
			name: AlertDeadLetters,
			expr: fmt.Sprintf("sum %s (increase(%s[30m])) > 0",
				by(schema.LabelGateway, sidecarJob, instance),
				g.sel(schema.ShippedDocuments.Name, oneOf(schema.LabelResult, []string{schema.ResultDeadLetter, schema.ResultDropped}, false))),
			severity: SeverityTicket,
			summary: func(l, _ func(string) string) string {
				return "Elasticsearch refuses access-log documents of " + l(instance)
			},
			description: func(l, _ func(string) string) string {
				return "Over the last 30 minutes Elasticsearch refused documents shipped by " + l(instance) + ": they went to the dead-letter index (result " + schema.ResultDeadLetter + ") or, refused there too, were dropped and logged (result " + schema.ResultDropped + "). The index template or the mapping probably no longer fits the log format; see the dead-letter documents' error field."
			},
			fire: []Series{
				g.in(schema.ShippedDocuments.Name, g.sidecar(inst0, schema.LabelResult, schema.ResultDeadLetter), counter(5, opSamples)),
				g.in(schema.ShippedDocuments.Name, g.sidecar(inst0, schema.LabelResult, "stored"), counter(600, opSamples)),
			},
			quiet: []Series{
				g.in(schema.ShippedDocuments.Name, g.sidecar(inst0, schema.LabelResult, schema.ResultDeadLetter), opRepeat(2)),
				g.in(schema.ShippedDocuments.Name, g.sidecar(inst0, schema.LabelResult, "stored"), counter(600, opSamples)),
			},
			fireLabels: g.sidecar(inst0),
		},
	}
}

// trafficAlerts: the canary fails more than stable; a backend answers
// with bursts of 5xx.
func (g *generator) trafficAlerts() []opAlert {
	return []opAlert{
		{
			name: AlertCanaryWorse,
			expr: fmt.Sprintf("%s\n> on (%s) group_left ()\n(2 * max %s (%s) + 0.01)\nand\n%s > 0.1",
				g.sel(TrackErrorRatio("5m"), eq(schema.LabelTrack, "canary")),
				schema.LabelGateway, by(schema.LabelGateway),
				g.sel(TrackErrorRatio("5m"), oneOf(schema.LabelTrack, []string{"stable", "baseline"}, false)),
				g.sel(TrackRequestRate("5m"), eq(schema.LabelTrack, "canary"))),
			hold: 10 * time.Minute, severity: SeverityTicket,
			summary: func(l, _ func(string) string) string {
				return "The canary of " + l(schema.LabelGateway) + " fails more than stable"
			},
			description: func(_, _ func(string) string) string {
				return "Over the last 5 minutes the canary track's 5xx ratio has been more than twice the stable or baseline track's plus one percentage point, for 10 minutes. Stop the rollout and compare the canary's version."
			},
			fire:       g.canarySeries(600, 3, 600, 120),
			quiet:      g.canarySeries(600, 3, 600, 3),
			fireLabels: map[string]string{schema.LabelTrack: "canary"},
		},
		{
			name: AlertBackendErrors,
			expr: fmt.Sprintf("sum %[1]s (rate(%[2]s[5m]))\n/\nsum %[1]s (rate(%[3]s[5m]))\n> 0.1\nand\nsum %[1]s (rate(%[2]s[5m])) > 0.1",
				by(schema.LabelGateway, schema.LabelBackend), g.sel(schema.BackendResponses.Name, serverErrors()), g.sel(schema.BackendResponses.Name)),
			hold: 5 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "Backend " + l(schema.LabelBackend) + " answers with bursts of 5xx"
			},
			description: func(l, lit func(string) string) string {
				return "More than 10% of the responses of backend " + l(schema.LabelBackend) + " behind " + l(schema.LabelGateway) + " were 5xx over the last 5 minutes, for 5 minutes."
			},
			fire:       g.backendSeries(600, 120),
			quiet:      g.backendSeries(600, 6),
			fireLabels: map[string]string{schema.LabelBackend: "orders:8080"},
		},
	}
}

func (g *generator) canarySeries(stable, stableFail, canary, canaryFail float64) []Series {
	s := func(track, code string, v float64) Series {
		return g.in(requestsTotal(), map[string]string{
			schema.LabelEndpoint: "/health", schema.LabelMethod: "GET", schema.LabelCode: code, schema.LabelTrack: track,
		}, counter(v, opSamples))
	}
	return []Series{
		s("stable", "200", stable-stableFail), s("stable", "500", stableFail),
		s("canary", "200", canary-canaryFail), s("canary", "500", canaryFail),
	}
}

func (g *generator) backendSeries(total, fail float64) []Series {
	s := func(code string, v float64) Series {
		return g.in(schema.BackendResponses.Name, map[string]string{
			schema.LabelBackend: "orders:8080", schema.LabelCode: code, schema.LabelTrack: "stable",
		}, counter(v, opSamples))
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
	expLabels[schema.LabelGateway] = g.gateway
	expAnn, err := render(func(n string) string { return expLabels[n] }, func(s string) string { return s })
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
				byEndpointMethod, g.sel(requestsTotal(), append(t.matchers(), eq(schema.LabelCode, "429"))...)))
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
				g.in(requestsTotal(), l("200"), counter(600-limited, opSamples)),
				g.in(requestsTotal(), l("429"), counter(limited, opSamples)),
			}
		}
		o := opAlert{
			name: AlertRateLimitSaturate,
			expr: num + "\n/\n" + g.sel(RequestRate("5m")) + "\n> 0.05",
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
