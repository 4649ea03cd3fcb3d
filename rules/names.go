package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatewatch/gatewatch/schema"
)

// Windows are the rate windows the SLI ratios are recorded over: the short
// and long windows of the multiwindow, multi-burn-rate alerts.
var Windows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// Label names the generated alerts carry besides the series' own labels.
const (
	// LabelSeverity is page or ticket; Alertmanager routes on it.
	LabelSeverity = "severity"
	// LabelTeam is the owning team from gatewatch.yaml owners.
	LabelTeam = "team"
	// LabelSLO is availability or latency on SLO burn-rate alerts.
	LabelSLO = "slo"
	// LabelWindow is the long window of the burn-rate condition that holds.
	LabelWindow = "window"
	// LabelObjective is the SLO's objective in percent on burn-rate alerts.
	LabelObjective = "objective"
	// LabelThreshold is the latency threshold on latency burn-rate alerts.
	LabelThreshold = "threshold"
	// LabelQuantile is the quantile of a recorded latency quantile.
	LabelQuantile = "quantile"
)

// Severities.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// Values of LabelSLO.
const (
	SLOAvailability = "availability"
	SLOLatency      = "latency"
)

// Alert names.
const (
	AlertAvailabilityBurn  = "GatewatchAvailabilityBudgetBurn"
	AlertLatencyBurn       = "GatewatchLatencyBudgetBurn"
	AlertSidecarDown       = "GatewatchSidecarDown"
	AlertSidecarsAllDown   = "GatewatchSidecarsAllDown"
	AlertSidecarAbsent     = "GatewatchSidecarAbsent"
	AlertReadsNothing      = "GatewatchSidecarReadsNothing"
	AlertCheckpointErrors  = "GatewatchCheckpointErrors"
	AlertShippingLag       = "GatewatchShippingLagGrowing"
	AlertLogsLost          = "GatewatchAccessLogLost"
	AlertShippingLost      = "GatewatchShippingLost"
	AlertDeadLetters       = "GatewatchShippingDeadLetters"
	AlertDecodeErrors      = "GatewatchDecodeErrors"
	AlertCanaryWorse       = "GatewatchCanaryWorse"
	AlertRateLimitSaturate = "GatewatchRateLimitSaturation"
	AlertBackendErrors     = "GatewatchBackendErrors"
)

// Alert names of the prober's alerts (rules/probe.go adds them once the
// prober exports schema.ProbeSuccess; no rule here reads it).
const (
	AlertGatewayDown  = "GatewatchGatewayDown"
	AlertProbeFailing = "GatewatchProbeFailing"
)

// GatewayDownAlerts are the alerts that mean a whole gateway is gone or
// unwatched (every sidecar target of it, never one replica); Alertmanager
// inhibits the per-endpoint alerts of the same gateway while one of them
// fires. A generator of another such alert appends its name here.
var GatewayDownAlerts = []string{AlertSidecarsAllDown, AlertSidecarAbsent}

// Annotation names.
const (
	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationRunbook     = "runbook_url"
	AnnotationDashboard   = "dashboard_url"
)

// Recorded series names follow the level:metric:operations convention. The
// level names the labels kept (gateway_endpoint_method = by (gateway,
// endpoint, method)); the metric part comes from the schema. Every gateway
// records the same names: its series differ by the gateway label.
var (
	requestsMetric = schema.RecordedRequests
	errorsMetric   = schema.RecordedErrors
	slowMetric     = schema.RecordedSlowRequests

	levelEndpointMethod   = level(schema.LabelGateway, schema.LabelEndpoint, schema.LabelMethod)
	levelEndpointMethodLE = level(schema.LabelGateway, schema.LabelEndpoint, schema.LabelMethod, schema.LabelLE)
	levelTrack            = level(schema.LabelGateway, schema.LabelTrack)
	byEndpointMethod      = by(schema.LabelGateway, schema.LabelEndpoint, schema.LabelMethod)
	byEndpointMethodLE    = by(schema.LabelGateway, schema.LabelEndpoint, schema.LabelMethod, schema.LabelLE)
	byTrack               = by(schema.LabelGateway, schema.LabelTrack)
)

func level(labels ...string) string { return strings.Join(labels, "_") }

// by writes an aggregation clause: by (gateway, endpoint).
func by(labels ...string) string { return "by (" + strings.Join(labels, ", ") + ")" }

