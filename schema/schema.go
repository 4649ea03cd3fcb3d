// Package schema declares every metric and label name gatewatch exports
// or records, once. The exporter, the shipper and the prober build their
// collectors from these values and every generator (rules, dashboards,
// Kubernetes, probes) names metrics and labels through them, so a query
// can never name a metric nothing exports. It imports nothing beyond the
// standard library, so that generators do not pull in the sidecar.
package schema

// Label names.
const (
	// LabelEndpoint is the contract endpoint's Name (a template such as
	// /v1/users/{id}, or a route name), or contract.Unmatched.
	LabelEndpoint = "endpoint"
	// LabelMethod is the HTTP method in upper case.
	LabelMethod = "method"
	// LabelCode is the HTTP status code as three digits ("0" when the
	// gateway sent none).
	LabelCode = "code"
	// LabelTrack is the deployment track: stable, canary, baseline, blue
	// or green.
	LabelTrack = "track"
	// LabelGateway is the gateway's name from the contract.
	LabelGateway = "gateway"
	// LabelKind is the gateway product: krakend, kong or envoy.
	LabelKind = "kind"
	// LabelHash is the contract's source hash.
	LabelHash = "hash"
	// LabelVersion is the deployed version from gatewatch.yaml or the
	// environment.
	LabelVersion = "version"
	// LabelBackend is the upstream host the gateway forwarded to.
	LabelBackend = "backend"
	// LabelFile is a followed log file's path.
	LabelFile = "file"
	// LabelGlob is a configured log path or glob pattern (sidecar.logs).
	LabelGlob = "glob"
	// LabelReason is a bounded failure reason.
	LabelReason = "reason"
	// LabelResult is a bounded outcome (e.g. stored, duplicate, dead_letter).
	LabelResult = "result"
	// LabelField is the name of an allow-listed access-log field
	// (sidecar.extra_labels).
	LabelField = "field"
	// LabelValue is the field's value: one of its allow-list, "other" or
	// "none" (the line lacks the field).
	LabelValue = "value"
	// LabelCheck is a probe's name (a prober target).
	LabelCheck = "check"
	// LabelPhase is a probe's phase (ProbePhases).
	LabelPhase = "phase"
	// LabelLE is the histogram bucket boundary label Prometheus adds.
	LabelLE = "le"
)

// Type is a metric's Prometheus type.
type Type string

// Metric types.
const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
)

// Metric describes one exported metric family.
type Metric struct {
	Name string
	Help string
	Type Type
	// Labels are every label the family's series carry, LabelGateway
	// first where the producer serves one gateway (every family the
	// sidecar and the prober export): several gateways share one
	// Prometheus, and the rules select and group by it.
	Labels []string
}

// VariableLabels are m's labels without LabelGateway, which a producer
// serving one gateway sets as a constant label (prometheus.Labels in
// ConstLabels, or prometheus.WrapRegistererWith) rather than per series.
func (m Metric) VariableLabels() []string {
	out := make([]string, 0, len(m.Labels))
	for _, l := range m.Labels {
		if l != LabelGateway {
			out = append(out, l)
		}
	}
	return out
}

