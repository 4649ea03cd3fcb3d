// Package exporter turns access-log Events into the Prometheus metrics of the
// schema (schema.go): per contract endpoint request counters and latency
// histograms, backend responses, distinct clients, the contract info gauge
// and the sidecar's self-metrics.
//
// Record is the hot path: every series an event can need is created once (at
// New for the contract's endpoints and declared methods, lazily for status
// codes and backends) and found again through fixed tables, so that
// recording an event allocates nothing in steady state. The request metrics
// are the Exporter's own collector rather than client_golang vectors: Record
// logs each line's observation and Flush applies the log to plain counters
// under one lock (cells.go), which costs a fraction of client_golang's
// atomic operations per observation and gives scrapes a consistent view.
package exporter

import (
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/axiomhq/hyperloglog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	dto "github.com/prometheus/client_model/go"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
)

// Native histogram settings of the request duration histogram (and of the
// upstream one with Options.NativeUpstream), as client_golang's
// HistogramOpts would name them. Unlike client_golang, the exporter never
// resets a histogram that has more than NativeMaxBucketNumber buckets: it
// lowers the resolution. NativeMinResetDuration is what a client_golang
// histogram with the same exposition uses (the tests compare the two).
const (
	NativeBucketFactor     = 1.1
	NativeMaxBucketNumber  = 160
	NativeMinResetDuration = time.Hour
)

// DefaultMaxBackends bounds the distinct values of the backend label; further
// upstream hosts are counted as OtherBackend.
const DefaultMaxBackends = 100

// OtherBackend is the backend label of upstream hosts beyond the limit.
const OtherBackend = "other"

// MethodOther is the method label of a request whose method is not a
// standard HTTP method, so that garbage methods cannot grow cardinality.
const MethodOther = "OTHER"

// Methods are the method label values, MethodOther last.
var Methods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", MethodOther}

const numMethods = len(Methods)

// methodIndex returns m's index in Methods; non-standard methods map to
// MethodOther. It does not allocate.
func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	case "CONNECT":
		return 7
	case "TRACE":
		return 8
	}
	return numMethods - 1
}

// Options configure an Exporter.
type Options struct {
	// Gateway is the value of the gateway label on every series
	// (config.GatewayName); empty means the contract's name.
	Gateway string
	// Track is the value of the track label (default "stable").
	Track string
	// Version is the deployed version in the info gauge.
	Version string
	// Buckets are the classic histogram boundaries in seconds; nil means
	// DefaultBuckets. Use Buckets(cfg.LatencyThresholds(contract)...).
	Buckets []float64
	// MaxBackends bounds the backend label (default DefaultMaxBackends).
	MaxBackends int
	// Fields are access-log fields (Event.Fields) counted in
	// gatewatch_http_requests_by_field_total, each with the allow-list
	// of values that become label values.
	Fields []FieldLabel
	// Now is the clock for the checkpoint age; nil means time.Now.
	Now func() time.Time
	// NativeUpstream gives the upstream duration histogram native
	// buckets too (4 KiB more per series). Off by default: the request
	// duration histogram always has them (SLOs and quantiles are computed
	// from it); the upstream one is for comparison.
	NativeUpstream bool
	// NoRequestBytes and NoResponseBytes leave out the request and the
	// response size families, for log formats that never carry them
	// (accesslog.ByteCounts: KrakenD's access logs have neither), so
	// that they do not read as zero traffic forever.
	NoRequestBytes, NoResponseBytes bool
}

// FieldLabel is one allow-listed access-log field.
type FieldLabel struct {
	// Field is the name in Event.Fields (a mapping's extra field).
	Field string
	// Values are the values counted as themselves; any other value is
	// counted as FieldOther, a missing or empty one as FieldNone.
	Values []string
}

// Values of the value label outside a field's allow-list.
const (
	FieldOther = "other"
	FieldNone  = "none"
)

// fieldLabel is a FieldLabel ready for lookups: value index 0 is
// FieldNone, 1 FieldOther, then the allow-list.
type fieldLabel struct {
	field  string
	values []string
	index  map[string]int
}

