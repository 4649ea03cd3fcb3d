package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ProbeConfig is the probe section of gatewatch.yaml: `gatewatch probe`,
// the external prober that pages PagerDuty itself, and the targets the
// probes generator writes for blackbox_exporter.
type ProbeConfig struct {
	// Interval between two probes of a target (30s).
	Interval Duration `yaml:"interval"`
	// Timeout of one probe, unless its target sets its own (5s).
	Timeout Duration `yaml:"timeout"`
	// TriggerAfter consecutive failures open an incident (3).
	TriggerAfter int `yaml:"trigger_after"`
	// ResolveAfter consecutive successes resolve it (2).
	ResolveAfter int `yaml:"resolve_after"`
	// Location names where this prober runs, sent in the events' custom
	// details; empty means the host name.
	Location string `yaml:"location"`
	// OutboxDir holds the PagerDuty events not yet accepted; it must
	// survive restarts. Required when PagerDuty has a routing key.
	OutboxDir string `yaml:"outbox_dir"`
	// Listen is the address of the prober's /metrics (":9117"); "off"
	// serves none.
	Listen string `yaml:"listen"`
	// BaseURL is the gateway's public URL; targets derived from the
	// contract, and targets whose url is a path, are resolved against it.
	BaseURL string `yaml:"base_url"`
	// Targets are probed besides those derived from the contract.
	Targets []ProbeTarget `yaml:"targets"`
	// PagerDuty is where the prober sends its events.
	PagerDuty ProbePagerDuty `yaml:"pagerduty"`
}

// ProbeTarget is one API call the prober makes.
type ProbeTarget struct {
	// Name is the check label's value; unique.
	Name string `yaml:"name"`
	// URL is absolute, or a path resolved against probe.base_url (with
	// example values in place of path parameters: /v1/users/42).
	URL string `yaml:"url"`
	// Method is the HTTP method (GET).
	Method string `yaml:"method"`
	// Headers are sent with each probe.
	Headers map[string]string `yaml:"headers"`
	// ExpectStatus lists the status codes that count as success; empty
	// means any 2xx.
	ExpectStatus StatusCodes `yaml:"expect_status"`
	// ExpectBody is a regular expression (RE2) the body must match.
	ExpectBody string `yaml:"expect_body"`
	// Timeout overrides probe.timeout for this target.
	Timeout Duration `yaml:"timeout"`
}

// ProbePagerDuty says where the prober's events go. Without a routing key
// the prober only exports metrics.
type ProbePagerDuty struct {
	// URL is the Events API v2 base URL (https://events.pagerduty.com;
	// EU accounts use https://events.eu.pagerduty.com).
	URL string `yaml:"url"`
	// RoutingKeyFile and RoutingKeyEnv name the routing key's file or
	// environment variable; at most one.
	RoutingKeyFile string `yaml:"routing_key_file"`
	RoutingKeyEnv  string `yaml:"routing_key_env"`
	// Severity of the trigger events: critical, error, warning or info
	// (critical).
	Severity string `yaml:"severity"`
}

// RoutingKey returns where the routing key comes from.
func (p ProbePagerDuty) RoutingKey() SecretRef {
	return SecretRef{File: p.RoutingKeyFile, Env: p.RoutingKeyEnv}
}

// StatusCodes is a list of HTTP status codes; YAML may give one code or a
// list.
type StatusCodes []int

// UnmarshalYAML accepts 200 as well as [200, 204].
func (s *StatusCodes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var c int
		if err := n.Decode(&c); err != nil {
			return fmt.Errorf("line %d: expected a status code such as 200, or a list of them", n.Line)
		}
		*s = StatusCodes{c}
		return nil
	}
	var cs []int
	if err := n.Decode(&cs); err != nil {
		return fmt.Errorf("line %d: expected a status code such as 200, or a list of them", n.Line)
	}
	*s = cs
	return nil
}

// Defaults of the probe section.
const (
	DefaultProbeInterval     = Duration(30 * time.Second)
	DefaultProbeTimeout      = Duration(5 * time.Second)
	DefaultProbeTriggerAfter = 3
	DefaultProbeResolveAfter = 2
	DefaultProbeListen       = ":9117"
	DefaultPagerDutyURL      = "https://events.pagerduty.com"
	DefaultProbeSeverity     = "critical"
)

// PagerDutySeverities are the Events API v2 severities.
var PagerDutySeverities = []string{"critical", "error", "warning", "info"}

func (p *ProbeConfig) applyDefaults() {
	if p.Interval == 0 {
		p.Interval = DefaultProbeInterval
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultProbeTimeout
	}
	if p.TriggerAfter == 0 {
		p.TriggerAfter = DefaultProbeTriggerAfter
	}
	if p.ResolveAfter == 0 {
		p.ResolveAfter = DefaultProbeResolveAfter
	}
	if p.Listen == "" {
		p.Listen = DefaultProbeListen
	}
	if p.PagerDuty.URL == "" {
		p.PagerDuty.URL = DefaultPagerDutyURL
	}
	if p.PagerDuty.Severity == "" {
		p.PagerDuty.Severity = DefaultProbeSeverity
	}
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.Method == "" {
			t.Method = "GET"
		}
		t.Method = strings.ToUpper(t.Method)
	}
}

