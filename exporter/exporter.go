// Package exporter turns access-log Events into the Prometheus metrics of the
// schema (schema.go): per contract endpoint request counters and latency
// histograms, backend responses, distinct clients, the contract info gauge
// and the sidecar's self-metrics.
//
// Record is the hot path: every label child an event can need is created
// once (at New for the contract's endpoints and declared methods, lazily for
// status codes and backends) and found again through fixed tables, so that
// recording an event allocates nothing in steady state.
package exporter

import (
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/axiomhq/hyperloglog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/contract"
)

// Native histogram settings of the request duration histogram (and of the
// upstream one with Options.NativeUpstream).
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
	// Gateway overrides the contract's name in the info gauge.
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
	// buckets too. Off by default: the request duration histogram always
	// has them (SLOs and quantiles are computed from it), the upstream one
	// is for comparison, and native buckets cost about a tenth of the
	// per-line CPU time (a sync.Map lookup per observation in
	// client_golang).
	NativeUpstream bool
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

// Exporter records Events as metrics. Record must be called from one
// goroutine at a time (the sidecar's metrics reader); everything else is
// safe for concurrent use.
type Exporter struct {
	track string
	now   func() time.Time

	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	upstream      *prometheus.HistogramVec
	reqBytes      *prometheus.CounterVec
	respBytes     *prometheus.CounterVec
	backendResp   *prometheus.CounterVec
	linesRead     *prometheus.CounterVec
	bytesRead     *prometheus.CounterVec
	decodeErrors  *prometheus.CounterVec
	lagBytes      *prometheus.GaugeVec
	lastEvent     prometheus.Gauge
	checkpointSet atomic.Int64 // unix nanoseconds; 0 = never

	// byPtr and byName find an endpoint's series; unmatched is the series
	// of requests that match no endpoint.
	byPtr     map[*contract.Endpoint]*endpointSeries
	byName    map[string]*endpointSeries
	unmatched *endpointSeries
	// eps is the contract's endpoint slice and series[i] the series of
	// eps[i]: the matcher hands out pointers into eps, which endpoint
	// turns into an index without a map lookup.
	eps    []contract.Endpoint
	series []*endpointSeries

	maxBackends int
	backends    map[string]*codeTable
	otherBack   *codeTable

	clients clientCounter

	byField *prometheus.CounterVec
	fields  []fieldLabel

	errMu     sync.Mutex
	errByWhy  map[string]prometheus.Counter
	lastEvSec float64
	// lastEvWhole is lastEvSec's whole second.
	lastEvWhole int64
}

type endpointSeries struct {
	name    string
	methods [numMethods]*methodSeries
	// fields[i][j] counts value j of field i by status code.
	fields [][]*codeTable
}

type methodSeries struct {
	duration  prometheus.Observer
	upstream  prometheus.Observer
	reqBytes  prometheus.Counter
	respBytes prometheus.Counter
	codes     codeTable
}

// codeTable holds one counter per status code 0..999, created on first use:
// ten classes of a hundred codes each.
type codeTable struct {
	classes [10]*[100]prometheus.Counter
	// child creates the counter of one code.
	child func(code string) prometheus.Counter
}

func (t *codeTable) get(status int) prometheus.Counter {
	if status < 0 || status > 999 {
		status = 0
	}
	cl := t.classes[status/100]
	if cl == nil {
		cl = new([100]prometheus.Counter)
		t.classes[status/100] = cl
	}
	c := cl[status%100]
	if c == nil {
		c = t.child(strconv.Itoa(status))
		cl[status%100] = c
	}
	return c
}

func counterVec(f promauto.Factory, m Metric) *prometheus.CounterVec {
	return f.NewCounterVec(prometheus.CounterOpts{Name: m.Name, Help: m.Help}, m.Labels)
}

func gaugeVec(f promauto.Factory, m Metric) *prometheus.GaugeVec {
	return f.NewGaugeVec(prometheus.GaugeOpts{Name: m.Name, Help: m.Help}, m.Labels)
}

