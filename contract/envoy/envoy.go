// Package envoy reads an Envoy static bootstrap configuration (envoy.yaml,
// v3 and the v2 forms still common in real files, YAML or JSON) into a
// gateway-neutral contract.Contract.
//
// Every endpoint is one route of an inline route_config of an HTTP
// connection manager, in Envoy's own order (the first matching route of a
// virtual host wins). Backends come from the clusters section; timeouts,
// retries, authentication and local rate limits from the route and the HTTP
// filter chain. See docs/contract-envoy.md for the full mapping.
package envoy

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
)

// DefaultRouteTimeout is Envoy's route timeout when a route sets none.
const DefaultRouteTimeout = 15 * time.Second

// ErrNotEnvoy is wrapped by the error Load returns for a file that is not
// an Envoy bootstrap configuration at all.
var ErrNotEnvoy = errors.New("not an Envoy bootstrap configuration")

// hcmNames are the filter names of the HTTP connection manager, v3 and v2.
var hcmNames = map[string]bool{
	"envoy.filters.network.http_connection_manager": true,
	"envoy.http_connection_manager":                 true,
}

// Detect reports whether data looks like an Envoy bootstrap configuration:
// a YAML or JSON mapping with static_resources or dynamic_resources.
func Detect(data []byte) bool {
	d := &doc{}
	root, err := d.parse(data)
	if err != nil || root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	for _, k := range []string{"static_resources", "dynamic_resources"} {
		if n := resolve(get(root, k)); n != nil && n.Kind == yaml.MappingNode {
			return true
		}
	}
	return false
}

// Load reads the Envoy bootstrap configuration data, read from path, into a
// contract. Every error is a *contract.Error naming path, the line and
// column, the element and what was expected.
func Load(path string, data []byte) (*contract.Contract, error) {
	l := &loader{doc: doc{file: path}, clusters: map[string]*cluster{}, used: map[string]bool{}}
	root, err := l.parse(data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &contract.Error{File: path, Err: fmt.Errorf("%w: the file is empty", ErrNotEnvoy)}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &contract.Error{File: path, Pos: pos(root),
			Err: fmt.Errorf("%w: the top level is %s, expected a mapping with static_resources", ErrNotEnvoy, describe(root))}
	}
	sr, dr := get(root, "static_resources"), get(root, "dynamic_resources")
	if sr == nil && dr == nil {
		return nil, &contract.Error{File: path, Pos: pos(root),
			Err: fmt.Errorf("%w: no static_resources; %s", ErrNotEnvoy, looksLike(root))}
	}
	if sr, err = l.mapping(sr, "static_resources"); err != nil {
		return nil, err
	}
	if dr, err = l.mapping(dr, "dynamic_resources"); err != nil {
		return nil, err
	}
	c := &contract.Contract{
		Gateway:  contract.Envoy,
		Name:     configName(root, path),
		Source:   path,
		Hash:     contract.HashSource(data),
		Defaults: contract.Defaults{Timeout: DefaultRouteTimeout},
	}
	if dr != nil {
		if n := get(dr, "cds_config"); !isNull(n) {
			l.cds = true
		}
		if n := get(dr, "lds_config"); !isNull(n) {
			l.note(n, "dynamic_resources.lds_config", "listeners come from LDS at run time; only the static listeners of this file give endpoints")
		}
	}
	l.readClusters(sr)
	l.readListeners(sr)
	if err := l.err(); err != nil {
		return nil, err
	}
	c.Endpoints = l.eps
	c.Notes = l.notes
	c.Defaults.Port = l.port
	return c, nil
}

// configName is the node's service cluster or id, else the file's base
// name.
func configName(root *yaml.Node, path string) string {
	for _, k := range []string{"cluster", "id"} {
		if n := resolve(get(get(root, "node"), k)); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
			return n.Value
		}
	}
	return filepath.Base(path)
}

// looksLike guesses what a file without static_resources is.
func looksLike(root *yaml.Node) string {
	has := func(k string) bool { return get(root, k) != nil }
	switch {
	case has("apiVersion") && has("kind"):
		k := ""
		if n := resolve(get(root, "kind")); n != nil {
			k = n.Value
		}
		if k == "ConfigMap" {
			for _, dk := range keys(get(root, "data")) {
				if n := resolve(get(get(root, "data"), dk)); n != nil && strings.Contains(n.Value, "static_resources") {
					return fmt.Sprintf("it looks like a Kubernetes ConfigMap; the Envoy configuration is the text of data.%s, extract it into its own file", dk)
				}
			}
		}
		return fmt.Sprintf("it looks like a Kubernetes manifest (kind: %s)", k)
	case has("_format_version"):
		return "it looks like a Kong declarative configuration"
	case has("endpoints") && has("version"):
		return "it looks like a KrakenD configuration"
	case has("services") && resolve(get(root, "services")).Kind == yaml.MappingNode:
		return "it looks like a docker-compose file"
	case has("listeners") || has("clusters"):
		return "it has listeners or clusters at the top level; in a bootstrap file they belong under static_resources"
	case has("resources"):
		return "it looks like an xDS resource file (resources:), which a bootstrap's dynamic_resources points to, not a bootstrap itself"
	}
	ks := keys(root)
	if len(ks) > 8 {
		ks = append(ks[:8], "...")
	}
	return "its top-level keys are " + strings.Join(ks, ", ")
}

