package rules

import (
	"fmt"
	"time"

	"github.com/gatewatch/gatewatch/schema"
)

// Alert names of the probes and of the prober's own paging.
const (
	// AlertProbeCertificate warns that a probed certificate expires soon.
	AlertProbeCertificate = "GatewatchProbeCertificateExpiry"
	// AlertProberOutboxStuck: the prober's events wait for PagerDuty.
	AlertProberOutboxStuck = "GatewatchProberOutboxStuck"
	// AlertProberEventsRefused: PagerDuty refuses the prober's events.
	AlertProberEventsRefused = "GatewatchProberEventsRefused"
	// AlertSidecarSeesNoTraffic: the gateway answers its probes, but its
	// sidecars read no access-log line.
	AlertSidecarSeesNoTraffic = "GatewatchSidecarSeesNoTraffic"
)

// noTrafficWindow is how long a gateway that answers its probes may go
// without one access-log line read before GatewatchSidecarSeesNoTraffic
// holds: 15 minutes, or four probe intervals if longer, so that every
// window holds several of the prober's own requests.
func noTrafficWindow(probeInterval time.Duration) time.Duration {
	return max(15*time.Minute, 4*probeInterval)
}

// probeAlerts read the external probes' gatewatch_probe_success, exported
// by `gatewatch probe` and, renamed from probe_success, by the generated
// blackbox_exporter job. Both carry gateway and check; several probers
// (locations) of one check are combined with max, so a check counts as
// failing when it fails from everywhere.
func (g *generator) probeAlerts() []opAlert {
	gw := eq(schema.LabelGateway, g.gateway)
	success := selector(schema.ProbeSuccess.Name, gw)
	l := func(check string) map[string]string {
		return map[string]string{schema.LabelGateway: g.gateway, schema.LabelCheck: check, instance: "prober-1:9117"}
	}
	expiry := selector(schema.ProbeTLSExpiry.Name, gw)
	warnAt := g.cfg.Probe.TLSExpiryWarning.Std()
	warn, within := warnAt.Seconds(), shortDuration(warnAt)
	if warnAt%(24*time.Hour) == 0 {
		within = fmt.Sprintf("%d days", warnAt/(24*time.Hour))
	}
	window := noTrafficWindow(g.cfg.Probe.Interval.Std())
	up := g.sel(schema.PrometheusUp, eq(sidecarJob, g.cfg.Alerting.Job))
	lines := g.sel(schema.LinesRead.Name)
	// linesIn are the sidecar series of the no-traffic tests: the sidecar
	// is scraped and follows a file that grows by perMinute lines; gw
	// names the gateway.
	linesIn := func(gw string, perMinute float64) []Series {
		s := g.sidecar(inst0, schema.LabelGateway, gw)
		f := g.sidecar(inst0, schema.LabelGateway, gw, schema.LabelFile, "/var/log/gw/access.log")
		return []Series{g.in(schema.PrometheusUp, s, opRepeat(1)), g.in(schema.LinesRead.Name, f, counter(perMinute, opSamples))}
	}
	probeOf := func(gw string) Series {
		m := l("health")
		m[schema.LabelGateway] = gw
		return Series{seriesString(schema.ProbeSuccess.Name, m), opRepeat(1)}
	}
	return []opAlert{
		{
			name: AlertGatewayDown, expr: "max by (" + schema.LabelGateway + ") (" + success + ") == 0", hold: 2 * time.Minute, severity: SeverityPage,
			summary: func(_, lit func(string) string) string { return "Every probe of " + lit(g.gateway) + " fails" },
			description: func(_, lit func(string) string) string {
				return "All external probes of " + lit(g.gateway) + " have failed for 2 minutes: the gateway is down or unreachable for clients. Per-endpoint alerts of the gateway are inhibited meanwhile."
			},
			fire: []Series{
				{seriesString(schema.ProbeSuccess.Name, l("health")), opRepeat(0)},
				{seriesString(schema.ProbeSuccess.Name, l("orders")), opRepeat(0)},
			},
			quiet: []Series{
				{seriesString(schema.ProbeSuccess.Name, l("health")), opRepeat(1)},
				{seriesString(schema.ProbeSuccess.Name, l("orders")), opRepeat(0)},
			},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway},
		},
		{
			name: AlertProbeFailing, expr: "max by (" + schema.LabelGateway + ", " + schema.LabelCheck + ") (" + success + ") == 0", hold: 5 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "Probe " + l(schema.LabelCheck) + " of " + lit(g.gateway) + " fails"
			},
			description: func(l, lit func(string) string) string {
				return "The external probe " + l(schema.LabelCheck) + " has failed from every location for 5 minutes while other checks of the gateway pass."
			},
			fire: []Series{
				{seriesString(schema.ProbeSuccess.Name, l("orders")), opRepeat(0)},
				{seriesString(schema.ProbeSuccess.Name, l("health")), opRepeat(1)},
			},
			quiet:      []Series{{seriesString(schema.ProbeSuccess.Name, l("orders")), opRepeat(1)}},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway, schema.LabelCheck: "orders"},
		},
		{
			name: AlertProbeCertificate,
			expr: fmt.Sprintf("min by (%s, %s) (%s) - time() < %d", schema.LabelGateway, schema.LabelCheck, expiry, int64(warn)),
			hold: 10 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "The certificate probed by " + l(schema.LabelCheck) + " of " + lit(g.gateway) + " expires within " + within
			},
			description: func(l, lit func(string) string) string {
				return "The earliest certificate the target of probe " + l(schema.LabelCheck) + " presents expires in less than " + within + " (probe.tls_expiry_warning). Renew it before clients start failing."
			},
			// At opFireAt the certificate expires in half the warning
			// (fire) or in twice it.
			fire:       []Series{{seriesString(schema.ProbeTLSExpiry.Name, l("orders")), opRepeat(opFireAt.Seconds() + warn/2)}},
			quiet:      []Series{{seriesString(schema.ProbeTLSExpiry.Name, l("orders")), opRepeat(opFireAt.Seconds() + 2*warn)}},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway, schema.LabelCheck: "orders"},
		},
		{
			name: AlertProberOutboxStuck,
			expr: fmt.Sprintf("max by (%s, %s) (%s) > 0", schema.LabelGateway, instance, selector(schema.PagerDutyOutbox.Name, gw)),
			hold: 15 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "The prober " + l(instance) + " of " + lit(g.gateway) + " cannot deliver its pages"
			},
			description: func(l, lit func(string) string) string {
				return "Events of gatewatch probe " + l(instance) + " have waited in its outbox for 15 minutes: PagerDuty is unreachable from the prober or keeps answering 429 or 5xx. Nothing is lost; the pages arrive late."
			},
			fire:       []Series{{seriesString(schema.PagerDutyOutbox.Name, noCheck(l(""))), opRepeat(2)}},
			quiet:      []Series{{seriesString(schema.PagerDutyOutbox.Name, noCheck(l(""))), opRepeat(0)}},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway, instance: "prober-1:9117"},
		},
		{
			name: AlertProberEventsRefused,
			expr: fmt.Sprintf("sum by (%s, %s) (increase(%s[1h])) > 0", schema.LabelGateway, instance,
				selector(schema.PagerDutyEvents.Name, gw, eq(schema.LabelResult, schema.PagerDutyRejected))),
			hold: time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "PagerDuty refuses the events of the prober " + l(instance) + " of " + lit(g.gateway)
			},
			description: func(l, lit func(string) string) string {
				return "PagerDuty answered 400 to events of gatewatch probe " + l(instance) + " in the last hour, and they were dropped: the prober pages nobody. Check probe.pagerduty's routing key (an Events API v2 integration key) and the prober's log."
			},
			fire:       []Series{{seriesString(schema.PagerDutyEvents.Name, rejected(l(""))), counter(1, opSamples)}},
			quiet:      []Series{{seriesString(schema.PagerDutyEvents.Name, rejected(l(""))), opRepeat(0)}},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway, instance: "prober-1:9117"},
		},
		{
			// The prober's requests go through the gateway and into its
			// access log: a passing probe with no line read means the
			// sidecar follows the wrong file (an old path, a glob
			// matching a file the gateway no longer writes). A gateway
			// whose sidecars are all down is GatewatchSidecarsAllDown's.
			name: AlertSidecarSeesNoTraffic,
			expr: fmt.Sprintf("max by (%[1]s) (%[2]s) == 1\nand on (%[1]s)\nsum by (%[1]s) (%[3]s) > 0\nunless on (%[1]s)\nsum by (%[1]s) (increase(%[4]s[%[5]s])) > 0",
				schema.LabelGateway, success, up, lines, shortDuration(window)),
			hold: 10 * time.Minute, severity: SeverityTicket,
			summary: func(_, lit func(string) string) string {
				return "The sidecars of " + lit(g.gateway) + " read no access-log line while the gateway answers its probes"
			},
			description: func(_, lit func(string) string) string {
				return "The external probes of " + lit(g.gateway) + " pass, and they go through the gateway, yet its gatewatch sidecars have read no access-log line for " + HumanDuration(window) + ": they follow a file the gateway does not write (sidecar.logs[].path, the shared volume, or the gateway's access-log setting). Its requests are missing from the metrics and the SLO alerts."
			},
			// Fires although another gateway's sidecar reads lines;
			// stays quiet while this one reads the probes' lines, and
			// while the other gateway, answering its probe, reads none.
			fire: append([]Series{probeOf(g.gateway)}, append(linesIn(g.gateway, 0), linesIn(otherGateway, 2)...)...),
			quiet: append([]Series{probeOf(g.gateway), probeOf(otherGateway)},
				append(linesIn(g.gateway, 2), linesIn(otherGateway, 0)...)...),
			fireLabels: map[string]string{schema.LabelGateway: g.gateway},
		},
	}
}

// noCheck is a series' labels without check.
func noCheck(l map[string]string) map[string]string {
	delete(l, schema.LabelCheck)
	return l
}

// rejected is a series' labels with result="rejected" and no check.
func rejected(l map[string]string) map[string]string {
	delete(l, schema.LabelCheck)
	l[schema.LabelResult] = schema.PagerDutyRejected
	return l
}

func init() { operationalSources = append(operationalSources, (*generator).probeAlerts) }
