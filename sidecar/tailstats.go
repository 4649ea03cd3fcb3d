package sidecar

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/gatewatch/gatewatch/tail"
)

// tailCollector exports the metrics reader's tail.Stats: what happened to
// the followed files (rotations, truncations, bytes never delivered as
// lines) that the per-line metrics cannot show.
type tailCollector struct {
	stats func() tail.Stats

	open, rotations, truncations, skipped, duplicates, fileErrors, ckptErrors *prometheus.Desc
	matched                                                                   *prometheus.Desc
}

func newTailCollector(stats func() tail.Stats) *tailCollector {
	// The gateway label comes from the registerer (prometheus.WrapRegistererWith).
	d := func(m schema.Metric) *prometheus.Desc {
		return prometheus.NewDesc(m.Name, m.Help, m.VariableLabels(), nil)
	}
	return &tailCollector{
		stats:       stats,
		open:        d(schema.OpenFiles),
		rotations:   d(schema.Rotations),
		truncations: d(schema.Truncations),
		skipped:     d(schema.SkippedBytes),
		duplicates:  d(schema.DuplicateFiles),
		fileErrors:  d(schema.FileErrors),
		ckptErrors:  d(schema.CheckpointErrors),
		matched:     d(schema.FilesMatched),
	}
}

func (c *tailCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.rotations, c.truncations, c.skipped, c.duplicates, c.fileErrors, c.ckptErrors, c.matched} {
		ch <- d
	}
}

func (c *tailCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	open := 0
	for _, f := range st.Files {
		if f.Path != "-" {
			open++
		}
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open))
	counter(c.rotations, st.Rotations)
	counter(c.truncations, st.Truncations)
	counter(c.skipped, st.CutBytes, schema.SkippedTooLong)
	counter(c.skipped, st.NULBytes, schema.SkippedNUL)
	counter(c.skipped, st.LostBytes, schema.SkippedLost)
	counter(c.duplicates, st.Duplicates)
	counter(c.fileErrors, st.Errors)
	counter(c.ckptErrors, st.CheckpointErrors)
	for _, p := range st.Patterns {
		ch <- prometheus.MustNewConstMetric(c.matched, prometheus.GaugeValue, float64(p.Files), p.Pattern)
	}
}