// Request metrics, by contract endpoint.
var (
	RequestsTotal = Metric{
		Name:   "gatewatch_http_requests_total",
		Help:   "Requests served by the gateway, by contract endpoint, method, status code and track.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelEndpoint, LabelMethod, LabelCode, LabelTrack},
	}
	RequestDuration = Metric{
		Name:   "gatewatch_http_request_duration_seconds",
		Help:   "Total time the gateway took to answer, by contract endpoint, method and track.",
		Type:   Histogram,
		Labels: []string{LabelGateway, LabelEndpoint, LabelMethod, LabelTrack},
	}
	UpstreamDuration = Metric{
		Name:   "gatewatch_http_upstream_duration_seconds",
		Help:   "Time spent waiting for the backend, where the log format has it.",
		Type:   Histogram,
		Labels: []string{LabelGateway, LabelEndpoint, LabelMethod, LabelTrack},
	}
	RequestBytes = Metric{
		Name:   "gatewatch_http_request_size_bytes_total",
		Help:   "Bytes received from clients, by contract endpoint, method and track.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelEndpoint, LabelMethod, LabelTrack},
	}
	ResponseBytes = Metric{
		Name:   "gatewatch_http_response_size_bytes_total",
		Help:   "Bytes sent to clients, by contract endpoint, method and track.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelEndpoint, LabelMethod, LabelTrack},
	}
	BackendResponses = Metric{
		Name:   "gatewatch_http_backend_responses_total",
		Help:   "Responses by upstream host and status code, where the log format names the upstream.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelBackend, LabelCode, LabelTrack},
	}
	DistinctClients = Metric{
		Name:   "gatewatch_http_distinct_clients",
		Help:   "Estimated number of distinct client addresses seen in the last full minute.",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelTrack},
	}
	RequestsByField = Metric{
		Name:   "gatewatch_http_requests_by_field_total",
		Help:   "Requests by contract endpoint, status code and the value of an allow-listed access-log field (sidecar.extra_labels).",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelEndpoint, LabelCode, LabelTrack, LabelField, LabelValue},
	}
	ContractInfo = Metric{
		Name:   "gatewatch_contract_info",
		Help:   "Always 1; labels name the gateway contract the sidecar serves.",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelKind, LabelHash, LabelVersion, LabelTrack},
	}
)

// Sidecar self-metrics.
var (
	LinesRead = Metric{
		Name:   "gatewatch_sidecar_lines_read_total",
		Help:   "Access-log lines read, by file.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelFile},
	}
	BytesRead = Metric{
		Name:   "gatewatch_sidecar_bytes_read_total",
		Help:   "Access-log bytes read, by file.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelFile},
	}
	DecodeErrors = Metric{
		Name:   "gatewatch_sidecar_decode_errors_total",
		Help:   "Lines that could not be decoded, by reason.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelReason},
	}
	LagBytes = Metric{
		Name:   "gatewatch_sidecar_lag_bytes",
		Help:   "Bytes written to a followed file that the metrics reader has not read yet.",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelFile},
	}
	LastEvent = Metric{
		Name:   "gatewatch_sidecar_last_event_timestamp_seconds",
		Help:   "Unix time of the last access-log line read.",
		Type:   Gauge,
		Labels: []string{LabelGateway},
	}
	CheckpointAge = Metric{
		Name:   "gatewatch_sidecar_checkpoint_age_seconds",
		Help:   "Seconds since the metrics reader's checkpoint was last written.",
		Type:   Gauge,
		Labels: []string{LabelGateway},
	}
	OpenFiles = Metric{
		Name:   "gatewatch_sidecar_open_files",
		Help:   "Access-log files the metrics reader has open, rotated ones still being drained included.",
		Type:   Gauge,
		Labels: []string{LabelGateway},
	}
	Rotations = Metric{
		Name:   "gatewatch_sidecar_rotations_total",
		Help:   "New files found at a followed path that held another file (rename and create, delete and create).",
		Type:   Counter,
		Labels: []string{LabelGateway},
	}
	Truncations = Metric{
		Name:   "gatewatch_sidecar_truncations_total",
		Help:   "Followed files found shorter than the read offset or with a changed first line (copytruncate), read again from the start.",
		Type:   Counter,
		Labels: []string{LabelGateway},
	}
	SkippedBytes = Metric{
		Name:   "gatewatch_sidecar_skipped_bytes_total",
		Help:   "Bytes of followed files not delivered as lines, by reason: too_long (the rest of lines over max_line_bytes), nul (NUL padding at line starts), lost (rotated, truncated or deleted before they were read; an upper bound, as the partial last line of a truncated file may still come from its copy).",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelReason},
	}
	SkippedLines = Metric{
		Name:   "gatewatch_sidecar_skipped_lines_total",
		Help:   "Lines of the followed files that belong to another log in the same stream, by reason: other_log (KrakenD's application log, gin's debug lines, the start-up banner). Not decode errors.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelReason},
	}
	DuplicateFiles = Metric{
		Name:   "gatewatch_sidecar_duplicate_files_total",
		Help:   "Files not read because a file with the same fingerprint (a copy) is being read.",
		Type:   Counter,
		Labels: []string{LabelGateway},
	}
	FileErrors = Metric{
		Name:   "gatewatch_sidecar_file_errors_total",
		Help:   "Followed files abandoned after an I/O error (found again at the next scan).",
		Type:   Counter,
		Labels: []string{LabelGateway},
	}
	// FilesMatched is what a log path (a glob) matches at the last scan:
	// 0 means the sidecar reads nothing for it.
	FilesMatched = Metric{
		Name:   "gatewatch_sidecar_files_matched",
		Help:   "Files a configured log path (glob) matched at the last scan; 0 means nothing is read for it.",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelGlob},
	}
	CheckpointErrors = Metric{
		Name:   "gatewatch_sidecar_checkpoint_errors_total",
		Help:   "Failed writes of the metrics reader's checkpoint (retried at the next interval).",
		Type:   Counter,
		Labels: []string{LabelGateway},
	}
)

