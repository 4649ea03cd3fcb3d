package live

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/schema"
)

// epKey is one row of the display: an endpoint of the contract and a
// method, as the sidecar labels its series.
type epKey struct{ endpoint, method string }

// epCounts are an endpoint's counters in one scrape of the sidecar, summed
// over the other labels (code, track, gateway, ...).
type epCounts struct {
	requests, errors float64
	buckets          map[float64]float64 // upper bound -> cumulative count
}

// snapshot is one scrape of the sidecar's /metrics.
type snapshot struct {
	at           time.Time
	eps          map[epKey]*epCounts
	lines        float64 // access-log lines read
	decodeErrors float64
	// skipped counts lines of another log in the stream (gin's error
	// line after a 5xx), which are not decode errors.
	skipped float64
}

// scrapeSidecar reads the sidecar's /metrics.
func scrapeSidecar(c *http.Client, url string) (*snapshot, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return parseSnapshot(time.Now(), fams), nil
}

func parseSnapshot(at time.Time, fams map[string]*dto.MetricFamily) *snapshot {
	s := &snapshot{at: at, eps: map[epKey]*epCounts{}}
	row := func(m *dto.Metric) *epCounts {
		var k epKey
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case schema.LabelEndpoint:
				k.endpoint = l.GetValue()
			case schema.LabelMethod:
				k.method = l.GetValue()
			}
		}
		c := s.eps[k]
		if c == nil {
			c = &epCounts{buckets: map[float64]float64{}}
			s.eps[k] = c
		}
		return c
	}
	if f := fams[schema.RequestsTotal.Name]; f != nil {
		for _, m := range f.GetMetric() {
			c := row(m)
			v := m.GetCounter().GetValue()
			c.requests += v
			for _, l := range m.GetLabel() {
				if l.GetName() == schema.LabelCode && strings.HasPrefix(l.GetValue(), "5") {
					c.errors += v
				}
			}
		}
	}
	if f := fams[schema.RequestDuration.Name]; f != nil {
		for _, m := range f.GetMetric() {
			c := row(m)
			h := m.GetHistogram()
			inf := false
			for _, b := range h.GetBucket() {
				c.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				inf = inf || math.IsInf(b.GetUpperBound(), 1)
			}
			if !inf {
				c.buckets[math.Inf(1)] += float64(h.GetSampleCount())
			}
		}
	}
	sum := func(name string) float64 {
		var t float64
		if f := fams[name]; f != nil {
			for _, m := range f.GetMetric() {
				t += m.GetCounter().GetValue()
			}
		}
		return t
	}
	s.lines = sum(schema.LinesRead.Name)
	s.decodeErrors = sum(schema.DecodeErrors.Name)
	s.skipped = sum(schema.SkippedLines.Name)
	return s
}

// epRate is what the display shows of an endpoint over a recent window.
type epRate struct {
	rps, errRPS float64
	p99         float64 // seconds; NaN without requests
	total       float64 // requests since the sidecar started
	totalErrors float64 // 5xx requests since the sidecar started
}

// rates compares two snapshots of the sidecar.
func rates(old, cur *snapshot) map[epKey]epRate {
	out := map[epKey]epRate{}
	dt := cur.at.Sub(old.at).Seconds()
	for k, c := range cur.eps {
		r := epRate{p99: math.NaN(), total: c.requests, totalErrors: c.errors}
		o := old.eps[k]
		if o == nil {
			o = &epCounts{}
		}
		if dt > 0 {
			r.rps = math.Max(0, (c.requests-o.requests)/dt)
			r.errRPS = math.Max(0, (c.errors-o.errors)/dt)
		}
		delta := map[float64]float64{}
		for le, n := range c.buckets {
			delta[le] = math.Max(0, n-o.buckets[le])
		}
		r.p99 = quantile(0.99, delta)
		out[k] = r
	}
	return out
}

// quantile estimates the q-quantile from cumulative bucket counts as
// Prometheus' histogram_quantile does: linear interpolation within the
// bucket that holds the rank; the highest finite bound when the rank falls
// in the +Inf bucket; NaN without observations.
func quantile(q float64, buckets map[float64]float64) float64 {
	les := make([]float64, 0, len(buckets))
	for le := range buckets {
		les = append(les, le)
	}
	slices.Sort(les)
	if len(les) == 0 || !math.IsInf(les[len(les)-1], 1) {
		return math.NaN()
	}
	total := buckets[les[len(les)-1]]
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, le := range les {
		n := buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) {
				return lower
			}
			if n == below {
				return le
			}
			return lower + (le-lower)*(rank-below)/(n-below)
		}
		lower, below = le, n
	}
	return lower
}
