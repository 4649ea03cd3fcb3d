package contract

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
)

// Severity is how serious a lint finding is.
type Severity string

// The severities of lint findings, most serious first.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// DefaultMaxTimeout is the largest endpoint timeout Lint accepts unless
// LintOptions.MaxTimeout says otherwise.
const DefaultMaxTimeout = 30 * time.Second

// Rule describes one lint check.
type Rule struct {
	// ID is the stable identifier ("GW001").
	ID string `json:"id"`
	// Slug is the stable readable name ("missing-version-prefix").
	Slug string `json:"slug"`
	// Severity is the default severity of the rule's findings.
	Severity Severity `json:"severity"`
	// Summary says in one line what the rule checks.
	Summary string `json:"summary"`
}

// The lint rules. Their IDs and slugs never change meaning.
var (
	RuleMissingVersion   = Rule{"GW001", "missing-version-prefix", SeverityWarning, "endpoint path does not start with a version segment such as /v1/"}
	RuleNoTimeout        = Rule{"GW002", "no-timeout", SeverityWarning, "endpoint forwards to a backend without any timeout"}
	RuleTimeoutTooLong   = Rule{"GW003", "timeout-too-long", SeverityWarning, "endpoint timeout is above the allowed maximum"}
	RulePublicNoAuth     = Rule{"GW004", "public-without-auth", SeverityWarning, "public endpoint enforces no authentication"}
	RuleNoRateLimit      = Rule{"GW005", "no-rate-limit", SeverityInfo, "endpoint has no rate limit"}
	RuleDuplicateRoute   = Rule{"GW006", "duplicate-route", SeverityError, "two routes have the same method and path"}
	RuleShadowedRoute    = Rule{"GW007", "shadowed-route", SeverityError, "route can never be reached because another route always wins"}
	RulePlaintextBackend = Rule{"GW008", "plaintext-backend", SeverityWarning, "external backend reached over plain http://"}
	RuleLoaderNote       = Rule{"GW009", "loader-note", SeverityInfo, "part of the configuration could not be modelled exactly"}
	RuleParamConflict    = Rule{"GW010", "param-name-conflict", SeverityError, "KrakenD: parameters at the same place are named differently"}
	RuleLogBlind         = Rule{"GW011", "differs-only-by-headers", SeverityWarning, "two routes differ only by request headers the access log does not carry"}
	// RulePatternUnmatched is reported by the command line, which reads
	// gatewatch.yaml: Lint itself never sees the configuration.
	RulePatternUnmatched = Rule{"GW012", "pattern-matches-nothing", SeverityWarning, "an owner or SLO pattern of gatewatch.yaml matches no endpoint"}
)

// Rules lists every lint rule in ID order.
var Rules = []Rule{
	RuleMissingVersion, RuleNoTimeout, RuleTimeoutTooLong, RulePublicNoAuth,
	RuleNoRateLimit, RuleDuplicateRoute, RuleShadowedRoute, RulePlaintextBackend,
	RuleLoaderNote, RuleParamConflict, RuleLogBlind, RulePatternUnmatched,
}

// LookupRule finds a rule by ID ("GW004", any case) or slug.
func LookupRule(idOrSlug string) (Rule, bool) {
	for _, r := range Rules {
		if strings.EqualFold(r.ID, idOrSlug) || r.Slug == idOrSlug {
			return r, true
		}
	}
	return Rule{}, false
}

// UnknownRuleError is the error for a rule name that is no rule's ID or
// slug.
func UnknownRuleError(name string) error {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return fmt.Errorf("unknown lint rule %q: expected a rule ID (%s) or its slug (gatewatch contract lint --help lists them)", name, strings.Join(ids, ", "))
}

// Finding is one problem Lint found.
type Finding struct {
	// Rule is the rule's ID ("GW004") and Slug its readable name.
	Rule     string   `json:"rule"`
	Slug     string   `json:"slug"`
	Severity Severity `json:"severity"`
	// File is the contract's source file.
	File string `json:"file,omitempty"`
	// Endpoint is the endpoint's name (its label value).
	Endpoint string   `json:"endpoint"`
	Pos      Position `json:"pos"`
	Message  string   `json:"message"`
	// Hint says how to fix the problem.
	Hint string `json:"hint"`
}