// Reasons of SkippedBytes.
const (
	SkippedTooLong = "too_long"
	SkippedNUL     = "nul"
	SkippedLost    = "lost"
)

// Shipper self-metrics.
var (
	ShippedDocuments = Metric{
		Name:   "gatewatch_shipper_documents_total",
		Help:   "Documents sent to Elasticsearch, by result: stored, duplicate (409, already stored), dead_letter, retried, dropped (refused even as a dead letter; logged), skipped (lines of another log in the same stream, such as KrakenD's application log: not sent).",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelResult},
	}
	ShipperLagBytes = Metric{
		Name:   "gatewatch_shipper_lag_bytes",
		Help:   "Bytes in followed files not yet acknowledged by Elasticsearch.",
		Type:   Gauge,
		Labels: []string{LabelGateway},
	}
	ShipperLagSeconds = Metric{
		Name:   "gatewatch_shipper_lag_seconds",
		Help:   "Age of the oldest line not yet acknowledged by Elasticsearch.",
		Type:   Gauge,
		Labels: []string{LabelGateway},
	}
	ShipperLostBytes = Metric{
		Name:   "gatewatch_shipper_lost_bytes_total",
		Help:   "Bytes of followed files never shipped, by reason: unread (deleted, truncated or forgotten before they were read), held_limit (a rotated file let go past the bound of files held open while Elasticsearch is down).",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelReason},
	}
	ShipperLostLines = Metric{
		Name:   "gatewatch_shipper_lost_lines_total",
		Help:   "Lines of followed files never shipped, by reason (see gatewatch_shipper_lost_bytes_total); only held_limit knows its lines, unread counts bytes only.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelReason},
	}
	ShipperErrors = Metric{
		Name:   "gatewatch_shipper_request_errors_total",
		Help:   "Failed bulk requests to Elasticsearch, by reason.",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelReason},
	}
)

// Results of ShippedDocuments that mean a document is not where it
// belongs: stored in the dead-letter index, or not stored at all.
const (
	ResultDeadLetter = "dead_letter"
	ResultDropped    = "dropped"
)

// Prober metrics (gatewatch probe).
var (
	ProbeSuccess = Metric{
		Name:   "gatewatch_probe_success",
		Help:   "1 when the last probe of a check succeeded, 0 otherwise.",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelCheck},
	}
	ProbeDuration = Metric{
		Name:   "gatewatch_probe_duration_seconds",
		Help:   "Time the last probe of a check took, by phase: resolve, connect, tls, processing (request written to first response byte) and transfer.",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelCheck, LabelPhase},
	}
	ProbeStatusCode = Metric{
		Name:   "gatewatch_probe_status_code",
		Help:   "HTTP status code of the last probe of a check (0 when no response arrived).",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelCheck},
	}
	ProbeTLSExpiry = Metric{
		Name:   "gatewatch_probe_tls_expiry_timestamp_seconds",
		Help:   "Unix time at which the earliest certificate the target presented expires (https checks only).",
		Type:   Gauge,
		Labels: []string{LabelGateway, LabelCheck},
	}
	PagerDutyOutbox = Metric{
		Name:   "gatewatch_pagerduty_outbox_events",
		Help:   "PagerDuty events written to the outbox and not yet accepted by PagerDuty.",
		Type:   Gauge,
		Labels: []string{LabelGateway},
	}
	PagerDutyEvents = Metric{
		Name:   "gatewatch_pagerduty_events_total",
		Help:   "PagerDuty Events API v2 answers, by result: accepted (202), rejected (400 or another 4xx, not retried), retried (429, 5xx or a network error).",
		Type:   Counter,
		Labels: []string{LabelGateway, LabelResult},
	}
)