// cluster is one static cluster and its endpoints as host:port.
type cluster struct {
	node  *yaml.Node
	hosts []string
}

// loader holds the state of one Load.
type loader struct {
	doc
	clusters map[string]*cluster
	cds      bool // clusters may also come from CDS
	eps      []contract.Endpoint
	notes    []contract.Note
	used     map[string]bool // endpoint names taken
	port     int
	errs     []error
}

// maxErrors bounds how many problems one Load reports.
const maxErrors = 50

// fail records a problem; loading goes on with the next element so that
// every problem of the file is reported at once.
func (l *loader) fail(err error) {
	if len(l.errs) < maxErrors {
		l.errs = append(l.errs, err)
	}
}

// err returns the recorded problems: nil, the one *contract.Error, or all
// of them joined, one per line, in file order.
func (l *loader) err() error {
	sort.SliceStable(l.errs, func(i, j int) bool {
		var a, b *contract.Error
		if !errors.As(l.errs[i], &a) || !errors.As(l.errs[j], &b) {
			return false
		}
		return a.Pos.Line < b.Pos.Line || (a.Pos.Line == b.Pos.Line && a.Pos.Column < b.Pos.Column)
	})
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	return errors.Join(l.errs...)
}

func (l *loader) note(n *yaml.Node, path, format string, args ...any) {
	l.notes = append(l.notes, contract.Note{Pos: pos(n), Path: path, Text: fmt.Sprintf(format, args...)})
}

func (l *loader) readClusters(sr *yaml.Node) {
	cs, err := l.list(get(sr, "clusters"), "static_resources.clusters")
	if err != nil {
		l.fail(err)
	}
	for i, cn := range cs {
		if err := l.readCluster(cn, index("static_resources.clusters", i)); err != nil {
			l.fail(err)
		}
	}
}

func (l *loader) readCluster(cn *yaml.Node, p string) error {
	if _, err := l.mapping(cn, p); err != nil {
		return err
	}
	name, err := l.str(get(cn, "name"), field(p, "name"))
	if err != nil {
		return err
	}
	if name == "" {
		return l.errorf(cn, p, "expected the cluster's name")
	}
	// Known before anything else can fail, so that routes naming a
	// broken cluster report its problem, not a missing cluster.
	if prev := l.clusters[name]; prev != nil {
		return l.errorf(cn, field(p, "name"), "cluster %q is defined twice (first at %s)", name, pos(prev.node))
	}
	c := &cluster{node: cn}
	l.clusters[name] = c
	// v2: hosts: [{socket_address: ...}]
	hs, err := l.list(get(cn, "hosts"), field(p, "hosts"))
	if err != nil {
		return err
	}
	for j, hn := range hs {
		h, err := l.address(hn, index(field(p, "hosts"), j))
		if err != nil {
			return err
		}
		c.hosts = appendHost(c.hosts, h)
	}
	// v3: load_assignment.endpoints[].lb_endpoints[].endpoint.address
	la := field(p, "load_assignment")
	les, err := l.list(get(get(cn, "load_assignment"), "endpoints"), field(la, "endpoints"))
	if err != nil {
		return err
	}
	for j, le := range les {
		lp := index(field(la, "endpoints"), j)
		lbs, err := l.list(get(le, "lb_endpoints"), field(lp, "lb_endpoints"))
		if err != nil {
			return err
		}
		for k, lb := range lbs {
			bp := index(field(lp, "lb_endpoints"), k)
			an := get(get(lb, "endpoint"), "address")
			if an == nil && get(lb, "address") != nil {
				an = get(lb, "address")
				l.note(getKey(lb, "address"), field(bp, "address"), "address belongs under endpoint: (endpoint: {address: ...}); Envoy rejects this lb_endpoint")
			}
			if an == nil {
				continue
			}
			h, err := l.address(an, field(field(bp, "endpoint"), "address"))
			if err != nil {
				return err
			}
			c.hosts = appendHost(c.hosts, h)
		}
	}
	return nil
}

func appendHost(hs []string, h string) []string {
	if h == "" {
		return hs
	}
	for _, x := range hs {
		if x == h {
			return hs
		}
	}
	return append(hs, h)
}

// address reads an Address ({socket_address: {address, port_value}}, or a
// pipe) as host:port.
func (l *loader) address(n *yaml.Node, p string) (string, error) {
	if _, err := l.mapping(n, p); err != nil {
		return "", err
	}
	if sa := get(n, "socket_address"); sa != nil {
		sp := field(p, "socket_address")
		if _, err := l.mapping(sa, sp); err != nil {
			return "", err
		}
		host, err := l.str(get(sa, "address"), field(sp, "address"))
		if err != nil {
			return "", err
		}
		port, err := l.str(get(sa, "port_value"), field(sp, "port_value"))
		if err != nil {
			return "", err
		}
		if port == "" {
			if port, err = l.str(get(sa, "named_port"), field(sp, "named_port")); err != nil {
				return "", err
			}
		}
		if port == "" {
			return host, nil
		}
		return host + ":" + port, nil
	}
	if pn := get(n, "pipe"); pn != nil {
		path, err := l.str(get(pn, "path"), field(field(p, "pipe"), "path"))
		return "unix:" + path, err
	}
	return "", nil
}

