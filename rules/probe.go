package rules

import (
	"fmt"
	"time"

	"github.com/gatewatch/gatewatch/schema"
)

// AlertProbeCertificate warns that a probed certificate expires soon.
const AlertProbeCertificate = "GatewatchProbeCertificateExpiry"

// ProbeCertificateWarning is how long before expiry a probed certificate
// raises a ticket.
const ProbeCertificateWarning = 14 * 24 * time.Hour

// probeAlerts read the external probes' gatewatch_probe_success, exported
// by `gatewatch probe` and, renamed from probe_success, by the generated
// blackbox_exporter job. Both carry gateway and check; several probers
// (locations) of one check are combined with max, so a check counts as
// failing when it fails from everywhere.
func (g *generator) probeAlerts() []opAlert {
	gw := eq(schema.LabelGateway, g.gateway)
	success := selector(schema.ProbeSuccess.Name, gw)
	l := func(check string) map[string]string {
		return map[string]string{schema.LabelGateway: g.gateway, probeCheck: check, instance: "prober-1:9117"}
	}
	expiry := selector(schema.ProbeTLSExpiry.Name, gw)
	warn := ProbeCertificateWarning.Seconds()
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
			name: AlertProbeFailing, expr: "max by (" + schema.LabelGateway + ", " + probeCheck + ") (" + success + ") == 0", hold: 5 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "Probe " + l(probeCheck) + " of " + lit(g.gateway) + " fails"
			},
			description: func(l, lit func(string) string) string {
				return "The external probe " + l(probeCheck) + " has failed from every location for 5 minutes while other checks of the gateway pass."
			},
			fire: []Series{
				{seriesString(schema.ProbeSuccess.Name, l("orders")), opRepeat(0)},
				{seriesString(schema.ProbeSuccess.Name, l("health")), opRepeat(1)},
			},
			quiet:      []Series{{seriesString(schema.ProbeSuccess.Name, l("orders")), opRepeat(1)}},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway, probeCheck: "orders"},
		},
		{
			name: AlertProbeCertificate,
			expr: fmt.Sprintf("min by (%s, %s) (%s) - time() < %d", schema.LabelGateway, probeCheck, expiry, int64(warn)),
			hold: 10 * time.Minute, severity: SeverityTicket,
			summary: func(l, lit func(string) string) string {
				return "The certificate probed by " + l(probeCheck) + " of " + lit(g.gateway) + " expires within 14 days"
			},
			description: func(l, lit func(string) string) string {
				return "The earliest certificate the target of probe " + l(probeCheck) + " presents expires in less than 14 days. Renew it before clients start failing."
			},
			// At opFireAt the certificate expires in 7 days (fire) or 60.
			fire:       []Series{{seriesString(schema.ProbeTLSExpiry.Name, l("orders")), opRepeat(opFireAt.Seconds() + 7*86400)}},
			quiet:      []Series{{seriesString(schema.ProbeTLSExpiry.Name, l("orders")), opRepeat(opFireAt.Seconds() + 60*86400)}},
			fireLabels: map[string]string{schema.LabelGateway: g.gateway, probeCheck: "orders"},
		},
	}
}
