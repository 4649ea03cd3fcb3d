package sidecar

import (
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatewatch/gatewatch/schema"
)

// globCollector exports schema.FilesMatched: how many files each
// configured log path (a file name or a glob) matches, counted at each
// scrape, so that a path that matches nothing (a wrong mount, a typo)
// shows as 0 instead of a quiet gateway. Standard input ("-") is left out.
type globCollector struct {
	paths []string
	desc  *prometheus.Desc
}

func newGlobCollector(paths []string) *globCollector {
	var ps []string
	for _, p := range paths {
		if p != "-" {
			ps = append(ps, p)
		}
	}
	m := schema.FilesMatched
	// The gateway label comes from the registerer.
	return &globCollector{paths: ps, desc: prometheus.NewDesc(m.Name, m.Help, m.VariableLabels(), nil)}
}

func (c *globCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *globCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.paths {
		// Patterns were validated by tail.New; a bad one matches nothing.
		m, _ := filepath.Glob(p)
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(len(m)), p)
	}
}