// readListeners walks listeners → filter chains → HTTP connection managers.
func (l *loader) readListeners(sr *yaml.Node) {
	ls, err := l.list(get(sr, "listeners"), "static_resources.listeners")
	if err != nil {
		l.fail(err)
	}
	for i, ln := range ls {
		if err := l.readListener(ln, index("static_resources.listeners", i), i); err != nil {
			l.fail(err)
		}
	}
}

// readListener reads one listener's connection managers; a problem inside
// one of them is recorded and the next one is read.
func (l *loader) readListener(ln *yaml.Node, p string, i int) error {
	if _, err := l.mapping(ln, p); err != nil {
		return err
	}
	name, err := l.str(get(ln, "name"), field(p, "name"))
	if err != nil {
		return err
	}
	port := 0
	if sa := get(get(ln, "address"), "socket_address"); sa != nil {
		port, _, err = l.integer(get(sa, "port_value"), field(p, "address.socket_address.port_value"))
		if err != nil {
			return err
		}
	}
	if name == "" {
		if port != 0 {
			name = "listener_" + strconv.Itoa(port)
		} else {
			name = "listener_" + strconv.Itoa(i)
		}
	}
	chains, err := l.list(get(ln, "filter_chains"), field(p, "filter_chains"))
	if err != nil {
		return err
	}
	type chain struct {
		n *yaml.Node
		p string
	}
	var all []chain
	for j, cn := range chains {
		all = append(all, chain{cn, index(field(p, "filter_chains"), j)})
	}
	if dc := get(ln, "default_filter_chain"); !isNull(dc) {
		all = append(all, chain{resolve(dc), field(p, "default_filter_chain")})
	}
	hcms := 0
	for _, ch := range all {
		if _, err := l.mapping(ch.n, ch.p); err != nil {
			l.fail(err)
			continue
		}
		fs, err := l.list(get(ch.n, "filters"), field(ch.p, "filters"))
		if err != nil {
			l.fail(err)
			continue
		}
		for k, fn := range fs {
			fp := index(field(ch.p, "filters"), k)
			cfg, cp, ok, err := l.hcm(fn, fp)
			if err != nil {
				l.fail(err)
				continue
			}
			if !ok {
				continue // a TCP proxy or other network filter: no routes
			}
			// Each connection manager has its own route table; the
			// second and later ones of a listener are told apart.
			hcms++
			table := name
			if hcms > 1 {
				table = name + "#" + strconv.Itoa(hcms)
			}
			before := len(l.eps)
			if err := l.readHCM(table, cfg, cp); err != nil {
				l.fail(err)
				continue
			}
			if l.port == 0 && len(l.eps) > before {
				l.port = port
			}
		}
	}
	return nil
}

// hcm returns the configuration of a network filter when it is an HTTP
// connection manager: v3 typed_config (also wrapped in a TypedStruct) or v2
// config.
func (l *loader) hcm(fn *yaml.Node, p string) (*yaml.Node, string, bool, error) {
	if _, err := l.mapping(fn, p); err != nil {
		return nil, "", false, err
	}
	name, err := l.str(get(fn, "name"), field(p, "name"))
	if err != nil {
		return nil, "", false, err
	}
	cfg, cp, err := l.filterConfig(fn, p)
	if err != nil {
		return nil, "", false, err
	}
	if !hcmNames[name] && !strings.HasSuffix(typeURL(cfg), ".HttpConnectionManager") {
		return nil, "", false, nil
	}
	if cfg == nil {
		return nil, "", false, l.errorf(fn, p, "expected typed_config (or v2 config) for the HTTP connection manager")
	}
	return cfg, cp, true, nil
}

// filterConfig returns a filter's configuration: typed_config, the value of
// a TypedStruct typed_config, or v2 config.
func (l *loader) filterConfig(fn *yaml.Node, p string) (*yaml.Node, string, error) {
	for _, k := range []string{"typed_config", "config"} {
		n := get(fn, k)
		if isNull(n) {
			continue
		}
		cp := field(p, k)
		m, err := l.mapping(n, cp)
		if err != nil {
			return nil, "", err
		}
		if strings.HasSuffix(typeURL(m), ".TypedStruct") {
			v, err := l.mapping(get(m, "value"), field(cp, "value"))
			return v, field(cp, "value"), err
		}
		return m, cp, nil
	}
	return nil, "", nil
}

// typeURL is the "@type" of a typed config, "" when it has none.
func typeURL(n *yaml.Node) string {
	t := resolve(get(n, "@type"))
	if t == nil || t.Kind != yaml.ScalarNode {
		return ""
	}
	return t.Value
}