// LintOptions tune Lint.
type LintOptions struct {
	// MaxTimeout is the largest acceptable endpoint timeout; 0 means
	// DefaultMaxTimeout.
	MaxTimeout time.Duration
	// Severity overrides a rule's default severity, keyed by rule ID or
	// slug.
	Severity map[string]Severity
	// Disabled turns rules off, by ID or slug.
	Disabled []string
	// Exceptions accept a rule's findings on some endpoints.
	Exceptions []Exception
}

// Exception accepts the findings of one rule on the endpoints whose names
// match one of the globs ("*" matches any text, "/" included).
type Exception struct {
	// Rule is the rule's ID or slug.
	Rule      string
	Endpoints []string
}

// Validate reports the first rule name in o that names no rule, and any
// exception without endpoints.
func (o LintOptions) Validate() error {
	names := slices.Clone(o.Disabled)
	for k := range o.Severity {
		names = append(names, k)
	}
	slices.Sort(names[len(o.Disabled):])
	for _, e := range o.Exceptions {
		names = append(names, e.Rule)
	}
	for _, n := range names {
		if _, ok := LookupRule(n); !ok {
			return UnknownRuleError(n)
		}
	}
	for _, e := range o.Exceptions {
		if len(e.Endpoints) == 0 {
			return fmt.Errorf("lint exception for %s names no endpoint", e.Rule)
		}
	}
	return nil
}

// excepted reports whether a finding of r on endpoint is accepted.
func (o *LintOptions) excepted(r Rule, endpoint string) bool {
	for _, e := range o.Exceptions {
		if !strings.EqualFold(e.Rule, r.ID) && e.Rule != r.Slug {
			continue
		}
		for _, g := range e.Endpoints {
			if Glob(g, endpoint) {
				return true
			}
		}
	}
	return false
}

// Lint checks a contract against the rules and returns the findings sorted
// by position in the source file.
func Lint(c *Contract, opts LintOptions) []Finding {
	l := &linter{c: c, opts: opts}
	if l.opts.MaxTimeout <= 0 {
		l.opts.MaxTimeout = DefaultMaxTimeout
	}
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		l.version(e)
		l.timeouts(e)
		if e.Public && !e.Auth.Required && !healthEndpoint(e) {
			l.add(RulePublicNoAuth, e,
				fmt.Sprintf("public endpoint %s enforces no authentication", quoteID(e)),
				"require authentication (KrakenD auth/validator, Kong jwt/key-auth/oauth2 plugin, Envoy jwt_authn or ext_authz), or mark the endpoint internal if it is not reachable from outside")
		}
		if e.RateLimit == nil && e.DirectResponse == 0 {
			l.add(RuleNoRateLimit, e,
				fmt.Sprintf("endpoint %s has no rate limit", quoteID(e)),
				"add a rate limit (KrakenD qos/ratelimit/router, Kong rate-limiting plugin, Envoy local_ratelimit) so one client cannot exhaust the backend")
		}
		l.plaintext(e)
	}
	l.duplicates()
	l.shadows()
	l.logBlind()
	if c.Gateway == KrakenD {
		l.paramConflicts()
	}
	for _, n := range c.Notes {
		msg := n.Text
		if n.Path != "" {
			msg = n.Path + ": " + msg
		}
		l.addAt(RuleLoaderNote, "", n.Pos, msg, noteHint(n.Text))
	}
	slices.SortStableFunc(l.out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Endpoint, b.Endpoint),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return l.out
}

type linter struct {
	c    *Contract
	opts LintOptions
	out  []Finding
	// dup marks endpoint pairs (later, earlier) already reported as
	// duplicates, so they are not reported as shadowed too.
	dup map[[2]int]bool
}

func (l *linter) add(r Rule, e *Endpoint, msg, hint string) {
	l.addAt(r, e.Name, e.Pos, msg, hint)
}

func (l *linter) addAt(r Rule, endpoint string, pos Position, msg, hint string) {
	for _, d := range l.opts.Disabled {
		if strings.EqualFold(d, r.ID) || d == r.Slug {
			return
		}
	}
	if endpoint != "" && l.opts.excepted(r, endpoint) {
		return
	}
	sev := r.Severity
	for k, s := range l.opts.Severity {
		if strings.EqualFold(k, r.ID) || k == r.Slug {
			sev = s
		}
	}
	l.out = append(l.out, Finding{
		Rule: r.ID, Slug: r.Slug, Severity: sev, File: l.c.Source,
		Endpoint: endpoint, Pos: pos, Message: msg, Hint: hint,
	})
}

