package shipper

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/tail"
)

// Results of a shipped document (values of the result label).
const (
	ResultStored     = "stored"
	ResultDuplicate  = "duplicate"
	ResultDeadLetter = "dead_letter"
	ResultRetried    = "retried"
	// ResultDropped is a document that neither its index nor the
	// dead-letter index accepted; it is logged with the reason.
	ResultDropped = "dropped"
	// ResultSkipped is a line of another log in the same stream
	// (accesslog.ErrOtherLog, KrakenD's application log): not sent.
	ResultSkipped = "skipped"
)

// Reasons of a failed bulk request (values of the reason label).
const (
	ReasonNetwork     = "network"
	ReasonTimeout     = "timeout"
	ReasonStatus429   = "status_429"
	ReasonStatus5xx   = "status_5xx"
	ReasonStatus4xx   = "status_4xx"
	ReasonTooLarge    = "status_413"
	ReasonBadResponse = "bad_response"
	ReasonAuth        = "auth"
)

// metrics are the shipper's self-metrics, named by the exporter's schema.
type metrics struct {
	docs      *prometheus.CounterVec
	stored    prometheus.Counter // docs{result="stored"}, looked up once
	duplicate prometheus.Counter
	deadLet   prometheus.Counter
	skipped   prometheus.Counter
	lagBytes  prometheus.Gauge
	lagSecs   prometheus.Gauge
	lostBytes *prometheus.CounterVec
	lostLines *prometheus.CounterVec
	errors    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		docs:      counterVec(schema.ShippedDocuments),
		lagBytes:  gauge(schema.ShipperLagBytes),
		lagSecs:   gauge(schema.ShipperLagSeconds),
		lostBytes: counterVec(schema.ShipperLostBytes),
		lostLines: counterVec(schema.ShipperLostLines),
		errors:    counterVec(schema.ShipperErrors),
	}
	for _, r := range tail.LostReasons {
		m.lostBytes.WithLabelValues(r)
		m.lostLines.WithLabelValues(r)
	}
	for _, r := range []string{ReasonNetwork, ReasonTimeout, ReasonStatus429, ReasonStatus5xx, ReasonStatus4xx, ReasonTooLarge, ReasonBadResponse, ReasonAuth} {
		m.errors.WithLabelValues(r)
	}
	for _, r := range []string{ResultStored, ResultDuplicate, ResultDeadLetter, ResultRetried, ResultDropped, ResultSkipped} {
		m.docs.WithLabelValues(r)
	}
	m.lostBytes.WithLabelValues("unread") // at 0 from the start, for increase()
	m.stored = m.docs.WithLabelValues(ResultStored)
	m.duplicate = m.docs.WithLabelValues(ResultDuplicate)
	m.deadLet = m.docs.WithLabelValues(ResultDeadLetter)
	m.skipped = m.docs.WithLabelValues(ResultSkipped)
	if reg != nil {
		reg.MustRegister(m.docs, m.lagBytes, m.lagSecs, m.lostBytes, m.lostLines, m.errors)
	}
	return m
}

func counterVec(d schema.Metric) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: d.Name, Help: d.Help}, d.VariableLabels())
}

func gauge(d schema.Metric) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: d.Name, Help: d.Help})
}