// httpFilter is one HTTP filter of a connection manager that matters to
// the contract.
type httpFilter struct {
	name string // as configured: the key of typed_per_filter_config
	kind string // jwt, ext_authz, oauth2, basic-auth, local_ratelimit
	cfg  *yaml.Node
	path string
	// disabled filters run only on routes that enable them.
	disabled bool
}

// filterKinds maps HTTP filter names, v3 and v2, to a kind.
var filterKinds = map[string]string{
	"envoy.filters.http.jwt_authn":       "jwt",
	"envoy.filters.http.ext_authz":       "ext_authz",
	"envoy.ext_authz":                    "ext_authz",
	"envoy.filters.http.oauth2":          "oauth2",
	"envoy.filters.http.basic_auth":      "basic-auth",
	"envoy.filters.http.local_ratelimit": "local_ratelimit",
	"envoy.filters.http.ratelimit":       "ratelimit",
	"envoy.rate_limit":                   "ratelimit",
}

// typeKinds maps the message name of a filter's @type to a kind.
var typeKinds = map[string]string{
	".JwtAuthentication": "jwt",
	".ExtAuthz":          "ext_authz",
	".OAuth2":            "oauth2",
	".BasicAuth":         "basic-auth",
	".LocalRateLimit":    "local_ratelimit",
	".RateLimit":         "ratelimit",
}

func (l *loader) readHTTPFilters(cfg *yaml.Node, cp string) ([]httpFilter, error) {
	hp := field(cp, "http_filters")
	fs, err := l.list(get(cfg, "http_filters"), hp)
	if err != nil {
		return nil, err
	}
	var out []httpFilter
	for i, fn := range fs {
		p := index(hp, i)
		if _, err := l.mapping(fn, p); err != nil {
			return nil, err
		}
		name, err := l.str(get(fn, "name"), field(p, "name"))
		if err != nil {
			return nil, err
		}
		fc, fcp, err := l.filterConfig(fn, p)
		if err != nil {
			return nil, err
		}
		kind := filterKinds[name]
		if t := typeURL(fc); t != "" {
			if i := strings.LastIndexByte(t, '.'); i >= 0 {
				if k, ok := typeKinds[t[i:]]; ok {
					kind = k
				}
			}
		}
		if kind == "" {
			continue
		}
		dis, _, err := l.boolean(get(fn, "disabled"), field(p, "disabled"))
		if err != nil {
			return nil, err
		}
		out = append(out, httpFilter{name: name, kind: kind, cfg: fc, path: fcp, disabled: dis})
	}
	return out, nil
}

// readHCM reads one HTTP connection manager's routes.
func (l *loader) readHCM(listener string, cfg *yaml.Node, cp string) error {
	filters, err := l.readHTTPFilters(cfg, cp)
	if err != nil {
		return err
	}
	for _, f := range filters {
		if f.kind == "ratelimit" && !f.disabled {
			domain, _ := l.str(get(f.cfg, "domain"), "")
			l.note(f.cfg, f.path, "requests are rate limited by an external rate limit service (domain %q); its limits are not in this file, so endpoints have no rate_limit", domain)
		}
	}
	if rds := get(cfg, "rds"); !isNull(rds) {
		rn, _ := l.str(get(rds, "route_config_name"), "")
		l.note(rds, field(cp, "rds"), "routes of route configuration %q come from RDS at run time; this file gives no endpoints for listener %q", rn, listener)
		return nil
	}
	if sr := get(cfg, "scoped_routes"); !isNull(sr) {
		l.note(sr, field(cp, "scoped_routes"), "scoped routes (SRDS) come from the control plane at run time; this file gives no endpoints for listener %q", listener)
		return nil
	}
	rp := field(cp, "route_config")
	rc, err := l.mapping(get(cfg, "route_config"), rp)
	if err != nil {
		return err
	}
	if rc == nil {
		return l.errorf(cfg, cp, "expected route_config (inline routes) or rds in the HTTP connection manager")
	}
	vhp := field(rp, "virtual_hosts")
	vhs, err := l.list(get(rc, "virtual_hosts"), vhp)
	if err != nil {
		return err
	}
	for i, vh := range vhs {
		if err := l.readVirtualHost(listener, filters, vh, index(vhp, i), i); err != nil {
			l.fail(err)
		}
	}
	return nil
}

// vhost is what routes inherit from their virtual host.
type vhost struct {
	name      string
	domains   []string
	retries   int
	hasRetry  bool
	perFilter *yaml.Node
}