func quoteID(e *Endpoint) string { return fmt.Sprintf("%q", e.ID()) }

// healthSegment matches the last segment of a health-check path.
var healthSegment = regexp.MustCompile(`^(__health|health|healthz|healthcheck|ping|ready|readyz|readiness|live|livez|liveness)$`)

// healthEndpoint reports whether every path of e ends in a health-check
// segment (/__health, /health, /healthz, /ready..., /live...): such
// endpoints are public on purpose, so GW004 leaves them alone.
func healthEndpoint(e *Endpoint) bool {
	for _, p := range endpointPaths(e) {
		p = strings.TrimRight(strings.TrimSuffix(p, "*"), "/")
		if !healthSegment.MatchString(p[strings.LastIndexByte(p, '/')+1:]) {
			return false
		}
	}
	return true
}

// noteHint says what to do about a loader's note, by its kind.
func noteHint(text string) string {
	switch {
	case strings.Contains(text, "is a credential and is not kept"):
		return "nothing to fix: the route still requires the header; gatewatch keeps no credential, so lint and the matcher only know that the header must be present"
	case strings.Contains(text, "is not kept"):
		return "nothing to fix in the file: gatewatch keeps the part the note names, which is what lint and the generated rules use"
	case strings.Contains(text, "at run time"):
		return "give gatewatch a file with the routes the control plane serves (Envoy's /config_dump, say) if these requests should be counted per endpoint; until then they count as unmatched"
	case strings.Contains(text, "rate limit service"):
		return "nothing to fix in the file: these endpoints are limited elsewhere, so GW005 reports them as unlimited; accept GW005 for them"
	case strings.Contains(text, "not served"):
		return "nothing to fix if the service is off on purpose; its routes get no endpoint"
	}
	return "check with gatewatch contract show that the endpoints gatewatch derived are what the gateway serves; requests it cannot model count as unmatched"
}

// versionSegment matches a version path segment: v1, v2, v1beta1, v2alpha.
var versionSegment = regexp.MustCompile(`^v[0-9]+([a-z]+[0-9]*)?$`)

// endpointPaths returns the paths an endpoint is written with, regex
// paths reduced to their literal prefix.
func endpointPaths(e *Endpoint) []string {
	paths := e.Paths
	if len(paths) == 0 {
		paths = []string{e.Path}
	}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		switch {
		case strings.HasPrefix(p, "~"):
			p = literalPrefix(p[1:])
		case e.Match == MatchRegex && len(e.Paths) == 0:
			if e.Regex != "" {
				p = e.Regex
			}
			p = literalPrefix(p)
		}
		out = append(out, p)
	}
	return out
}

// hasVersion reports whether one of the first two segments of p (so that
// /api/v1/ counts) is a version.
func hasVersion(p string) bool {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for k := 0; k < len(segs) && k < 2; k++ {
		if versionSegment.MatchString(segs[k]) {
			// A prefix "/v1" without the slash also matches "/v1x";
			// still a version, the route is merely loose.
			return true
		}
	}
	return false
}

func (l *linter) version(e *Endpoint) {
	for _, p := range endpointPaths(e) {
		if !hasVersion(p) {
			l.add(RuleMissingVersion, e,
				fmt.Sprintf("endpoint %s path %q has no version prefix", quoteID(e), p),
				"serve the API under a version segment (/v1/...) so a breaking change can ship as /v2 beside it")
			return
		}
	}
}

func (l *linter) timeouts(e *Endpoint) {
	if e.DirectResponse != 0 && len(e.Backends) == 0 {
		return
	}
	switch {
	case e.Timeout == 0:
		l.add(RuleNoTimeout, e,
			fmt.Sprintf("endpoint %s has no timeout", quoteID(e)),
			fmt.Sprintf("set a timeout at or below %s (KrakenD timeout, Kong service read/write/connect_timeout, Envoy route timeout)", FormatDuration(l.opts.MaxTimeout)))
	case e.Timeout > l.opts.MaxTimeout:
		l.add(RuleTimeoutTooLong, e,
			fmt.Sprintf("endpoint %s timeout %s is above the limit of %s", quoteID(e), FormatDuration(e.Timeout), FormatDuration(l.opts.MaxTimeout)),
			fmt.Sprintf("lower the timeout to %s or less, or raise the limit with --max-timeout if the backend is known to be slow", FormatDuration(l.opts.MaxTimeout)))
	}
}