// Exporter records Events as metrics. Record, File's FileMetrics.Line and
// Flush must be called from one goroutine (the sidecar's metrics reader);
// everything else is safe for concurrent use. Recorded lines become visible
// to scrapes at the next Flush.
type Exporter struct {
	track   string
	now     func() time.Time
	start   time.Time
	bounds  []float64
	nativeU bool

	// mu guards every counter of the request metrics and the lists
	// Collect walks. pending and fieldPending are the reader's log of
	// lines since the last Flush.
	mu           sync.Mutex
	pending      []observation
	fieldPending []fieldObservation
	dirtyFiles   []*fileCounters

	descRequests, descDuration, descUpstream  *prometheus.Desc
	descReqBytes, descRespBytes, descBackends *prometheus.Desc
	descByField, descLines, descBytes         *prometheus.Desc
	descLastEvent                             *prometheus.Desc

	decodeErrors  *prometheus.CounterVec
	lagBytes      *prometheus.GaugeVec
	checkpointSet atomic.Int64 // unix nanoseconds; 0 = never

	// byPtr and byName find an endpoint's series; unmatched is the series
	// of requests that match no endpoint.
	byPtr     map[*contract.Endpoint]*endpointSeries
	byName    map[string]*endpointSeries
	unmatched *endpointSeries
	// series[i] is the series of the contract's endpoint i, for
	// RecordIndex.
	series []*endpointSeries

	// The series Collect walks, in creation order (under mu).
	methodList  []*methodSeries
	backendList []*labelledCodes
	fieldList   []*labelledCodes
	fileList    []*fileCounters
	files       map[string]*fileCounters

	maxBackends int
	backends    map[string]*labelledCodes
	otherBack   *labelledCodes

	clients clientCounter

	fields []fieldLabel

	errMu    sync.Mutex
	errByWhy map[string]prometheus.Counter

	// lastEvSec is the newest event time seen by the reader, lastEvWhole
	// its whole second; lastEvPublished is what Flush published (under mu).
	lastEvSec       float64
	lastEvWhole     int64
	lastEvPublished float64
}

type endpointSeries struct {
	name    string
	methods [numMethods]*methodSeries
	// fields[i][j] counts value j of field i by status code.
	fields [][]*labelledCodes
}

// methodSeries holds the series of one endpoint and method.
type methodSeries struct {
	endpoint, method    string
	index               uint32 // in methodList
	codes               codeCounts
	duration, upstream  *histogram
	reqBytes, respBytes uint64
}

// labelledCodes are status code counters with the other labels of their
// series (backend responses, requests by field).
type labelledCodes struct {
	labels []string // every label but the code, in the metric's order with "" for the code
	codeAt int      // index of the code label
	index  int32    // in backendList or fieldList
	codes  codeCounts
}

type fileCounters struct {
	key          string // the path as given to File
	path         string // the label value
	lines, bytes uint64 // guarded by mu
	// The reader's counts since the last Flush.
	pendingLines, pendingBytes uint64
	dirty                      bool
	// seen is when the file was last open or read, seenLines its lines
	// then (guarded by mu); gone is set when ForgetFiles removed the
	// series.
	seen      time.Time
	seenLines uint64
	gone      atomic.Bool
}