func (l *loader) readVirtualHost(listener string, filters []httpFilter, vn *yaml.Node, p string, i int) error {
	if _, err := l.mapping(vn, p); err != nil {
		return err
	}
	if isNull(vn) {
		return l.errorf(vn, p, "expected a virtual host mapping, got null")
	}
	vh := &vhost{}
	var err error
	if vh.name, err = l.str(get(vn, "name"), field(p, "name")); err != nil {
		return err
	}
	if vh.name == "" {
		vh.name = "vhost_" + strconv.Itoa(i)
	}
	ds, err := l.strs(get(vn, "domains"), field(p, "domains"))
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d != "*" {
			vh.domains = append(vh.domains, d)
		}
	}
	if vh.retries, vh.hasRetry, err = l.retryPolicy(get(vn, "retry_policy"), field(p, "retry_policy")); err != nil {
		return err
	}
	if vh.perFilter, err = l.perFilter(vn, p); err != nil {
		return err
	}
	rp := field(p, "routes")
	rs, err := l.list(get(vn, "routes"), rp)
	if err != nil {
		return err
	}
	for j, rn := range rs {
		ep, err := l.route(listener, vh, filters, rn, index(rp, j), j)
		if err != nil {
			l.fail(err)
			continue
		}
		if ep != nil {
			l.eps = append(l.eps, *ep)
		}
	}
	return nil
}

// perFilter returns typed_per_filter_config (v3) or per_filter_config (v2).
func (l *loader) perFilter(n *yaml.Node, p string) (*yaml.Node, error) {
	for _, k := range []string{"typed_per_filter_config", "per_filter_config"} {
		m, err := l.mapping(get(n, k), field(p, k))
		if err != nil || m != nil {
			return m, err
		}
	}
	return nil, nil
}

// retryPolicy reads a retry policy; num_retries defaults to 1 in Envoy.
func (l *loader) retryPolicy(n *yaml.Node, p string) (int, bool, error) {
	m, err := l.mapping(n, p)
	if err != nil || m == nil {
		return 0, false, err
	}
	r, ok, err := l.integer(get(m, "num_retries"), field(p, "num_retries"))
	if err != nil {
		return 0, false, err
	}
	if !ok {
		r = 1
	}
	return r, true, nil
}

// redirectCodes are Envoy's RedirectResponseCode values.
var redirectCodes = map[string]int{
	"MOVED_PERMANENTLY": 301, "FOUND": 302, "SEE_OTHER": 303,
	"TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308,
	"0": 301, "1": 302, "2": 303, "3": 307, "4": 308,
}

// route turns one route into an endpoint; nil when it cannot be expressed
// (a note then says why).
func (l *loader) route(listener string, vh *vhost, filters []httpFilter, rn *yaml.Node, p string, j int) (*contract.Endpoint, error) {
	if _, err := l.mapping(rn, p); err != nil {
		return nil, err
	}
	if isNull(rn) {
		return nil, l.errorf(rn, p, "expected a route mapping, got null")
	}
	ep := &contract.Endpoint{Pos: pos(rn), Public: true, Hosts: append([]string(nil), vh.domains...), Listener: listener}
	var err error
	if ep.Name, err = l.str(get(rn, "name"), field(p, "name")); err != nil {
		return nil, err
	}
	mp := field(p, "match")
	mn, err := l.mapping(get(rn, "match"), mp)
	if err != nil {
		return nil, err
	}
	if mn == nil {
		return nil, l.errorf(rn, p, "expected match: a route needs a match (prefix, path, safe_regex, ...)")
	}
	ok, err := l.match(ep, mn, mp)
	if err != nil || !ok {
		return nil, err
	}

	switch {
	case !isNull(get(rn, "route")):
		if err := l.action(ep, vh, get(rn, "route"), field(p, "route")); err != nil {
			return nil, err
		}
	case !isNull(get(rn, "direct_response")):
		dp := field(p, "direct_response")
		dn, err := l.mapping(get(rn, "direct_response"), dp)
		if err != nil {
			return nil, err
		}
		st, ok, err := l.integer(get(dn, "status"), field(dp, "status"))
		if err != nil {
			return nil, err
		}
		if !ok || st < 100 || st > 599 {
			return nil, l.errorf(dn, dp, "expected status: an HTTP status code from 100 to 599")
		}
		ep.DirectResponse = st
	case !isNull(get(rn, "redirect")):
		rp := field(p, "redirect")
		rd, err := l.mapping(get(rn, "redirect"), rp)
		if err != nil {
			return nil, err
		}
		code, err := l.str(get(rd, "response_code"), field(rp, "response_code"))
		if err != nil {
			return nil, err
		}
		ep.DirectResponse = 301
		if code != "" {
			c, ok := redirectCodes[strings.ToUpper(code)]
			if !ok {
				return nil, l.errorf(get(rd, "response_code"), field(rp, "response_code"),
					"expected MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT or PERMANENT_REDIRECT, got %q", code)
			}
			ep.DirectResponse = c
		}
	case get(rn, "filter_action") != nil || get(rn, "non_forwarding_action") != nil:
		// Handled by a filter; nothing is forwarded.
	default:
		return nil, l.errorf(rn, p, "expected one of route, redirect or direct_response")
	}

	if err := l.applyFilters(ep, vh, filters, rn, p); err != nil {
		return nil, err
	}
	if ep.Name == "" {
		base := listener + "/" + vh.name + "/" + strconv.Itoa(j)
		ep.Name = base
		for k := 2; l.used[ep.Name]; k++ {
			ep.Name = base + "-" + strconv.Itoa(k)
		}
	}
	l.used[ep.Name] = true
	return ep, nil
}