func (l *linter) plaintext(e *Endpoint) {
	seen := map[string]bool{}
	for _, b := range e.Backends {
		addrs := append([]string{b.URL}, b.Hosts...)
		if len(b.Hosts) == 0 && l.c.Gateway == KrakenD {
			addrs = append(addrs, l.c.Defaults.Hosts...)
		}
		for _, a := range addrs {
			if len(a) < 7 || !strings.EqualFold(a[:7], "http://") {
				continue
			}
			u, err := url.Parse(a)
			if err != nil || u.Hostname() == "" {
				continue
			}
			h := u.Hostname()
			if internalHost(h) || seen[h] {
				continue
			}
			seen[h] = true
			l.add(RulePlaintextBackend, e,
				fmt.Sprintf("endpoint %s reaches external backend %q over plain http", quoteID(e), u.Host),
				"use https:// for backends outside the cluster, or address the service by its cluster-internal name")
		}
	}
}

// internalHost reports whether a backend host name or address stays
// inside the cluster or machine: localhost, Kubernetes service names
// (*.svc, *.cluster.local), *.internal, single-label names (Docker and
// Kubernetes short names), names whose last label is not a public top-level
// domain ("details.bookinfo", "db.lan") and loopback, private or link-local
// IPs.
func internalHost(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
	}
	switch {
	case h == "localhost", strings.HasSuffix(h, ".localhost"),
		strings.HasSuffix(h, ".svc"), strings.HasSuffix(h, ".cluster.local"),
		strings.HasSuffix(h, ".internal"), !strings.Contains(h, "."):
		return true
	}
	tld := h[strings.LastIndexByte(h, '.')+1:]
	return !publicTLD(tld)
}

// commonTLDs are the generic top-level domains backends are commonly found
// under; every two-letter label counts as a country-code domain.
var commonTLDs = map[string]bool{
	"com": true, "net": true, "org": true, "io": true, "dev": true, "app": true, "ai": true,
	"info": true, "biz": true, "cloud": true, "tech": true, "xyz": true, "site": true,
	"online": true, "gov": true, "edu": true, "mil": true, "int": true, "api": true,
	"services": true, "digital": true, "solutions": true, "systems": true, "network": true,
	"software": true, "page": true, "run": true, "aws": true, "azure": true, "google": true,
}

func publicTLD(tld string) bool {
	if len(tld) == 2 {
		return tld[0] >= 'a' && tld[0] <= 'z' && tld[1] >= 'a' && tld[1] <= 'z'
	}
	return commonTLDs[tld] || strings.HasPrefix(tld, "xn--")
}

// methodSet returns an endpoint's methods upper-cased; nil means any.
func methodSet(e *Endpoint) []string {
	if len(e.Methods) == 0 {
		return nil
	}
	ms := make([]string, 0, len(e.Methods))
	for _, m := range e.Methods {
		ms = append(ms, strings.ToUpper(m))
	}
	slices.Sort(ms)
	return slices.Compact(ms)
}

// routeKeys returns one key per path of the endpoint; two endpoints with a
// common key and overlapping methods are the same route. Parameter names
// are ignored: "/users/{id}" and "/users/{uid}" are one route to the
// gateway.
func routeKeys(e *Endpoint) []string { return routeKeysOf(e, true) }

// routeKeysOf is routeKeys, with the header conditions in the key or not.
func routeKeysOf(e *Endpoint, headers bool) []string {
	cond := e.Listener + "|" + strings.Join(sortedLower(e.Hosts), ",")
	if headers {
		cond += "|" + headersKey(e.Headers)
	}
	if e.Match == MatchRegex && e.Regex != "" && len(e.Paths) == 0 {
		return []string{"regex " + e.Regex + "|" + cond}
	}
	paths := e.Paths
	if len(paths) == 0 {
		paths = []string{e.Path}
	}
	keys := make([]string, 0, len(paths))
	for _, p := range paths {
		kind := e.Match
		if kind == "" {
			kind = MatchExact
		}
		switch {
		case strings.HasPrefix(p, "~"):
			kind = MatchRegex
		case kind == MatchRegex && len(e.Paths) > 0:
			// A Kong route with several paths: each written path is a
			// route of its own for this comparison.
			kind = MatchPrefix
		}
		keys = append(keys, string(kind)+" "+ShapeOf(p)+"|"+cond)
	}
	return keys
}

func sortedLower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	slices.Sort(out)
	return out
}

