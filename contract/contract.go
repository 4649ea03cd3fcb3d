// Package contract holds the gateway-neutral model of an API gateway's
// configuration: the endpoints a gateway serves, with their backends,
// timeouts, rate limits and authentication. Loaders for KrakenD, Kong and
// Envoy live in sub-packages; the model, the path matcher, lint and diff
// live here.
package contract

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Kind names a gateway product whose configuration gatewatch reads.
type Kind string

// The gateways gatewatch understands.
const (
	KrakenD Kind = "krakend"
	Kong    Kind = "kong"
	Envoy   Kind = "envoy"
)

// Unmatched is the endpoint label value of a request that matches no
// endpoint of the contract. Raw paths never become label values.
const Unmatched = "unmatched"

// Contract is one gateway configuration reduced to what monitoring needs.
type Contract struct {
	// Gateway is the product the contract was read from.
	Gateway Kind `json:"gateway"`
	// Name is the gateway's own name for itself (KrakenD "name"), or the
	// file's base name when it has none.
	Name string `json:"name"`
	// Source is the path of the file the contract was read from.
	Source string `json:"source"`
	// Hash is the hex SHA-256 of the source bytes (see HashSource).
	Hash string `json:"hash"`
	// Defaults are the gateway-wide settings endpoints inherit.
	Defaults Defaults `json:"defaults"`
	// Endpoints are in the gateway's own order, which matters for gateways
	// whose first matching route wins (Envoy).
	Endpoints []Endpoint `json:"endpoints"`
	// Notes are the loader's remarks on parts of the source it read but
	// could not turn into endpoints exactly (routes served through RDS, a
	// regular expression Go cannot run); lint reports them.
	Notes []Note `json:"notes,omitempty"`
}

// Note is a loader's remark about a place in the source file. Unlike an
// Error it does not stop the contract from loading.
type Note struct {
	Pos Position `json:"pos"`
	// Path names the element, as Error.Path does.
	Path string `json:"path,omitempty"`
	Text string `json:"text"`
}

// Defaults are gateway-wide settings.
type Defaults struct {
	// Timeout is written to JSON as timeout_seconds (see MarshalJSON).
	Timeout time.Duration `json:"-"`
	Port    int           `json:"port,omitempty"`
	// Hosts are the default backend hosts (KrakenD's global "host").
	Hosts []string `json:"hosts,omitempty"`
}

// MatchKind says how an endpoint's path is compared with a request path.
type MatchKind string

// The ways a route can match a path.
const (
	// MatchExact: the path equals the template, where each {param}
	// segment matches one path segment (KrakenD, Envoy "path").
	MatchExact MatchKind = "exact"
	// MatchPrefix: the request path starts with Path (Kong plain paths,
	// Envoy "prefix", KrakenD wildcard endpoints ending in "/*").
	MatchPrefix MatchKind = "prefix"
	// MatchSegmentPrefix: the path equals Path or continues with "/"
	// (Envoy path_separated_prefix).
	MatchSegmentPrefix MatchKind = "segment_prefix"
	// MatchRegex: the whole path matches Regex (Envoy safe_regex) or, for
	// Kong "~" paths, Regex matches from the start of the path.
	MatchRegex MatchKind = "regex"
)

// Endpoint is one route of the gateway.
type Endpoint struct {
	// Name is the value of the endpoint label in every metric, rule and
	// dashboard. For KrakenD it is the path template ("/v1/users/{id}"); for
	// Kong and Envoy the route's name, or a stable generated one.
	Name string `json:"name"`
	// Methods the endpoint answers; empty means any method.
	Methods []string `json:"methods,omitempty"`
	// Path is the path as the configuration writes it: a template with
	// {param} segments, a prefix, or a regular expression's source.
	Path string `json:"path"`
	// Paths holds every path of a route that lists several (Kong); Path is
	// then the first of them.
	Paths []string `json:"paths,omitempty"`
	// Match says how Path is compared with a request path.
	Match MatchKind `json:"match"`
	// Params are the names of the path parameters, in order.
	Params []string `json:"params,omitempty"`
	// Regex is the regular expression for MatchRegex, in Go RE2 syntax.
	Regex string `json:"regex,omitempty"`
	// Hosts restricts the route to these Host headers (Kong hosts, Envoy
	// virtual host domains); empty means any.
	Hosts []string `json:"hosts,omitempty"`
	// Headers are further conditions on request headers (Envoy).
	Headers []HeaderMatch `json:"headers,omitempty"`
	// Priority orders overlapping routes where the gateway does (Kong
	// regex_priority); higher wins.
	Priority int `json:"priority,omitempty"`
	// Backends the endpoint forwards to; empty for a direct response.
	Backends []Backend `json:"backends,omitempty"`
	// DirectResponse is the status of a route answered by the gateway
	// itself (Envoy direct_response), 0 otherwise.
	DirectResponse int `json:"direct_response,omitempty"`
	// Timeout is the effective timeout (the endpoint's own or inherited);
	// 0 means none is configured anywhere. JSON has it as timeout_seconds.
	Timeout time.Duration `json:"-"`
	// TimeoutIsDefault is true when the file sets no timeout for the
	// endpoint and Timeout is the gateway product's own default (Kong's
	// 60s read_timeout, Envoy's 15s route timeout).
	TimeoutIsDefault bool `json:"timeout_is_default,omitempty"`
	// Retries is the number of retries the gateway makes (Envoy
	// retry_policy, Kong service retries); 0 when not configured.
	Retries int `json:"retries,omitempty"`
	// RateLimit is nil when the endpoint has no rate limit.
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
	// Auth says what authentication the gateway enforces.
	Auth Auth `json:"auth"`
	// Public is true when the endpoint is reachable from outside (the
	// default); false when tagged or configured as internal.
	Public bool `json:"public"`
	// Tags are free-form labels from the configuration.
	Tags []string `json:"tags,omitempty"`
	// Service is the upstream service name where the gateway has one
	// (Kong service, Envoy cluster).
	Service string `json:"service,omitempty"`
	// Listener names the route table the endpoint belongs to where a
	// gateway has several (Envoy listeners); routes of different listeners
	// never compete, so lint only compares routes of the same one. Empty
	// when the gateway has a single route table.
	Listener string `json:"listener,omitempty"`
	// Pos is where the endpoint is declared in the source file.
	Pos Position `json:"pos"`
}