// match fills the endpoint's path, method and header conditions. ok is
// false for a route that is left out (with a note).
func (l *loader) match(ep *contract.Endpoint, mn *yaml.Node, mp string) (ok bool, err error) {
	set := 0
	for _, k := range []string{"prefix", "path", "safe_regex", "regex", "path_separated_prefix", "connect_matcher", "path_match_policy"} {
		if get(mn, k) != nil {
			set++
		}
	}
	if set == 0 {
		return false, l.errorf(mn, mp, "expected one of prefix, path, safe_regex, path_separated_prefix or path_match_policy")
	}
	if set > 1 {
		return false, l.errorf(mn, mp, "expected only one of prefix, path, safe_regex, path_separated_prefix or path_match_policy")
	}
	switch {
	case get(mn, "prefix") != nil:
		ep.Match = contract.MatchPrefix
		if ep.Path, err = l.str(get(mn, "prefix"), field(mp, "prefix")); err != nil {
			return false, err
		}
		if ep.Path == "" {
			ep.Path = "/" // an empty prefix matches every path
		}
	case get(mn, "path") != nil:
		ep.Match = contract.MatchExact
		if ep.Path, err = l.str(get(mn, "path"), field(mp, "path")); err != nil {
			return false, err
		}
	case get(mn, "path_separated_prefix") != nil:
		ep.Match = contract.MatchSegmentPrefix
		if ep.Path, err = l.str(get(mn, "path_separated_prefix"), field(mp, "path_separated_prefix")); err != nil {
			return false, err
		}
	case get(mn, "safe_regex") != nil:
		rp := field(field(mp, "safe_regex"), "regex")
		if _, err := l.mapping(get(mn, "safe_regex"), field(mp, "safe_regex")); err != nil {
			return false, err
		}
		src, err := l.str(get(get(mn, "safe_regex"), "regex"), rp)
		if err != nil {
			return false, err
		}
		if err := l.setRegex(ep, src, get(get(mn, "safe_regex"), "regex"), rp); err != nil {
			return false, err
		}
	case get(mn, "regex") != nil:
		src, err := l.str(get(mn, "regex"), field(mp, "regex"))
		if err != nil {
			return false, err
		}
		if err := l.setRegex(ep, src, get(mn, "regex"), field(mp, "regex")); err != nil {
			return false, err
		}
	case get(mn, "path_match_policy") != nil:
		pp := field(mp, "path_match_policy")
		tn := get(get(get(mn, "path_match_policy"), "typed_config"), "path_template")
		tmpl, err := l.str(tn, field(pp, "typed_config.path_template"))
		if err != nil {
			return false, err
		}
		if tmpl == "" {
			return false, l.errorf(get(mn, "path_match_policy"), pp, "expected typed_config.path_template (a URI template such as /v1/users/{id})")
		}
		if err := l.uriTemplate(ep, tmpl, tn, field(pp, "typed_config.path_template")); err != nil {
			return false, err
		}
	default: // connect_matcher
		l.note(mn, mp, "CONNECT requests (connect_matcher) have no path; the route gives no endpoint")
		return false, nil
	}
	return true, l.headers(ep, mn, mp)
}

// setRegex sets a full-match regex (Envoy safe_regex and v2 regex).
func (l *loader) setRegex(ep *contract.Endpoint, src string, n *yaml.Node, p string) error {
	if _, err := regexp.Compile(src); err != nil {
		return l.errorf(n, p, "expected a regular expression Go's RE2 can run: %v", err)
	}
	re, err := regexp.Compile("^(?:" + src + ")$")
	if err != nil {
		return l.errorf(n, p, "expected a regular expression Go's RE2 can run: %v", err)
	}
	ep.Match, ep.Path, ep.Regex = contract.MatchRegex, src, re.String()
	for _, name := range re.SubexpNames() {
		if name != "" {
			ep.Params = append(ep.Params, name)
		}
	}
	return nil
}

// uriTemplate reads an Envoy URI template (path_match_policy): /a/{x}/b is
// an exact template; *, ** and {x=**} need a regex.
func (l *loader) uriTemplate(ep *contract.Endpoint, tmpl string, n *yaml.Node, p string) error {
	if !strings.HasPrefix(tmpl, "/") {
		return l.errorf(n, p, "expected a path template starting with /, got %q", tmpl)
	}
	var re strings.Builder
	re.WriteString("^")
	simple := true
	var params []string
	for _, seg := range strings.Split(tmpl[1:], "/") {
		re.WriteString("/")
		switch {
		case seg == "*":
			simple = false
			re.WriteString("[^/]+")
		case seg == "**":
			simple = false
			re.WriteString(".*")
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			name, pat, hasPat := strings.Cut(seg[1:len(seg)-1], "=")
			if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(name) {
				return l.errorf(n, p, "expected a variable name in %q", seg)
			}
			params = append(params, name)
			switch {
			case !hasPat || pat == "*":
				simple = simple && !hasPat
				re.WriteString("(?P<" + name + ">[^/]+)")
			case pat == "**":
				simple = false
				re.WriteString("(?P<" + name + ">.*)")
			default:
				return l.errorf(n, p, "unsupported variable pattern %q in the path template", seg)
			}
		case strings.ContainsAny(seg, "{}*"):
			return l.errorf(n, p, "unsupported segment %q in the path template", seg)
		default:
			re.WriteString(regexp.QuoteMeta(seg))
		}
	}
	re.WriteString("$")
	ep.Path, ep.Params = tmpl, params
	if simple {
		ep.Match = contract.MatchExact
		return nil
	}
	ep.Match, ep.Regex = contract.MatchRegex, re.String()
	if _, err := regexp.Compile(ep.Regex); err != nil {
		return l.errorf(n, p, "the path template does not translate to a regular expression: %v", err)
	}
	return nil
}