func headersKey(hs []HeaderMatch) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s=%q~%q^%q?%t!%t", strings.ToLower(h.Name), h.Value, h.Regex, h.Prefix, h.Present, h.Invert)
	}
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

// ShapeOf returns a path template with every parameter name removed:
// "/users/{id}/orders/{oid}" becomes "/users/{}/orders/{}".
func ShapeOf(p string) string {
	if !strings.Contains(p, "{") {
		return p
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(p[:i])
		b.WriteString("{}")
		p = p[i+j+1:]
	}
	b.WriteString(p)
	return b.String()
}

func methodsOverlap(a, b []string) []string {
	switch {
	case a == nil && b == nil:
		return []string{"ANY"}
	case a == nil || b == nil:
		return nil
	}
	var out []string
	for _, m := range a {
		if slices.Contains(b, m) {
			out = append(out, m)
		}
	}
	return out
}

func (l *linter) duplicates() {
	l.dup = map[[2]int]bool{}
	type first struct {
		i       int
		methods []string
	}
	seen := map[string][]first{}
	for j := range l.c.Endpoints {
		e := &l.c.Endpoints[j]
		ms := methodSet(e)
		reported := false
		for _, k := range routeKeys(e) {
			for _, f := range seen[k] {
				if f.i == j || reported {
					continue
				}
				common := methodsOverlap(f.methods, ms)
				if len(common) == 0 {
					continue
				}
				o := &l.c.Endpoints[f.i]
				l.dup[[2]int{j, f.i}] = true
				reported = true
				l.add(RuleDuplicateRoute, e,
					fmt.Sprintf("endpoint %s repeats %s %s of endpoint %q%s", quoteID(e), strings.Join(common, ","), routeText(e), o.Name, at(o.Pos)),
					"remove one of the two routes or merge them; the gateway serves only one of them (or refuses to start)")
			}
			seen[k] = append(seen[k], first{j, ms})
		}
	}
}

// logBlind reports pairs of routes with the same path, hosts and
// overlapping methods that differ only by header conditions. Access logs
// carry no request headers (beyond the host), and the matcher takes a
// header it is not given as absent, so the requests of the route that
// needs a header are counted under the other route.
func (l *linter) logBlind() {
	eps := l.c.Endpoints
	seen := map[string][]int{}
	for j := range eps {
		e := &eps[j]
		reported := false
		for _, k := range routeKeysOf(e, false) {
			for _, i := range seen[k] {
				o := &eps[i]
				if reported || i == j || headersKey(o.Headers) == headersKey(e.Headers) || !methodsMeet(methodSet(o), methodSet(e)) {
					continue
				}
				with, without := e, o
				if len(e.Headers) == 0 {
					with, without = o, e
				}
				reported = true
				l.add(RuleLogBlind, e,
					fmt.Sprintf("endpoint %s and endpoint %q%s differ only by request headers (%s), which the access log does not carry: requests to %q are counted as %q",
						quoteID(e), o.Name, at(o.Pos), headerNames(e.Headers, o.Headers), with.Name, without.Name),
					"give the routes different paths or hosts if they should be told apart in metrics, or accept the finding for them (--except GW011=ENDPOINT, or lint.exceptions in gatewatch.yaml) if one of them is rare, such as a WebSocket upgrade")
			}
			seen[k] = append(seen[k], j)
		}
	}
}

// methodsMeet reports whether two method sets (nil: any) share a method.
func methodsMeet(a, b []string) bool {
	if a == nil || b == nil {
		return true
	}
	return slices.ContainsFunc(a, func(m string) bool { return slices.Contains(b, m) })
}