// RequestRate names the recorded request rate per gateway, endpoint and
// method over window w: gateway_endpoint_method:gatewatch_http_requests:rate5m.
func RequestRate(w string) string { return levelEndpointMethod + ":" + requestsMetric + ":rate" + w }

// ErrorRatio names the recorded 5xx ratio per gateway, endpoint and method
// over w: gateway_endpoint_method:gatewatch_http_errors:ratio_rate1h.
func ErrorRatio(w string) string { return levelEndpointMethod + ":" + errorsMetric + ":ratio_rate" + w }

// SlowRatio names the recorded ratio of requests slower than the endpoint's
// latency threshold over w: gateway_endpoint_method:gatewatch_http_slow_requests:ratio_rate1h.
func SlowRatio(w string) string { return levelEndpointMethod + ":" + slowMetric + ":ratio_rate" + w }

// BucketRate names the recorded per-bucket rate of the request duration
// histogram, by gateway, endpoint, method and le, over w.
func BucketRate(w string) string {
	return levelEndpointMethodLE + ":" + schema.RequestDuration.Name + schema.BucketSuffix + ":rate" + w
}

// LatencyQuantile names the recorded latency quantiles (label quantile) per
// gateway, endpoint and method over w.
func LatencyQuantile(w string) string {
	return levelEndpointMethod + ":" + schema.RequestDuration.Name + ":histogram_quantile_rate" + w
}

// TrackRequestRate names the request rate per gateway and deployment
// track over w: gateway_track:gatewatch_http_requests:rate5m.
func TrackRequestRate(w string) string {
	return levelTrack + ":" + requestsMetric + ":rate" + w
}

// TrackErrorRatio names the 5xx ratio per gateway and deployment track
// over w.
func TrackErrorRatio(w string) string {
	return levelTrack + ":" + errorsMetric + ":ratio_rate" + w
}

// SLOObjective names the recorded SLO objective (a ratio, label slo) per
// gateway, endpoint and method. Its series are constant: dashboards and the canary
// judge read an endpoint's own objective from it.
func SLOObjective() string { return levelEndpointMethod + ":" + schema.RecordedSLOObjective + ":ratio" }

// SLOLatencyThreshold names the recorded latency threshold in seconds per
// gateway, endpoint and method.
func SLOLatencyThreshold() string {
	return levelEndpointMethod + ":" + schema.RecordedSLOLatencyThreshold + ":value"
}

// Quantiles are the recorded latency quantiles.
var Quantiles = []string{"0.5", "0.9", "0.99"}

var uidUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

// DashboardUID is the Grafana uid of a gateway's dashboard: "gw-", a slug
// of the gateway name (at most 22 characters) and the first 8 hex digits of
// the name's SHA-256, so that it is stable, readable, unique per name and
// within Grafana's 40-character limit. The dashboards generator uses the
// same function.
func DashboardUID(gateway string) string {
	slug := strings.Trim(uidUnsafe.ReplaceAllString(strings.ToLower(gateway), "-"), "-")
	if len(slug) > 22 {
		slug = strings.TrimRight(slug[:22], "-")
	}
	h := sha256.Sum256([]byte(gateway))
	if slug == "" {
		return "gw-" + hex.EncodeToString(h[:4])
	}
	return "gw-" + slug + "-" + hex.EncodeToString(h[:4])
}

// selector writes metric{m1,m2,...}.
func selector(metric string, matchers ...string) string {
	ms := slices.DeleteFunc(slices.Clone(matchers), func(s string) bool { return s == "" })
	if len(ms) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// eq writes label="value".
func eq(label, value string) string { return label + "=" + strconv.Quote(value) }

// oneOf writes a matcher for any of values: label="v" for one value,
// label=~"a|b" for more (values are quoted as literals).
func oneOf(label string, values []string, negate bool) string {
	if len(values) == 1 {
		op := "="
		if negate {
			op = "!="
		}
		return label + op + strconv.Quote(values[0])
	}
	qs := make([]string, len(values))
	for i, v := range values {
		qs[i] = regexp.QuoteMeta(v)
	}
	op := "=~"
	if negate {
		op = "!~"
	}
	return label + op + strconv.Quote(strings.Join(qs, "|"))
}

// formatFloat writes a constant without float noise: 1-0.999 is written
// 0.001, not 0.0010000000000000009.
func formatFloat(f float64) string {
	return strconv.FormatFloat(round(f), 'g', -1, 64)
}

func round(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 10, 64), 64)
	return v
}