// methodAlternation matches a :method regex listing plain methods.
var methodAlternation = regexp.MustCompile(`^\^?\(?((?:[A-Z]+\|)*[A-Z]+)\)?\$?$`)

// headers reads match.headers. An exact (or plain alternation) :method
// condition becomes Methods; the others stay header conditions.
func (l *loader) headers(ep *contract.Endpoint, mn *yaml.Node, mp string) error {
	hp := field(mp, "headers")
	hs, err := l.list(get(mn, "headers"), hp)
	if err != nil {
		return err
	}
	for i, hn := range hs {
		p := index(hp, i)
		if _, err := l.mapping(hn, p); err != nil {
			return err
		}
		name, err := l.str(get(hn, "name"), field(p, "name"))
		if err != nil {
			return err
		}
		if name == "" {
			return l.errorf(hn, p, "expected the header's name")
		}
		hm := contract.HeaderMatch{Name: name}
		if hm.Invert, _, err = l.boolean(get(hn, "invert_match"), field(p, "invert_match")); err != nil {
			return err
		}
		if err := l.headerValue(&hm, hn, p); err != nil {
			return err
		}
		if strings.EqualFold(name, ":method") && !hm.Invert {
			switch {
			case hm.Value != "":
				ep.Methods = append(ep.Methods, strings.ToUpper(hm.Value))
				continue
			case hm.Regex != "":
				src := strings.TrimSuffix(strings.TrimPrefix(hm.Regex, "^(?:"), ")$")
				if m := methodAlternation.FindStringSubmatch(src); m != nil {
					ep.Methods = append(ep.Methods, strings.Split(m[1], "|")...)
					continue
				}
			}
		}
		if redactHeader(&hm) {
			l.note(hn, p, "the value of header %s is a credential and is not kept; the condition is reduced to the header being present", name)
		}
		ep.Headers = append(ep.Headers, hm)
	}
	return nil
}

// headerValue reads the value condition of one header matcher; every regex
// is anchored to the whole value.
func (l *loader) headerValue(hm *contract.HeaderMatch, hn *yaml.Node, p string) error {
	str := func(k string) (string, bool, error) {
		n := get(hn, k)
		if n == nil {
			return "", false, nil
		}
		s, err := l.str(n, field(p, k))
		return s, true, err
	}
	regex := func(src string, n *yaml.Node, rp string) error {
		re := "^(?:" + src + ")$"
		if _, err := regexp.Compile(src); err != nil {
			return l.errorf(n, rp, "expected a regular expression Go's RE2 can run: %v", err)
		}
		if _, err := regexp.Compile(re); err != nil {
			return l.errorf(n, rp, "expected a regular expression Go's RE2 can run: %v", err)
		}
		hm.Regex = re
		return nil
	}
	if v, ok, err := str("exact_match"); err != nil || ok {
		hm.Value = v
		return err
	}
	if v, ok, err := str("prefix_match"); err != nil || ok {
		hm.Prefix = v
		return err
	}
	if v, ok, err := str("suffix_match"); err != nil || ok {
		hm.Regex = "^.*" + regexp.QuoteMeta(v) + "$"
		return err
	}
	if v, ok, err := str("contains_match"); err != nil || ok {
		hm.Regex = "^.*" + regexp.QuoteMeta(v) + ".*$"
		return err
	}
	if v, ok, err := str("regex_match"); err != nil || ok {
		if err != nil {
			return err
		}
		return regex(v, get(hn, "regex_match"), field(p, "regex_match"))
	}
	if n := get(hn, "safe_regex_match"); n != nil {
		rp := field(field(p, "safe_regex_match"), "regex")
		v, err := l.str(get(n, "regex"), rp)
		if err != nil {
			return err
		}
		return regex(v, get(n, "regex"), rp)
	}
	if n := get(hn, "present_match"); n != nil {
		present, _, err := l.boolean(n, field(p, "present_match"))
		hm.Present = true
		if !present {
			hm.Invert = !hm.Invert // present_match: false asks for an absent header
		}
		return err
	}
	if n := get(hn, "range_match"); n != nil {
		hm.Regex = "^-?[0-9]+$" // a number; the range itself is not kept
		return nil
	}
	if sm := get(hn, "string_match"); sm != nil {
		sp := field(p, "string_match")
		if _, err := l.mapping(sm, sp); err != nil {
			return err
		}
		ic, _, err := l.boolean(get(sm, "ignore_case"), field(sp, "ignore_case"))
		if err != nil {
			return err
		}
		flag := ""
		if ic {
			flag = "(?i)"
		}
		for _, k := range []string{"exact", "prefix", "suffix", "contains"} {
			n := get(sm, k)
			if n == nil {
				continue
			}
			v, err := l.str(n, field(sp, k))
			if err != nil {
				return err
			}
			q := regexp.QuoteMeta(v)
			switch {
			case k == "exact" && !ic:
				hm.Value = v
			case k == "prefix" && !ic:
				hm.Prefix = v
			case k == "exact":
				hm.Regex = flag + "^" + q + "$"
			case k == "prefix":
				hm.Regex = flag + "^" + q + ".*$"
			case k == "suffix":
				hm.Regex = flag + "^.*" + q + "$"
			default:
				hm.Regex = flag + "^.*" + q + ".*$"
			}
			return nil
		}
		if n := get(sm, "safe_regex"); n != nil {
			rp := field(field(sp, "safe_regex"), "regex")
			v, err := l.str(get(n, "regex"), rp)
			if err != nil {
				return err
			}
			return regex(v, get(n, "regex"), rp)
		}
		return l.errorf(sm, sp, "expected one of exact, prefix, suffix, contains or safe_regex")
	}
	// A matcher with only a name asks for the header to be present.
	hm.Present = true
	return nil
}

