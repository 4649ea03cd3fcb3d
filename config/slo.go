package config

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/contract"
)

// SLOConfig holds the service-level objectives: defaults for every
// endpoint and overrides for some.
type SLOConfig struct {
	// Period is the SLO window the error budget is counted over (30d).
	Period Duration `yaml:"period"`
	// Availability is the percentage of requests that must not fail with
	// a 5xx status (default 99.9).
	Availability float64 `yaml:"availability"`
	// Latency is the latency objective.
	Latency LatencySLO `yaml:"latency"`
	// MinRequestsPerHour is the traffic below which availability alerts do
	// not page: an endpoint with three requests an hour must not wake
	// anyone for one error (default 60).
	MinRequestsPerHour float64 `yaml:"min_requests_per_hour"`
	// Endpoints override the defaults for matching endpoints; the first
	// matching entry wins.
	Endpoints []EndpointSLO `yaml:"endpoints"`
}

// LatencySLO says how fast requests must be.
type LatencySLO struct {
	// Threshold is the duration a request must not exceed. Zero means:
	// half the endpoint's timeout, or 1s for an endpoint without one.
	Threshold Duration `yaml:"threshold"`
	// Target is the percentage of requests that must be faster than the
	// threshold (default 99).
	Target float64 `yaml:"target"`
}

// EndpointSLO overrides the SLO of the endpoints it matches.
type EndpointSLO struct {
	// Endpoint is an endpoint name or a glob over names ("/v1/orders*").
	Endpoint string `yaml:"endpoint"`
	// Method restricts the override to one method; empty means any.
	Method string `yaml:"method"`
	// Availability overrides the default percentage when non-zero.
	Availability float64 `yaml:"availability"`
	// Latency overrides the default threshold and target where non-zero.
	Latency LatencySLO `yaml:"latency"`
	// Disabled turns the SLO alerts of these endpoints off.
	Disabled bool `yaml:"disabled"`
}

// SLO is the objective that applies to one endpoint.
type SLO struct {
	Period       time.Duration
	Availability float64 // percent
	// ErrorBudget is 1 - Availability/100.
	ErrorBudget      float64
	LatencyThreshold time.Duration
	// LatencyThresholdFromTimeout is true when no threshold is set and
	// LatencyThreshold is DefaultLatencyThreshold of the endpoint's
	// timeout.
	LatencyThresholdFromTimeout bool
	LatencyTarget               float64 // percent
	// MinRequestsPerHour guards availability pages.
	MinRequestsPerHour float64
	Disabled           bool
}

const (
	defaultPeriod       = 30 * 24 * time.Hour
	defaultAvailability = 99.9
	defaultLatency      = time.Second
	defaultLatencyGoal  = 99
	defaultMinTraffic   = 60
)

func (s *SLOConfig) applyDefaults() {
	if s.Period == 0 {
		s.Period = Duration(defaultPeriod)
	}
	if s.Availability == 0 {
		s.Availability = defaultAvailability
	}
	if s.Latency.Target == 0 {
		s.Latency.Target = defaultLatencyGoal
	}
	if s.MinRequestsPerHour == 0 {
		s.MinRequestsPerHour = defaultMinTraffic
	}
}

func (s *SLOConfig) validate(v *validator) {
	checkPercent(v, []any{"slo", "availability"}, s.Availability)
	checkPercent(v, []any{"slo", "latency", "target"}, s.Latency.Target)
	if s.Period < Duration(time.Hour) {
		v.errorf([]any{"slo", "period"}, "period %s is too short; expected at least 1h (usually 28d or 30d)", s.Period)
	} else if n := v.node([]any{"slo", "period"}); n != nil {
		// A written 0s is refused like 1ms, not replaced by the default.
		if d, err := model.ParseDuration(n.Value); err == nil && d == 0 {
			v.errorf([]any{"slo", "period"}, "period 0s is too short; expected at least 1h (usually 28d or 30d), or leave period out for the default 30d")
		}
	}
	if s.MinRequestsPerHour < 0 {
		v.errorf([]any{"slo", "min_requests_per_hour"}, "must not be negative")
	}
	for i, e := range s.Endpoints {
		at := []any{"slo", "endpoints", i}
		if e.Endpoint == "" {
			v.errorf(at, "endpoint must be set (a name or glob such as /v1/orders*)")
		}
		if e.Availability != 0 {
			checkPercent(v, append(at, "availability"), e.Availability)
		}
		if e.Latency.Target != 0 {
			checkPercent(v, append(at, "latency", "target"), e.Latency.Target)
		}
	}
}