// New registers every metric family of the sidecar with reg (nil: none)
// and returns an Exporter for contract c. The series of every endpoint of c
// and each of its declared methods (GET for endpoints that accept any
// method) exist from the start, at zero.
func New(reg prometheus.Registerer, c *contract.Contract, o Options) *Exporter {
	if o.Track == "" {
		o.Track = "stable"
	}
	if o.Buckets == nil {
		o.Buckets = schema.DefaultBuckets
	}
	if o.MaxBackends <= 0 {
		o.MaxBackends = DefaultMaxBackends
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	name := o.Gateway
	if name == "" {
		name = config.GatewayName(c, nil)
	}
	// Every family carries the gateway as a constant label: several
	// gateways share one Prometheus.
	gw := prometheus.Labels{schema.LabelGateway: labelValue(name)}
	desc := func(m schema.Metric) *prometheus.Desc {
		return prometheus.NewDesc(m.Name, m.Help, m.VariableLabels(), gw)
	}
	f := promauto.With(reg)
	e := &Exporter{
		track:         o.Track,
		now:           o.Now,
		start:         o.Now(),
		bounds:        slices.Clone(o.Buckets),
		nativeU:       o.NativeUpstream,
		descRequests:  desc(schema.RequestsTotal),
		descDuration:  desc(schema.RequestDuration),
		descUpstream:  desc(schema.UpstreamDuration),
		descBackends:  desc(schema.BackendResponses),
		descByField:   desc(schema.RequestsByField),
		descLines:     desc(schema.LinesRead),
		descBytes:     desc(schema.BytesRead),
		descLastEvent: desc(schema.LastEvent),
		decodeErrors:  counterVec(f, schema.DecodeErrors, gw),
		lagBytes:      gaugeVec(f, schema.LagBytes, gw),
		byPtr:         map[*contract.Endpoint]*endpointSeries{},
		byName:        map[string]*endpointSeries{},
		files:         map[string]*fileCounters{},
		maxBackends:   o.MaxBackends,
		backends:      map[string]*labelledCodes{},
		errByWhy:      map[string]prometheus.Counter{},
	}
	if !o.NoRequestBytes {
		e.descReqBytes = desc(schema.RequestBytes)
	}
	if !o.NoResponseBytes {
		e.descRespBytes = desc(schema.ResponseBytes)
	}
	e.clients.reset()
	for _, fl := range o.Fields {
		l := fieldLabel{field: labelValue(fl.Field), values: []string{FieldNone, FieldOther}, index: map[string]int{}}
		for _, v := range fl.Values {
			if _, dup := l.index[v]; !dup && v != "" {
				l.index[v] = len(l.values)
				l.values = append(l.values, labelValue(v))
			}
		}
		e.fields = append(e.fields, l)
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        schema.DistinctClients.Name,
		Help:        schema.DistinctClients.Help,
		ConstLabels: prometheus.Labels{schema.LabelGateway: gw[schema.LabelGateway], schema.LabelTrack: o.Track},
	}, e.clients.lastMinute)
	f.NewGaugeFunc(prometheus.GaugeOpts{Name: schema.CheckpointAge.Name, Help: schema.CheckpointAge.Help, ConstLabels: gw}, e.checkpointAge)

	info := gaugeVec(f, schema.ContractInfo, gw)
	info.WithLabelValues(string(c.Gateway), c.Hash, labelValue(o.Version), o.Track).Set(1)

	e.series = make([]*endpointSeries, len(c.Endpoints))
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		s, ok := e.byName[ep.Name]
		if !ok {
			s = &endpointSeries{name: labelValue(ep.Name)}
			e.byName[ep.Name] = s
		}
		e.byPtr[ep] = s
		e.series[i] = s
		if len(ep.Methods) == 0 {
			e.methodSeries(s, 0)
		}
		for _, m := range ep.Methods {
			e.methodSeries(s, methodIndex(m))
		}
	}
	e.unmatched = &endpointSeries{name: contract.Unmatched}
	e.otherBack = e.newBackend(OtherBackend)
	if reg != nil {
		reg.MustRegister(e)
	}
	return e
}

func counterVec(f promauto.Factory, m schema.Metric, c prometheus.Labels) *prometheus.CounterVec {
	return f.NewCounterVec(prometheus.CounterOpts{Name: m.Name, Help: m.Help, ConstLabels: c}, m.VariableLabels())
}

func gaugeVec(f promauto.Factory, m schema.Metric, c prometheus.Labels) *prometheus.GaugeVec {
	return f.NewGaugeVec(prometheus.GaugeOpts{Name: m.Name, Help: m.Help, ConstLabels: c}, m.VariableLabels())
}

// labelValue makes s a valid label value: client_golang refuses invalid
// UTF-8, which log fields may hold.
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

func (e *Exporter) methodSeries(s *endpointSeries, mi int) *methodSeries {
	if ms := s.methods[mi]; ms != nil {
		return ms
	}
	ms := &methodSeries{
		endpoint: s.name,
		method:   Methods[mi],
		duration: newHistogram(e.bounds, true),
		upstream: newHistogram(e.bounds, e.nativeU),
	}
	e.mu.Lock()
	ms.index = uint32(len(e.methodList))
	e.methodList = append(e.methodList, ms)
	e.mu.Unlock()
	s.methods[mi] = ms
	return ms
}

func (e *Exporter) newBackend(host string) *labelledCodes {
	t := &labelledCodes{labels: []string{labelValue(host), "", e.track}, codeAt: 1}
	e.mu.Lock()
	t.index = int32(len(e.backendList))
	e.backendList = append(e.backendList, t)
	e.mu.Unlock()
	return t
}

// statusCode is the code label's index: 0 for a status out of range.
func statusCode(status int) uint16 {
	if status < 0 || status > 999 {
		return 0
	}
	return uint16(status)
}