// action reads a route action: its clusters, timeout and retries.
func (l *loader) action(ep *contract.Endpoint, vh *vhost, an *yaml.Node, p string) error {
	if _, err := l.mapping(an, p); err != nil {
		return err
	}
	switch {
	case get(an, "cluster") != nil:
		name, err := l.str(get(an, "cluster"), field(p, "cluster"))
		if err != nil {
			return err
		}
		b, err := l.backend(name, get(an, "cluster"), field(p, "cluster"))
		if err != nil {
			return err
		}
		ep.Backends = []contract.Backend{b}
		ep.Service = name
	case get(an, "weighted_clusters") != nil:
		wp := field(p, "weighted_clusters")
		cs, err := l.list(get(get(an, "weighted_clusters"), "clusters"), field(wp, "clusters"))
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return l.errorf(get(an, "weighted_clusters"), wp, "expected clusters: a list of {name, weight}")
		}
		for i, cn := range cs {
			cp := index(field(wp, "clusters"), i)
			name, err := l.str(get(cn, "name"), field(cp, "name"))
			if err != nil {
				return err
			}
			b, err := l.backend(name, cn, cp)
			if err != nil {
				return err
			}
			ep.Backends = append(ep.Backends, b)
		}
		ep.Service = ep.Backends[0].Name
	case get(an, "cluster_header") != nil || get(an, "cluster_specifier_plugin") != nil || get(an, "inline_cluster_specifier_plugin") != nil:
		l.note(an, p, "the cluster is chosen at run time (cluster_header or a cluster specifier plugin); the endpoint has no backends")
	default:
		return l.errorf(an, p, "expected cluster or weighted_clusters in the route action")
	}

	ep.Timeout = DefaultRouteTimeout
	if tn := get(an, "timeout"); !isNull(tn) {
		d, err := l.duration(tn, field(p, "timeout"))
		if err != nil {
			return err
		}
		ep.Timeout = d // 0s disables the timeout
	}
	r, ok, err := l.retryPolicy(get(an, "retry_policy"), field(p, "retry_policy"))
	if err != nil {
		return err
	}
	switch {
	case ok:
		ep.Retries = r
	case vh.hasRetry:
		ep.Retries = vh.retries
	}
	return nil
}

// backend is the named cluster with its hosts.
func (l *loader) backend(name string, n *yaml.Node, p string) (contract.Backend, error) {
	if name == "" {
		return contract.Backend{}, l.errorf(n, p, "expected a cluster name")
	}
	c := l.clusters[name]
	if c == nil {
		if !l.cds {
			return contract.Backend{}, l.errorf(n, p, "cluster %q is not defined in static_resources.clusters", name)
		}
		return contract.Backend{Name: name}, nil
	}
	return contract.Backend{Name: name, Hosts: append([]string(nil), c.hosts...)}, nil
}

// duration reads a protobuf Duration: "1.5s" or {seconds: 1, nanos: 5e8}.
func (l *loader) duration(n *yaml.Node, p string) (time.Duration, error) {
	r := resolve(n)
	if r != nil && r.Kind == yaml.MappingNode {
		s, _, err := l.number(get(r, "seconds"), field(p, "seconds"))
		if err != nil {
			return 0, err
		}
		ns, _, err := l.number(get(r, "nanos"), field(p, "nanos"))
		if err != nil {
			return 0, err
		}
		return time.Duration(s*float64(time.Second) + ns), nil
	}
	s, err := l.str(n, p)
	if err != nil {
		return 0, err
	}
	d, perr := time.ParseDuration(s)
	if perr != nil || d < 0 {
		return 0, l.errorf(n, p, "expected a duration such as 15s or 0.25s, got %s", describe(n))
	}
	return d, nil
}