func checkPercent(v *validator, at []any, p float64) {
	if p <= 0 || p >= 100 {
		v.errorf(at, "%g is not a percentage between 0 and 100 (exclusive), e.g. 99.9", p)
	}
}

// SLOFor returns the objective of an endpoint: the defaults with the first
// matching override applied.
func (c *Config) SLOFor(ep *contract.Endpoint) SLO {
	s := SLO{
		Period:             time.Duration(c.SLO.Period),
		Availability:       c.SLO.Availability,
		LatencyThreshold:   time.Duration(c.SLO.Latency.Threshold),
		LatencyTarget:      c.SLO.Latency.Target,
		MinRequestsPerHour: c.SLO.MinRequestsPerHour,
	}
	for _, o := range c.SLO.Endpoints {
		if !matchEndpoint(o.Endpoint, o.Method, ep) {
			continue
		}
		if o.Availability != 0 {
			s.Availability = o.Availability
		}
		if o.Latency.Threshold != 0 {
			s.LatencyThreshold = time.Duration(o.Latency.Threshold)
		}
		if o.Latency.Target != 0 {
			s.LatencyTarget = o.Latency.Target
		}
		s.Disabled = o.Disabled
		break
	}
	if s.LatencyThreshold == 0 {
		s.LatencyThreshold = DefaultLatencyThreshold(ep.Timeout)
		s.LatencyThresholdFromTimeout = true
	}
	s.ErrorBudget = roundBudget(1 - s.Availability/100)
	return s
}

// ThresholdFromTimeout reports whether the latency threshold of ep comes
// from its timeout: neither slo.latency.threshold nor a matching override
// sets one.
func (c *Config) ThresholdFromTimeout(ep *contract.Endpoint) bool {
	if c.SLO.Latency.Threshold != 0 {
		return false
	}
	for _, o := range c.SLO.Endpoints {
		if matchEndpoint(o.Endpoint, o.Method, ep) {
			return o.Latency.Threshold == 0
		}
	}
	return true
}

// DefaultLatencyThreshold derives a latency threshold from an endpoint
// timeout: half of it, or 1s when the endpoint has none.
func DefaultLatencyThreshold(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return defaultLatency
	}
	return timeout / 2
}

// roundBudget removes float noise: 1-99.9/100 is 0.0009999999999998899.
func roundBudget(b float64) float64 {
	const scale = 1e9
	return float64(int64(b*scale+0.5)) / scale
}

// LatencyThresholds returns every latency threshold the SLOs of c's
// endpoints use; the exporter makes each one a histogram bucket.
func (c *Config) LatencyThresholds(ct *contract.Contract) []time.Duration {
	var ds []time.Duration
	for i := range ct.Endpoints {
		ep := &ct.Endpoints[i]
		ds = append(ds, c.SLOFor(ep).LatencyThreshold)
		if ep.Timeout > 0 {
			ds = append(ds, ep.Timeout)
		}
	}
	return ds
}

func matchEndpoint(glob, method string, ep *contract.Endpoint) bool {
	if !Glob(glob, ep.Name) {
		return false
	}
	if method == "" || len(ep.Methods) == 0 {
		return true
	}
	for _, m := range ep.Methods {
		if m == method {
			return true
		}
	}
	return false
}