// endpoint returns the series of ep (nil: unmatched).
func (e *Exporter) endpoint(ep *contract.Endpoint) *endpointSeries {
	if ep == nil {
		return e.unmatched
	}
	if s, ok := e.byPtr[ep]; ok {
		return s
	}
	// A matcher that returns copies of the contract's endpoints.
	if s, ok := e.byName[ep.Name]; ok {
		return s
	}
	return e.unmatched
}

// RecordIndex is Record for the endpoint of index i in the contract's
// Endpoints, as contract.Matcher.MatchRequest returns it (-1: unmatched).
func (e *Exporter) RecordIndex(ev *accesslog.Event, i int) {
	if i < 0 || i >= len(e.series) {
		e.Record(ev, nil)
		return
	}
	e.record(ev, e.series[i])
}

// Record counts one request. ep is the endpoint the matcher chose for it,
// nil when none matched. Record does not allocate once the series of the
// event's endpoint, method, status code and backend exist. Scrapes see it
// after the next Flush.
func (e *Exporter) Record(ev *accesslog.Event, ep *contract.Endpoint) {
	e.record(ev, e.endpoint(ep))
}

func (e *Exporter) record(ev *accesslog.Event, s *endpointSeries) {
	mi := methodIndex(ev.Method)
	ms := s.methods[mi]
	if ms == nil {
		ms = e.methodSeries(s, mi)
	}
	o := observation{series: ms.index, backend: -1, code: statusCode(ev.Status), dur: -1, up: -1}
	if ev.Duration >= 0 {
		o.dur = ev.Duration.Seconds()
	}
	if ev.Upstream >= 0 {
		o.up = ev.Upstream.Seconds()
	}
	if ev.BytesIn > 0 {
		o.bytesIn = uint64(ev.BytesIn)
	}
	if ev.BytesOut > 0 {
		o.bytesOut = uint64(ev.BytesOut)
	}
	if ev.UpstreamHost != "" {
		o.backend = e.backend(ev.UpstreamHost).index
	}
	e.pending = append(e.pending, o)
	if len(e.fields) > 0 {
		e.recordFields(ev, s)
	}
	if !ev.Time.IsZero() {
		sec := ev.Time.Unix()
		if sec >= e.lastEvWhole {
			// Only a newer second can raise the last event time.
			if f := float64(ev.Time.UnixNano()) / 1e9; f > e.lastEvSec {
				e.lastEvSec, e.lastEvWhole = f, sec
			}
		}
		if ev.Client != "" {
			e.clients.add(sec/60, ev.Client)
		}
	} else if ev.Client != "" {
		e.clients.add(e.now().Unix()/60, ev.Client)
	}
	if len(e.pending) >= maxPending {
		e.Flush()
	}
}

// Flush publishes what Record and FileMetrics.Line counted since the last
// Flush, at once: a scrape sees whole lines. The metrics reader calls it
// after each read from a log (tail.Options.AfterRead).
func (e *Exporter) Flush() {
	e.mu.Lock()
	for i := range e.pending {
		o := &e.pending[i]
		ms := e.methodList[o.series]
		ms.codes.inc(o.code)
		if o.dur >= 0 {
			ms.duration.observe(e.bounds, o.dur)
		}
		if o.up >= 0 {
			ms.upstream.observe(e.bounds, o.up)
		}
		ms.reqBytes += o.bytesIn
		ms.respBytes += o.bytesOut
		if o.backend >= 0 {
			e.backendList[o.backend].codes.inc(o.code)
		}
	}
	for _, o := range e.fieldPending {
		e.fieldList[o.table].codes.inc(o.code)
	}
	for _, f := range e.dirtyFiles {
		to := f
		if f.gone.Load() {
			// Forgotten while the reader still held it (the file is back
			// at its path): the lines go to the path's current series.
			to = e.fileLocked(f.key)
		}
		to.lines += f.pendingLines
		to.bytes += f.pendingBytes
		f.pendingLines, f.pendingBytes, f.dirty = 0, 0, false
	}
	e.lastEvPublished = e.lastEvSec
	e.mu.Unlock()
	e.pending, e.fieldPending, e.dirtyFiles = e.pending[:0], e.fieldPending[:0], e.dirtyFiles[:0]
}