// headerNames lists the names of the header conditions of a and b, once
// each, in order.
func headerNames(a, b []HeaderMatch) string {
	var names []string
	for _, h := range slices.Concat(a, b) {
		n := strings.ToLower(h.Name)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func routeText(e *Endpoint) string {
	if e.Match == MatchRegex && e.Regex != "" && len(e.Paths) == 0 {
		return "regex " + e.Regex
	}
	return e.Path
}

func at(p Position) string {
	if p.Line == 0 {
		return ""
	}
	return " (line " + p.String() + ")"
}

// paramConflicts reports KrakenD endpoints whose parameter at some segment
// is named differently from another endpoint's parameter (or wildcard,
// named "*" here) at the same place for the same method: gin's router
// panics on such a pair ("conflicts with existing wildcard") and KrakenD
// does not start.
// Duplicates (the same shape) are left to GW006.
func (l *linter) paramConflicts() {
	type owner struct {
		name string
		ep   int
	}
	seen := map[string]owner{}
	for j := range l.c.Endpoints {
		e := &l.c.Endpoints[j]
		segs := strings.Split(strings.TrimPrefix(e.Path, "/"), "/")
		if e.Match == MatchPrefix {
			// A wildcard endpoint ("/x/*", loaded as "/x/") is gin's
			// catch-all "*" after its prefix; it conflicts with a
			// parameter at that place just the same.
			p := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(e.Path, "/"), "*"), "/")
			segs = append(strings.Split(p, "/"), "{*}")
			if p == "" {
				segs = []string{"{*}"}
			}
		}
		ms := methodSet(e)
		if ms == nil {
			ms = []string{"ANY"}
		}
		reported := false
		for _, m := range ms {
			for k, seg := range segs {
				i := strings.IndexByte(seg, '{')
				if i < 0 || reported {
					continue
				}
				name := strings.TrimSuffix(seg[i+1:], "}")
				key := m + " " + ShapeOf(strings.Join(segs[:k], "/")) + "/" + seg[:i]
				o, ok := seen[key]
				if !ok {
					seen[key] = owner{name, j}
					continue
				}
				if o.name == name || l.dup[[2]int{j, o.ep}] {
					continue
				}
				other := &l.c.Endpoints[o.ep]
				reported = true
				l.add(RuleParamConflict, e,
					fmt.Sprintf("endpoint %s names parameter {%s} where endpoint %q%s names it {%s}; KrakenD's router refuses such a pair and the gateway does not start", quoteID(e), name, other.Name, at(other.Pos), o.name),
					fmt.Sprintf("use the same parameter name {%s} in both endpoints", o.name))
			}
		}
	}
}

// shadows reports routes that can never be chosen. Envoy (and contracts of
// no gateway) choose the first route in order; Kong prefers routes with
// methods, then regex paths by priority, then the longest prefix; KrakenD
// (gin) has no shadowing beyond duplicates.
func (l *linter) shadows() {
	eps := l.c.Endpoints
	switch l.c.Gateway {
	case KrakenD:
		return
	case Kong:
		for j := range eps {
			for i := range eps {
				if i == j || l.dup[[2]int{j, i}] || l.dup[[2]int{i, j}] {
					continue
				}
				if kongShadows(&eps[i], &eps[j], i < j) {
					l.reportShadow(&eps[j], &eps[i])
					break
				}
			}
		}
	default:
		for j := range eps {
			for i := 0; i < j; i++ {
				if l.dup[[2]int{j, i}] {
					continue
				}
				if conditionsCover(&eps[i], &eps[j]) && pathCovers(&eps[i], &eps[j]) {
					l.reportShadow(&eps[j], &eps[i])
					break
				}
			}
		}
	}
}

func (l *linter) reportShadow(e, by *Endpoint) {
	l.add(RuleShadowedRoute, e,
		fmt.Sprintf("endpoint %s can never be reached: endpoint %q%s matches every request it would", quoteID(e), by.Name, at(by.Pos)),
		"move the more specific route before the general one, narrow the general route, or remove the dead one")
}

// conditionsCover reports whether every request matching b's methods,
// hosts and headers also matches a's.
func conditionsCover(a, b *Endpoint) bool {
	if a.Listener != b.Listener {
		return false
	}
	am, bm := methodSet(a), methodSet(b)
	if am != nil && (bm == nil || slices.ContainsFunc(bm, func(m string) bool { return !slices.Contains(am, m) })) {
		return false
	}
	if len(a.Hosts) > 0 {
		ah, bh := sortedLower(a.Hosts), sortedLower(b.Hosts)
		if len(bh) == 0 || slices.ContainsFunc(bh, func(h string) bool { return !slices.Contains(ah, h) }) {
			return false
		}
	}
	return len(a.Headers) == 0 || headersKey(a.Headers) == headersKey(b.Headers)
}