// Probe phases (LabelPhase values), as blackbox_exporter names them.
const (
	PhaseResolve    = "resolve"
	PhaseConnect    = "connect"
	PhaseTLS        = "tls"
	PhaseProcessing = "processing"
	PhaseTransfer   = "transfer"
)

// ProbePhases lists the phases in the order a request goes through them.
var ProbePhases = []string{PhaseResolve, PhaseConnect, PhaseTLS, PhaseProcessing, PhaseTransfer}

// Results of PagerDutyEvents.
const (
	PagerDutyAccepted = "accepted"
	PagerDutyRejected = "rejected"
	PagerDutyRetried  = "retried"
)

// Metrics of blackbox_exporter (not exported by gatewatch). The generated
// blackbox scrape job renames them to the prober's metrics above
// (metric_relabel_configs), so rules and dashboards read one set of names
// whichever prober runs.
var BlackboxRenames = map[string]string{
	"probe_success":                  ProbeSuccess.Name,
	"probe_http_status_code":         ProbeStatusCode.Name,
	"probe_http_duration_seconds":    ProbeDuration.Name,
	"probe_ssl_earliest_cert_expiry": ProbeTLSExpiry.Name,
}

// Canary judge metrics.
var (
	CanaryVerdict = Metric{
		Name:   "gatewatch_canary_verdict",
		Help:   "1 when the canary track is judged worse than the baseline, 0 otherwise.",
		Type:   Gauge,
		Labels: []string{LabelEndpoint},
	}
)

// Schema lists every metric family the project exports.
var Schema = []Metric{
	RequestsTotal, RequestDuration, UpstreamDuration, RequestBytes, ResponseBytes,
	BackendResponses, DistinctClients, ContractInfo, RequestsByField,
	LinesRead, BytesRead, DecodeErrors, LagBytes, LastEvent, CheckpointAge,
	OpenFiles, Rotations, Truncations, SkippedBytes, SkippedLines, DuplicateFiles, FileErrors, FilesMatched, CheckpointErrors,
	ShippedDocuments, ShipperLagBytes, ShipperLagSeconds, ShipperLostBytes, ShipperLostLines, ShipperErrors,
	ProbeSuccess, ProbeDuration, ProbeStatusCode, ProbeTLSExpiry, PagerDutyOutbox, PagerDutyEvents,
	CanaryVerdict,
}

// Histogram series name suffixes.
const (
	BucketSuffix = "_bucket"
	SumSuffix    = "_sum"
	CountSuffix  = "_count"
)

// Metric parts of the series the rules generator records
// (level:metric:operations, Prometheus' naming convention). Requests come
// from RequestsTotal; errors are its 5xx share and slow requests its share
// above an endpoint's latency threshold.
const (
	RecordedRequests     = "gatewatch_http_requests"
	RecordedErrors       = "gatewatch_http_errors"
	RecordedSlowRequests = "gatewatch_http_slow_requests"
	// RecordedSLOObjective is each endpoint's SLO objective as a ratio
	// (0.999), labelled slo="availability" or slo="latency", so that
	// dashboards read an endpoint's own objective.
	RecordedSLOObjective = "gatewatch_slo_objective"
	// RecordedSLOLatencyThreshold is each endpoint's latency threshold in
	// seconds.
	RecordedSLOLatencyThreshold = "gatewatch_slo_latency_threshold_seconds"
)