func (e *Exporter) recordFields(ev *accesslog.Event, s *endpointSeries) {
	if s.fields == nil {
		s.fields = make([][]*labelledCodes, len(e.fields))
		for i := range e.fields {
			s.fields[i] = make([]*labelledCodes, len(e.fields[i].values))
		}
	}
	for i := range e.fields {
		fl := &e.fields[i]
		j := 0 // FieldNone
		if v := ev.Fields[fl.field]; v != "" {
			if k, ok := fl.index[v]; ok {
				j = k
			} else {
				j = 1 // FieldOther
			}
		}
		t := s.fields[i][j]
		if t == nil {
			t = &labelledCodes{labels: []string{s.name, "", e.track, fl.field, fl.values[j]}, codeAt: 1}
			e.mu.Lock()
			t.index = int32(len(e.fieldList))
			e.fieldList = append(e.fieldList, t)
			e.mu.Unlock()
			s.fields[i][j] = t
		}
		e.fieldPending = append(e.fieldPending, fieldObservation{table: uint32(t.index), code: statusCode(ev.Status)})
	}
}

func (e *Exporter) backend(host string) *labelledCodes {
	if t, ok := e.backends[host]; ok {
		return t
	}
	if len(e.backends) >= e.maxBackends {
		return e.otherBack
	}
	host = string(append([]byte(nil), host...)) // the event's strings are borrowed
	t := e.newBackend(host)
	e.backends[host] = t
	return t
}

// Describe implements prometheus.Collector for the families the Exporter
// keeps itself (without the byte families Options left out).
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		e.descRequests, e.descDuration, e.descUpstream, e.descReqBytes, e.descRespBytes,
		e.descBackends, e.descByField, e.descLines, e.descBytes, e.descLastEvent,
	} {
		if d != nil {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector: the published values, taken
// under the lock Flush publishes under.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	var ms []prometheus.Metric
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		m, err := prometheus.NewConstMetricWithCreatedTimestamp(d, prometheus.CounterValue, float64(v), e.start, labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ms = append(ms, m)
	}
	codes := func(d *prometheus.Desc, t *labelledCodes) {
		t.codes.each(func(code int, n uint64) {
			labels := slices.Clone(t.labels)
			labels[t.codeAt] = strconv.Itoa(code)
			counter(d, n, labels...)
		})
	}

	e.mu.Lock()
	for _, s := range e.methodList {
		s.codes.each(func(code int, n uint64) {
			counter(e.descRequests, n, s.endpoint, s.method, strconv.Itoa(code), e.track)
		})
		ms = append(ms,
			e.histMetric(e.descDuration, s.duration, s.endpoint, s.method, e.track),
			e.histMetric(e.descUpstream, s.upstream, s.endpoint, s.method, e.track))
		if e.descReqBytes != nil {
			counter(e.descReqBytes, s.reqBytes, s.endpoint, s.method, e.track)
		}
		if e.descRespBytes != nil {
			counter(e.descRespBytes, s.respBytes, s.endpoint, s.method, e.track)
		}
	}
	for _, t := range e.backendList {
		codes(e.descBackends, t)
	}
	for _, t := range e.fieldList {
		codes(e.descByField, t)
	}
	for _, f := range e.fileList {
		counter(e.descLines, f.lines, f.path)
		counter(e.descBytes, f.bytes, f.path)
	}
	last := e.lastEvPublished
	e.mu.Unlock()

	ms = append(ms, prometheus.MustNewConstMetric(e.descLastEvent, prometheus.GaugeValue, last))
	for _, m := range ms {
		ch <- m
	}
}

// histMetric is a histogram's state at one scrape; called with mu held.
func (e *Exporter) histMetric(d *prometheus.Desc, h *histogram, labels ...string) prometheus.Metric {
	return &constHistogram{desc: d, labels: prometheus.MakeLabelPairs(d, labels), h: h.write(e.bounds, e.start)}
}

// constHistogram is a prometheus.Metric with classic and native buckets
// (client_golang's const histograms have one kind or the other).
type constHistogram struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      *dto.Histogram
}

func (m *constHistogram) Desc() *prometheus.Desc { return m.desc }

func (m *constHistogram) Write(out *dto.Metric) error {
	out.Label, out.Histogram = m.labels, m.h
	return nil
}

// DecodeError counts a line that could not be decoded, by its bounded
// reason (accesslog.Reason*).
func (e *Exporter) DecodeError(reason string) {
	e.errMu.Lock()
	c, ok := e.errByWhy[reason]
	if !ok {
		reason = string(append([]byte(nil), reason...))
		c = e.decodeErrors.WithLabelValues(reason)
		e.errByWhy[reason] = c
	}
	e.errMu.Unlock()
	c.Inc()
}