// pathCovers reports whether every path b matches is matched by a (Envoy
// semantics). It errs on the side of false when it cannot tell.
func pathCovers(a, b *Endpoint) bool {
	// lit is a literal every path b matches starts with; exact is true when
	// b matches only that literal path.
	var lit string
	exact := false
	switch b.Match {
	case MatchExact, "":
		i := strings.IndexByte(b.Path, '{')
		exact = i < 0
		if exact {
			lit = b.Path
		} else {
			lit = b.Path[:i]
		}
	case MatchPrefix:
		lit = b.Path
	case MatchSegmentPrefix:
		lit = b.Path
	case MatchRegex:
		lit = literalPrefix(b.Regex)
	}
	switch a.Match {
	case MatchPrefix:
		return strings.HasPrefix(lit, a.Path)
	case MatchSegmentPrefix:
		if b.Match == MatchSegmentPrefix && lit == a.Path {
			return true
		}
		return (exact && lit == a.Path) || strings.HasPrefix(lit, a.Path+"/")
	case MatchExact, "":
		if exact {
			return templateMatches(a.Path, lit)
		}
		if b.Match == MatchExact || b.Match == "" {
			return templateCovers(a.Path, b.Path)
		}
	case MatchRegex:
		if exact && a.Regex != "" {
			re, err := regexp.Compile("^(?:" + a.Regex + ")$")
			return err == nil && re.MatchString(lit)
		}
		return b.Match == MatchRegex && a.Regex == b.Regex
	}
	return false
}

func templateMatches(tmpl, path string) bool {
	segs, ok := parseTemplate(tmpl)
	if !ok || !strings.HasPrefix(path, "/") {
		return false
	}
	ps := strings.Split(path[1:], "/")
	if len(ps) != len(segs) {
		return false
	}
	for k, s := range segs {
		switch s.kind {
		case segStatic:
			if ps[k] != s.lit {
				return false
			}
		case segParam:
			if ps[k] == "" {
				return false
			}
		case segPrefixed:
			if len(ps[k]) <= len(s.lit) || !strings.HasPrefix(ps[k], s.lit) {
				return false
			}
		}
	}
	return true
}

// templateCovers reports whether template a matches every path template b
// matches.
func templateCovers(a, b string) bool {
	as, ok1 := parseTemplate(a)
	bs, ok2 := parseTemplate(b)
	if !ok1 || !ok2 || len(as) != len(bs) {
		return false
	}
	for k := range as {
		x, y := as[k], bs[k]
		switch x.kind {
		case segStatic:
			if y.kind != segStatic || y.lit != x.lit {
				return false
			}
		case segPrefixed:
			if y.kind == segParam || !strings.HasPrefix(y.lit, x.lit) || (y.kind == segStatic && len(y.lit) == len(x.lit)) {
				return false
			}
		case segParam:
			if y.kind == segStatic && y.lit == "" {
				return false
			}
		}
	}
	return true
}