// histogramVec makes a histogram with classic buckets, and native ones
// too when native is true.
func histogramVec(f promauto.Factory, m Metric, buckets []float64, native bool) *prometheus.HistogramVec {
	o := prometheus.HistogramOpts{Name: m.Name, Help: m.Help, Buckets: buckets}
	if native {
		o.NativeHistogramBucketFactor = NativeBucketFactor
		o.NativeHistogramMaxBucketNumber = NativeMaxBucketNumber
		o.NativeHistogramMinResetDuration = NativeMinResetDuration
	}
	return f.NewHistogramVec(o, m.Labels)
}

// New registers every metric family of the sidecar with reg and returns an
// Exporter for contract c. The series of every endpoint of c and each of
// its declared methods (GET for endpoints that accept any method) exist
// from the start, at zero.
func New(reg prometheus.Registerer, c *contract.Contract, o Options) *Exporter {
	if o.Track == "" {
		o.Track = "stable"
	}
	if o.Buckets == nil {
		o.Buckets = DefaultBuckets
	}
	if o.MaxBackends <= 0 {
		o.MaxBackends = DefaultMaxBackends
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := promauto.With(reg)
	e := &Exporter{
		track:        o.Track,
		now:          o.Now,
		requests:     counterVec(f, RequestsTotal),
		duration:     histogramVec(f, RequestDuration, o.Buckets, true),
		upstream:     histogramVec(f, UpstreamDuration, o.Buckets, o.NativeUpstream),
		reqBytes:     counterVec(f, RequestBytes),
		respBytes:    counterVec(f, ResponseBytes),
		backendResp:  counterVec(f, BackendResponses),
		linesRead:    counterVec(f, LinesRead),
		bytesRead:    counterVec(f, BytesRead),
		decodeErrors: counterVec(f, DecodeErrors),
		lagBytes:     gaugeVec(f, LagBytes),
		lastEvent:    f.NewGauge(prometheus.GaugeOpts{Name: LastEvent.Name, Help: LastEvent.Help}),
		byPtr:        map[*contract.Endpoint]*endpointSeries{},
		byName:       map[string]*endpointSeries{},
		maxBackends:  o.MaxBackends,
		backends:     map[string]*codeTable{},
		errByWhy:     map[string]prometheus.Counter{},
	}
	e.clients.reset()
	e.byField = counterVec(f, RequestsByField)
	for _, fl := range o.Fields {
		l := fieldLabel{field: fl.Field, values: []string{FieldNone, FieldOther}, index: map[string]int{}}
		for _, v := range fl.Values {
			if _, dup := l.index[v]; !dup && v != "" {
				l.index[v] = len(l.values)
				l.values = append(l.values, v)
			}
		}
		e.fields = append(e.fields, l)
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        DistinctClients.Name,
		Help:        DistinctClients.Help,
		ConstLabels: prometheus.Labels{DistinctClients.Labels[0]: o.Track},
	}, e.clients.lastMinute)
	f.NewGaugeFunc(prometheus.GaugeOpts{Name: CheckpointAge.Name, Help: CheckpointAge.Help}, e.checkpointAge)

	name := o.Gateway
	if name == "" {
		name = c.Name
	}
	info := gaugeVec(f, ContractInfo)
	info.WithLabelValues(name, string(c.Gateway), c.Hash, o.Version, o.Track).Set(1)

	e.eps = c.Endpoints
	e.series = make([]*endpointSeries, len(c.Endpoints))
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		s, ok := e.byName[ep.Name]
		if !ok {
			s = &endpointSeries{name: ep.Name}
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
	return e
}

func (e *Exporter) methodSeries(s *endpointSeries, mi int) *methodSeries {
	if ms := s.methods[mi]; ms != nil {
		return ms
	}
	m := Methods[mi]
	ms := &methodSeries{
		duration:  e.duration.WithLabelValues(s.name, m, e.track),
		upstream:  e.upstream.WithLabelValues(s.name, m, e.track),
		reqBytes:  e.reqBytes.WithLabelValues(s.name, m, e.track),
		respBytes: e.respBytes.WithLabelValues(s.name, m, e.track),
	}
	name, track := s.name, e.track
	ms.codes.child = func(code string) prometheus.Counter {
		return e.requests.WithLabelValues(name, m, code, track)
	}
	s.methods[mi] = ms
	return ms
}

func (e *Exporter) newBackend(host string) *codeTable {
	track := e.track
	return &codeTable{child: func(code string) prometheus.Counter {
		return e.backendResp.WithLabelValues(host, code, track)
	}}
}

// endpoint returns the series of ep (nil: unmatched).
func (e *Exporter) endpoint(ep *contract.Endpoint) *endpointSeries {
	if ep == nil {
		return e.unmatched
	}
	if n := len(e.eps); n > 0 {
		// ep points into the contract's slice (the common case): its
		// index, from the address, without hashing.
		const size = unsafe.Sizeof(contract.Endpoint{})
		base, p := uintptr(unsafe.Pointer(&e.eps[0])), uintptr(unsafe.Pointer(ep))
		if p >= base && p < base+uintptr(n)*size && (p-base)%size == 0 {
			return e.series[(p-base)/size]
		}
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

// Record counts one request. ep is the endpoint the matcher chose for it,
// nil when none matched. Record does not allocate once the series of the
// event's endpoint, method, status code and backend exist.
func (e *Exporter) Record(ev *accesslog.Event, ep *contract.Endpoint) {
	s := e.endpoint(ep)
	ms := s.methods[methodIndex(ev.Method)]
	if ms == nil {
		ms = e.methodSeries(s, methodIndex(ev.Method))
	}
	ms.codes.get(ev.Status).Inc()
	if ev.Duration >= 0 {
		ms.duration.Observe(ev.Duration.Seconds())
	}
	if ev.Upstream >= 0 {
		ms.upstream.Observe(ev.Upstream.Seconds())
	}
	if ev.BytesIn > 0 {
		ms.reqBytes.Add(float64(ev.BytesIn))
	}
	if ev.BytesOut > 0 {
		ms.respBytes.Add(float64(ev.BytesOut))
	}
	if ev.UpstreamHost != "" {
		e.backend(ev.UpstreamHost).get(ev.Status).Inc()
	}
	if len(e.fields) > 0 {
		e.recordFields(ev, s)
	}
	if !ev.Time.IsZero() {
		sec := ev.Time.Unix()
		if sec >= e.lastEvWhole {
			// Only a newer second can raise the last event time.
			if f := float64(ev.Time.UnixNano()) / 1e9; f > e.lastEvSec {
				e.lastEvSec, e.lastEvWhole = f, sec
				e.lastEvent.Set(f)
			}
		}
		if ev.Client != "" {
			e.clients.add(sec/60, ev.Client)
		}
	} else if ev.Client != "" {
		e.clients.add(e.now().Unix()/60, ev.Client)
	}
}

func (e *Exporter) recordFields(ev *accesslog.Event, s *endpointSeries) {
	if s.fields == nil {
		s.fields = make([][]*codeTable, len(e.fields))
		for i := range e.fields {
			s.fields[i] = make([]*codeTable, len(e.fields[i].values))
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
			name, track, field, value := s.name, e.track, fl.field, fl.values[j]
			t = &codeTable{child: func(code string) prometheus.Counter {
				return e.byField.WithLabelValues(name, code, track, field, value)
			}}
			s.fields[i][j] = t
		}
		t.get(ev.Status).Inc()
	}
}

func (e *Exporter) backend(host string) *codeTable {
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
	Lines prometheus.Counter
	Bytes prometheus.Counter
	Lag   prometheus.Gauge
}

// File returns the self-metrics of a followed file, creating them at zero.
func (e *Exporter) File(path string) FileMetrics {
	return FileMetrics{
		Lines: e.linesRead.WithLabelValues(path),
		Bytes: e.bytesRead.WithLabelValues(path),
		Lag:   e.lagBytes.WithLabelValues(path),
	}
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