// InitDecodeErrors creates the decode error series of the given reasons at
// zero, so that rate() over them works from the first error on.
func (e *Exporter) InitDecodeErrors(reasons ...string) {
	for _, r := range reasons {
		e.errMu.Lock()
		if _, ok := e.errByWhy[r]; !ok {
			e.errByWhy[r] = e.decodeErrors.WithLabelValues(r)
		}
		e.errMu.Unlock()
	}
}

// FileMetrics are the self-metrics of one followed file.
type FileMetrics struct {
	e *Exporter
	c *fileCounters
	// Lag is the file's unread bytes; safe for concurrent use.
	Lag prometheus.Gauge
}

// Forgotten reports that ForgetFiles removed the file's series since File
// returned f: ask File again for the path's current ones.
func (f FileMetrics) Forgotten() bool { return f.c != nil && f.c.gone.Load() }

// Line counts one line of n bytes read from the file. Like Record, it is
// for the metrics reader's goroutine and published by Flush.
func (f FileMetrics) Line(n int64) {
	c := f.c
	if !c.dirty {
		c.dirty = true
		f.e.dirtyFiles = append(f.e.dirtyFiles, c)
	}
	c.pendingLines++
	if n > 0 {
		c.pendingBytes += uint64(n)
	}
}

// File returns the self-metrics of a followed file, creating them at zero.
func (e *Exporter) File(path string) FileMetrics {
	e.mu.Lock()
	c := e.fileLocked(path)
	e.mu.Unlock()
	return FileMetrics{e: e, c: c, Lag: e.lagBytes.WithLabelValues(c.path)}
}

// fileLocked returns the counters of path, creating them; called with mu
// held.
func (e *Exporter) fileLocked(path string) *fileCounters {
	if c, ok := e.files[path]; ok {
		return c
	}
	path = string(append([]byte(nil), path...))
	c := &fileCounters{key: path, path: labelValue(path), seen: e.now()}
	e.files[path] = c
	e.fileList = append(e.fileList, c)
	return c
}

// ForgetFiles removes the series of every file (lines_read_total,
// bytes_read_total, lag_bytes) that is not in open and has been neither
// open nor read for at least after, and returns their paths in the order
// the files appeared. A removed series is gone from /metrics, not reset:
// if its path is read again, its series start again at zero. after <= 0
// removes nothing. Call it periodically (the sidecar does every second
// with the tailer's open files); it never touches the reader's hot path.
func (e *Exporter) ForgetFiles(open map[string]bool, after time.Duration) []string {
	if after <= 0 {
		return nil
	}
	now := e.now()
	var gone []string
	e.mu.Lock()
	defer e.mu.Unlock()
	kept := e.fileList[:0]
	for _, f := range e.fileList {
		if open[f.key] || f.lines != f.seenLines {
			f.seen, f.seenLines = now, f.lines
		}
		if now.Sub(f.seen) < after {
			kept = append(kept, f)
			continue
		}
		f.gone.Store(true)
		delete(e.files, f.key)
		e.lagBytes.DeleteLabelValues(f.path)
		gone = append(gone, f.key)
	}
	clear(e.fileList[len(kept):])
	e.fileList = kept
	return gone
}

// CheckpointWritten records that the metrics reader's checkpoint was
// written at t.
func (e *Exporter) CheckpointWritten(t time.Time) { e.checkpointSet.Store(t.UnixNano()) }

func (e *Exporter) checkpointAge() float64 {
	t := e.checkpointSet.Load()
	if t == 0 {
		return 0
	}
	return math.Max(0, e.now().Sub(time.Unix(0, t)).Seconds())
}

// clientCounter estimates distinct clients per minute with one HyperLogLog
// sketch for the current minute; at the start of a new minute the estimate
// of the finished one is published and the sketch cleared.
type clientCounter struct {
	cur    *hyperloglog.Sketch
	minute int64
	last   atomic.Uint64 // estimate of the last full minute
}

var clientSeed = maphash.MakeSeed()

func (c *clientCounter) reset() { c.cur = hyperloglog.NewNoSparse() }

func (c *clientCounter) add(minute int64, client string) {
	if minute > c.minute {
		if c.minute != 0 {
			if minute == c.minute+1 {
				c.last.Store(c.cur.Estimate())
			} else {
				c.last.Store(0) // a whole minute without a request passed
			}
		}
		c.cur.Reset()
		c.minute = minute
	}
	c.cur.InsertHash(maphash.String(clientSeed, client))
}

func (c *clientCounter) lastMinute() float64 { return float64(c.last.Load()) }