// kongShadows reports whether Kong always prefers route a over route b
// for every request b matches. earlier says a is declared before b.
func kongShadows(a, b *Endpoint, earlier bool) bool {
	am, bm := methodSet(a), methodSet(b)
	// Routes are tried by category (hosts, headers, methods present or
	// not), so a can only win everywhere when both are in the same one.
	if (am == nil) != (bm == nil) || (len(a.Hosts) == 0) != (len(b.Hosts) == 0) ||
		(len(a.Headers) == 0) != (len(b.Headers) == 0) || !conditionsCover(a, b) {
		return false
	}
	ap, bp := kongPaths(a), kongPaths(b)
	for _, q := range bp {
		covered := false
		for _, p := range ap {
			switch {
			case p.kind == MatchPrefix && q.kind == MatchPrefix:
				// Equal prefixes tie; the first declared wins.
				covered = p.path == q.path && earlier
			case p.kind == MatchRegex && q.kind == MatchRegex:
				covered = p.regex == q.regex && (a.Priority > b.Priority || (a.Priority == b.Priority && earlier))
			case p.kind == MatchRegex && q.kind == MatchPrefix:
				// A regex of the form "<prefix>.*" (or one matching any
				// continuation) beats the prefix everywhere.
				covered = regexCoversPrefix(p.regex, q.path)
			}
			if covered {
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

// regexCoversPrefix reports whether a start-anchored regex matches every
// path starting with prefix: its literal prefix is a prefix of prefix and
// what follows can match anything.
func regexCoversPrefix(expr, prefix string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	re = re.Simplify()
	var b strings.Builder
	rest := literalPrefixRest(re, &b)
	if !strings.HasPrefix(prefix, b.String()) {
		return false
	}
	return rest
}

// literalPrefixRest writes the literal re starts with into b and reports
// whether what follows it matches any continuation (nothing, or ".*").
func literalPrefixRest(re *syntax.Regexp, b *strings.Builder) bool {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	k := 0
	for ; k < len(subs); k++ {
		s := subs[k]
		if s.Op == syntax.OpBeginText || s.Op == syntax.OpBeginLine || s.Op == syntax.OpEmptyMatch {
			continue
		}
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 {
			break
		}
		for _, r := range s.Rune {
			b.WriteRune(r)
		}
	}
	for ; k < len(subs); k++ {
		s := subs[k]
		anyStar := s.Op == syntax.OpStar && (s.Sub[0].Op == syntax.OpAnyChar || s.Sub[0].Op == syntax.OpAnyCharNotNL)
		if !anyStar && s.Op != syntax.OpEmptyMatch {
			return false
		}
	}
	return true
}

// WriteFindingsText writes one line per finding:
// "file:line:col: severity GW001/slug: message (hint)". A finding without
// a File takes c's Source (c may be nil).
func WriteFindingsText(w io.Writer, c *Contract, fs []Finding) error {
	for _, f := range withFile(c, fs) {
		loc := f.File
		if p := f.Pos.String(); p != "" {
			if loc != "" {
				loc += ":"
			}
			loc += p
		}
		if loc != "" {
			loc += ": "
		}
		line := fmt.Sprintf("%s%s %s/%s: %s", loc, f.Severity, f.Rule, f.Slug, f.Message)
		if f.Hint != "" {
			line += " (" + f.Hint + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return fmt.Errorf("writing findings: %w", err)
		}
	}
	return nil
}

// withFile fills in the File of findings that have none from c.
func withFile(c *Contract, fs []Finding) []Finding {
	out := make([]Finding, len(fs))
	copy(out, fs)
	for i := range out {
		if out[i].File == "" && c != nil {
			out[i].File = c.Source
		}
	}
	return out
}

// WriteFindingsJSON writes the findings as one JSON array (an empty array
// when there are none). A finding without a File takes c's Source (c may
// be nil).
func WriteFindingsJSON(w io.Writer, c *Contract, fs []Finding) error {
	fs = withFile(c, fs)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fs); err != nil {
		return fmt.Errorf("writing findings: %w", err)
	}
	return nil
}

// HasErrors reports whether any finding has severity error.
func HasErrors(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == SeverityError })
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch sv := Severity(strings.ToLower(s)); sv {
	case SeverityError, SeverityWarning, SeverityInfo:
		return sv, nil
	}
	return "", fmt.Errorf("unknown severity %q: expected error, warning or info", s)
}

// RuleCount is how many findings one rule gave, at one severity.
type RuleCount struct {
	Rule     string   `json:"rule"`
	Slug     string   `json:"slug"`
	Severity Severity `json:"severity"`
	Count    int      `json:"count"`
}

// Summarize counts the findings by rule and severity, the most frequent
// first (then by rule ID).
func Summarize(fs []Finding) []RuleCount {
	var out []RuleCount
	for _, f := range fs {
		k := slices.IndexFunc(out, func(c RuleCount) bool { return c.Rule == f.Rule && c.Severity == f.Severity })
		if k < 0 {
			out = append(out, RuleCount{Rule: f.Rule, Slug: f.Slug, Severity: f.Severity})
			k = len(out) - 1
		}
		out[k].Count++
	}
	slices.SortFunc(out, func(a, b RuleCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Severity, b.Severity))
	})
	return out
}

// WriteSummaryText writes the total by severity and one line per rule:
//
//	276 findings: 2 errors, 140 warnings, 134 info
//	  132  warning  GW004 public-without-auth
func WriteSummaryText(w io.Writer, fs []Finding) error {
	n := map[Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	plural := func(k int, word string) string {
		if k == 1 {
			return fmt.Sprintf("%d %s", k, word)
		}
		return fmt.Sprintf("%d %ss", k, word)
	}
	b := fmt.Appendf(nil, "%s", plural(len(fs), "finding"))
	if len(fs) > 0 {
		b = fmt.Appendf(b, ": %s, %s, %d info", plural(n[SeverityError], "error"), plural(n[SeverityWarning], "warning"), n[SeverityInfo])
	}
	b = append(b, '\n')
	for _, c := range Summarize(fs) {
		b = fmt.Appendf(b, "  %5d  %-7s  %s %s\n", c.Count, c.Severity, c.Rule, c.Slug)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	return nil
}