func (p *ProbeConfig) paths() []*string {
	return []*string{&p.OutboxDir, &p.PagerDuty.RoutingKeyFile}
}

// checkNames are what a check label value may hold: it names a series and
// a blackbox module.
var checkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

var httpToken = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func (p *ProbeConfig) validate(v *validator) {
	at := func(k ...any) []any { return append([]any{"probe"}, k...) }
	if p.Interval <= 0 {
		v.errorf(at("interval"), "must be positive")
	}
	if p.Timeout <= 0 {
		v.errorf(at("timeout"), "must be positive")
	} else if p.Timeout > p.Interval {
		v.errorf(at("timeout"), "%s is longer than probe.interval %s; a probe must end before the next starts", p.Timeout, p.Interval)
	}
	if p.TriggerAfter < 1 {
		v.errorf(at("trigger_after"), "must be at least 1 (consecutive failures before an incident opens)")
	}
	if p.ResolveAfter < 1 {
		v.errorf(at("resolve_after"), "must be at least 1 (consecutive successes before it resolves)")
	}
	if p.BaseURL != "" {
		if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(at("base_url"), "%q is not an http or https URL such as https://api.example.com", p.BaseURL)
		}
	}
	seen := map[string]int{}
	for i := range p.Targets {
		t := &p.Targets[i]
		tat := func(k string) []any { return at("targets", i, k) }
		switch {
		case t.Name == "":
			v.errorf(at("targets", i), "name is required (it becomes the check label)")
		case !checkName.MatchString(t.Name):
			v.errorf(tat("name"), "%q may hold only letters, digits, '_', '.' and '-', starting with a letter or digit", t.Name)
		default:
			if j, dup := seen[t.Name]; dup {
				v.errorf(tat("name"), "%q is also the name of probe.targets[%d]; names must be unique", t.Name, j)
			}
			seen[t.Name] = i
		}
		switch u, err := url.Parse(t.URL); {
		case t.URL == "":
			v.errorf(at("targets", i), "url is required")
		case err != nil:
			v.errorf(tat("url"), "%q is not a URL", t.URL)
		case strings.HasPrefix(t.URL, "/"):
			if p.BaseURL == "" {
				v.errorf(tat("url"), "%q is a path; set probe.base_url, or give an absolute URL", t.URL)
			}
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf(tat("url"), "%q is neither an http(s) URL nor a path starting with /", t.URL)
		case u.User != nil:
			v.errorf(tat("url"), "credentials in the URL would be written into logs and generated files; probe an endpoint that needs none")
		}
		if !httpToken.MatchString(t.Method) {
			v.errorf(tat("method"), "%q is not an HTTP method", t.Method)
		}
		for name := range t.Headers {
			if !httpToken.MatchString(name) {
				v.errorf(tat("headers"), "%q is not a header name", name)
			}
		}
		for _, c := range t.ExpectStatus {
			if c < 100 || c > 599 {
				v.errorf(tat("expect_status"), "%d is not an HTTP status code (100-599)", c)
			}
		}
		if t.ExpectBody != "" {
			if _, err := regexp.Compile(t.ExpectBody); err != nil {
				v.errorf(tat("expect_body"), "not a regular expression: %v", err)
			}
		}
		if t.Timeout < 0 {
			v.errorf(tat("timeout"), "must be positive")
		} else if t.Timeout > p.Interval {
			v.errorf(tat("timeout"), "%s is longer than probe.interval %s", t.Timeout, p.Interval)
		}
	}
	pd := &p.PagerDuty
	if u, err := url.Parse(pd.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(at("pagerduty", "url"), "%q is not an http or https URL; expected the Events API base such as %s", pd.URL, DefaultPagerDutyURL)
	} else if strings.HasSuffix(u.Path, "/enqueue") {
		v.errorf(at("pagerduty", "url"), "%q ends in the API path; give the base URL (%s), /v2/enqueue is added", pd.URL, DefaultPagerDutyURL)
	}
	if pd.RoutingKeyFile != "" && pd.RoutingKeyEnv != "" {
		v.errorf(at("pagerduty"), "at most one of routing_key_file and routing_key_env may be set")
	}
	if !oneOf(pd.Severity, PagerDutySeverities) {
		v.errorf(at("pagerduty", "severity"), "unknown severity %q; expected one of %s", pd.Severity, strings.Join(PagerDutySeverities, ", "))
	}
	if pd.RoutingKey().IsSet() && p.OutboxDir == "" {
		v.errorf(at("pagerduty"), "a routing key is set but probe.outbox_dir is not; give a directory that survives restarts, where events wait until PagerDuty accepts them")
	}
}