// HeaderMatch is one header condition of a route.
type HeaderMatch struct {
	Name string `json:"name"`
	// Value is the exact value required; empty with Present means the
	// header must merely be present.
	Value   string `json:"value,omitempty"`
	Regex   string `json:"regex,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
	Present bool   `json:"present,omitempty"`
	Invert  bool   `json:"invert,omitempty"`
}

// Backend is one upstream an endpoint forwards to.
type Backend struct {
	Hosts []string `json:"hosts,omitempty"`
	// URL is the backend path pattern (KrakenD url_pattern) or the
	// upstream URL (Kong service url).
	URL string `json:"url,omitempty"`
	// Name is the upstream's name where it has one (Envoy cluster, Kong
	// service or upstream).
	Name string `json:"name,omitempty"`
}

// RateLimit is the gateway's request limit on an endpoint.
type RateLimit struct {
	// Requests allowed per Period (max_rate per second for KrakenD, Kong's
	// second/minute/hour limits, Envoy local rate limit tokens).
	Requests float64 `json:"requests"`
	// Period is written to JSON as period_seconds.
	Period time.Duration `json:"-"`
	// PerClient is true when the limit applies to each client separately.
	PerClient bool `json:"per_client,omitempty"`
}

// MarshalJSON writes the timeout as seconds, the unit in the key.
func (d Defaults) MarshalJSON() ([]byte, error) {
	type plain Defaults
	return json.Marshal(struct {
		plain
		Timeout float64 `json:"timeout_seconds,omitempty"`
	}{plain(d), d.Timeout.Seconds()})
}

// MarshalJSON writes the timeout as seconds, the unit in the key.
func (e Endpoint) MarshalJSON() ([]byte, error) {
	type plain Endpoint
	return json.Marshal(struct {
		plain
		Timeout float64 `json:"timeout_seconds,omitempty"`
	}{plain(e), e.Timeout.Seconds()})
}

// MarshalJSON writes the period as seconds, the unit in the key.
func (r RateLimit) MarshalJSON() ([]byte, error) {
	type plain RateLimit
	return json.Marshal(struct {
		plain
		Period float64 `json:"period_seconds"`
	}{plain(r), r.Period.Seconds()})
}

// Auth describes the authentication enforced on an endpoint.
type Auth struct {
	Required bool `json:"required"`
	// Kinds names the mechanisms: "jwt", "key-auth", "oauth2", "basic-auth",
	// "acl", "ext_authz", ...
	Kinds []string `json:"kinds,omitempty"`
}

// Position is a place in a source file; Line and Column are 1-based, zero
// when unknown.
type Position struct {
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
}

func (p Position) String() string {
	switch {
	case p.Line == 0:
		return ""
	case p.Column == 0:
		return fmt.Sprintf("%d", p.Line)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// HashSource returns the hex SHA-256 of a contract's source bytes.
func HashSource(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// ID returns a short identifier of the endpoint used where one line per
// endpoint is printed: "GET,POST /v1/users/{id}" or "ANY name".
func (e *Endpoint) ID() string {
	m := "ANY"
	if len(e.Methods) > 0 {
		m = joinComma(e.Methods)
	}
	return m + " " + e.Name
}

func joinComma(ss []string) string {
	n := 0
	for _, s := range ss {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	return string(b)
}

// Error is a problem found in a source file, with its place.
type Error struct {
	File string
	Pos  Position
	// Path names the element, e.g. "endpoints[3].backend[0].host".
	Path string
	Err  error
}

func (e *Error) Error() string {
	s := e.File
	if p := e.Pos.String(); p != "" {
		s += ":" + p
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// FormatDuration writes d as people write durations: "1.5s", "250ms",
// "5m", "1h30m", "2m30s", where time.Duration's String pads with zero
// units ("5m0s", "1h30m0s").
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d < time.Second {
		return d.String() // "250ms", "1.5ms", "800µs"
	}
	var b []byte
	if h := d / time.Hour; h > 0 {
		b = fmt.Appendf(b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b = fmt.Appendf(b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b = strconv.AppendFloat(b, d.Seconds(), 'f', -1, 64)
		b = append(b, 's')
	}
	return string(b)
}

// Glob reports whether name matches pattern, where "*" matches any run of
// characters ("/" included) and every other character itself.
func Glob(pattern, name string) bool {
	// Iterative with one backtrack point: linear in practice, never
	// exponential like a recursive matcher.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
