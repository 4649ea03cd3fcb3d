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
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/internal/yamldoc"
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
	root := yamldoc.Root(data)
	for _, k := range []string{"static_resources", "dynamic_resources"} {
		if n := yamldoc.Resolve(yamldoc.Get(root, k)); n != nil && n.Kind == yaml.MappingNode {
			return true
		}
	}
	return false
}

// Load reads the Envoy bootstrap configuration data, read from path, into a
// contract. Every error is a *contract.Error naming path, the line and
// column, the element and what was expected.
func Load(path string, data []byte) (*contract.Contract, error) {
	l := &loader{Doc: yamldoc.Doc{File: path}, clusters: map[string]*cluster{}, used: map[string]bool{}}
	root, err := l.ParseMapping(data, ErrNotEnvoy, looksLike, "static_resources", "dynamic_resources")
	if err != nil {
		return nil, err
	}
	sr, dr := yamldoc.Get(root, "static_resources"), yamldoc.Get(root, "dynamic_resources")
	if sr, err = l.Mapping(sr, "static_resources"); err != nil {
		return nil, err
	}
	if dr, err = l.Mapping(dr, "dynamic_resources"); err != nil {
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
		if n := yamldoc.Get(dr, "cds_config"); !yamldoc.IsNull(n) {
			l.cds = true
		}
		if n := yamldoc.Get(dr, "lds_config"); !yamldoc.IsNull(n) {
			l.Note(n, "dynamic_resources.lds_config", "listeners come from LDS at run time; only the static listeners of this file give endpoints")
		}
	}
	l.readClusters(sr)
	l.readListeners(sr)
	if err := l.Err(); err != nil {
		return nil, err
	}
	c.Endpoints = l.eps
	c.Notes = l.Notes
	c.Defaults.Port = l.port
	return c, nil
}

// configName is the node's service cluster or id, else the file's name
// without its extension.
func configName(root *yaml.Node, path string) string {
	for _, k := range []string{"cluster", "id"} {
		if n := yamldoc.Resolve(yamldoc.Get(yamldoc.Get(root, "node"), k)); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" {
			return n.Value
		}
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// looksLike guesses what a file without static_resources is.
func looksLike(root *yaml.Node) string {
	if guess, ok := yamldoc.GuessManifest(root, "static_resources", "Envoy"); ok {
		return guess
	}
	has := func(k string) bool { return yamldoc.Get(root, k) != nil }
	switch {
	case has("_format_version"):
		return "it looks like a Kong declarative configuration"
	case has("endpoints") && has("version"):
		return "it looks like a KrakenD configuration"
	case has("services") && yamldoc.Resolve(yamldoc.Get(root, "services")).Kind == yaml.MappingNode:
		return "it looks like a docker-compose file"
	case has("listeners") || has("clusters"):
		return "it has listeners or clusters at the top level; in a bootstrap file they belong under static_resources"
	case has("resources"):
		return "it looks like an xDS resource file (resources:), which a bootstrap's dynamic_resources points to, not a bootstrap itself"
	}
	return yamldoc.GuessKeys(root)
}

// cluster is one static cluster and its endpoints as host:port.
type cluster struct {
	node  *yaml.Node
	hosts []string
}

// loader holds the state of one Load.
type loader struct {
	yamldoc.Doc
	clusters map[string]*cluster
	cds      bool // clusters may also come from CDS
	eps      []contract.Endpoint
	used     map[string]bool // endpoint names taken
	port     int
}

func (l *loader) readClusters(sr *yaml.Node) {
	l.Each(yamldoc.Get(sr, "clusters"), "static_resources.clusters", l.readCluster)
}

func (l *loader) readCluster(cn *yaml.Node, p string) error {
	name, err := l.Name(cn, p, "expected the cluster's name")
	if err != nil {
		return err
	}
	// Known before anything else can fail, so that routes naming a
	// broken cluster report its problem, not a missing cluster.
	if prev := l.clusters[name]; prev != nil {
		return l.Errorf(cn, yamldoc.Field(p, "name"), "cluster %q is defined twice (first at %s)", name, yamldoc.Pos(prev.node))
	}
	c := &cluster{node: cn}
	l.clusters[name] = c
	// v2: hosts: [{socket_address: ...}]
	hs, err := l.List(yamldoc.Get(cn, "hosts"), yamldoc.Field(p, "hosts"))
	if err != nil {
		return err
	}
	for j, hn := range hs {
		h, err := l.address(hn, yamldoc.Index(yamldoc.Field(p, "hosts"), j))
		if err != nil {
			return err
		}
		c.hosts = appendHost(c.hosts, h)
	}
	// v3: load_assignment.endpoints[].lb_endpoints[].endpoint.address
	la := yamldoc.Field(p, "load_assignment")
	les, err := l.List(yamldoc.Get(yamldoc.Get(cn, "load_assignment"), "endpoints"), yamldoc.Field(la, "endpoints"))
	if err != nil {
		return err
	}
	for j, le := range les {
		lp := yamldoc.Index(yamldoc.Field(la, "endpoints"), j)
		lbs, err := l.List(yamldoc.Get(le, "lb_endpoints"), yamldoc.Field(lp, "lb_endpoints"))
		if err != nil {
			return err
		}
		for k, lb := range lbs {
			bp := yamldoc.Index(yamldoc.Field(lp, "lb_endpoints"), k)
			an := yamldoc.Get(yamldoc.Get(lb, "endpoint"), "address")
			if an == nil && yamldoc.Get(lb, "address") != nil {
				an = yamldoc.Get(lb, "address")
				l.Note(yamldoc.GetKey(lb, "address"), yamldoc.Field(bp, "address"), "address belongs under endpoint: (endpoint: {address: ...}); Envoy rejects this lb_endpoint")
			}
			if an == nil {
				continue
			}
			h, err := l.address(an, yamldoc.Field(yamldoc.Field(bp, "endpoint"), "address"))
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
	if _, err := l.Mapping(n, p); err != nil {
		return "", err
	}
	if sa := yamldoc.Get(n, "socket_address"); sa != nil {
		sp := yamldoc.Field(p, "socket_address")
		if _, err := l.Mapping(sa, sp); err != nil {
			return "", err
		}
		host, err := l.Str(yamldoc.Get(sa, "address"), yamldoc.Field(sp, "address"))
		if err != nil {
			return "", err
		}
		port, err := l.Str(yamldoc.Get(sa, "port_value"), yamldoc.Field(sp, "port_value"))
		if err != nil {
			return "", err
		}
		if port == "" {
			if port, err = l.Str(yamldoc.Get(sa, "named_port"), yamldoc.Field(sp, "named_port")); err != nil {
				return "", err
			}
		}
		if port == "" {
			return host, nil
		}
		return host + ":" + port, nil
	}
	if pn := yamldoc.Get(n, "pipe"); pn != nil {
		path, err := l.Str(yamldoc.Get(pn, "path"), yamldoc.Field(yamldoc.Field(p, "pipe"), "path"))
		return "unix:" + path, err
	}
	return "", nil
}

// readListeners walks listeners → filter chains → HTTP connection managers.
func (l *loader) readListeners(sr *yaml.Node) {
	ls, err := l.List(yamldoc.Get(sr, "listeners"), "static_resources.listeners")
	if err != nil {
		l.Fail(err)
	}
	for i, ln := range ls {
		if err := l.readListener(ln, yamldoc.Index("static_resources.listeners", i), i); err != nil {
			l.Fail(err)
		}
	}
}

// readListener reads one listener's connection managers; a problem inside
// one of them is recorded and the next one is read.
func (l *loader) readListener(ln *yaml.Node, p string, i int) error {
	if _, err := l.Mapping(ln, p); err != nil {
		return err
	}
	name, err := l.Str(yamldoc.Get(ln, "name"), yamldoc.Field(p, "name"))
	if err != nil {
		return err
	}
	port := 0
	if sa := yamldoc.Get(yamldoc.Get(ln, "address"), "socket_address"); sa != nil {
		port, _, err = l.Integer(yamldoc.Get(sa, "port_value"), yamldoc.Field(p, "address.socket_address.port_value"))
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
	chains, err := l.List(yamldoc.Get(ln, "filter_chains"), yamldoc.Field(p, "filter_chains"))
	if err != nil {
		return err
	}
	type chain struct {
		n *yaml.Node
		p string
	}
	var all []chain
	for j, cn := range chains {
		all = append(all, chain{cn, yamldoc.Index(yamldoc.Field(p, "filter_chains"), j)})
	}
	if dc := yamldoc.Get(ln, "default_filter_chain"); !yamldoc.IsNull(dc) {
		all = append(all, chain{yamldoc.Resolve(dc), yamldoc.Field(p, "default_filter_chain")})
	}
	hcms := 0
	for _, ch := range all {
		if _, err := l.Mapping(ch.n, ch.p); err != nil {
			l.Fail(err)
			continue
		}
		fs, err := l.List(yamldoc.Get(ch.n, "filters"), yamldoc.Field(ch.p, "filters"))
		if err != nil {
			l.Fail(err)
			continue
		}
		for k, fn := range fs {
			fp := yamldoc.Index(yamldoc.Field(ch.p, "filters"), k)
			cfg, cp, ok, err := l.hcm(fn, fp)
			if err != nil {
				l.Fail(err)
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
				l.Fail(err)
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
	if _, err := l.Mapping(fn, p); err != nil {
		return nil, "", false, err
	}
	name, err := l.Str(yamldoc.Get(fn, "name"), yamldoc.Field(p, "name"))
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
		return nil, "", false, l.Errorf(fn, p, "expected typed_config (or v2 config) for the HTTP connection manager")
	}
	return cfg, cp, true, nil
}

// filterConfig returns a filter's configuration: typed_config, the value of
// a TypedStruct typed_config, or v2 config.
func (l *loader) filterConfig(fn *yaml.Node, p string) (*yaml.Node, string, error) {
	for _, k := range []string{"typed_config", "config"} {
		n := yamldoc.Get(fn, k)
		if yamldoc.IsNull(n) {
			continue
		}
		cp := yamldoc.Field(p, k)
		m, err := l.Mapping(n, cp)
		if err != nil {
			return nil, "", err
		}
		if strings.HasSuffix(typeURL(m), ".TypedStruct") {
			v, err := l.Mapping(yamldoc.Get(m, "value"), yamldoc.Field(cp, "value"))
			return v, yamldoc.Field(cp, "value"), err
		}
		return m, cp, nil
	}
	return nil, "", nil
}

// typeURL is the "@type" of a typed config, "" when it has none.
func typeURL(n *yaml.Node) string {
	t := yamldoc.Resolve(yamldoc.Get(n, "@type"))
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
	hp := yamldoc.Field(cp, "http_filters")
	fs, err := l.List(yamldoc.Get(cfg, "http_filters"), hp)
	if err != nil {
		return nil, err
	}
	var out []httpFilter
	for i, fn := range fs {
		p := yamldoc.Index(hp, i)
		if _, err := l.Mapping(fn, p); err != nil {
			return nil, err
		}
		name, err := l.Str(yamldoc.Get(fn, "name"), yamldoc.Field(p, "name"))
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
		dis, _, err := l.Boolean(yamldoc.Get(fn, "disabled"), yamldoc.Field(p, "disabled"))
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
			domain, _ := l.Str(yamldoc.Get(f.cfg, "domain"), "")
			l.Note(f.cfg, f.path, "requests are rate limited by an external rate limit service (domain %q); its limits are not in this file, so endpoints have no rate_limit", domain)
		}
	}
	if rds := yamldoc.Get(cfg, "rds"); !yamldoc.IsNull(rds) {
		rn, _ := l.Str(yamldoc.Get(rds, "route_config_name"), "")
		l.Note(rds, yamldoc.Field(cp, "rds"), "routes of route configuration %q come from RDS at run time; this file gives no endpoints for listener %q", rn, listener)
		return nil
	}
	if sr := yamldoc.Get(cfg, "scoped_routes"); !yamldoc.IsNull(sr) {
		l.Note(sr, yamldoc.Field(cp, "scoped_routes"), "scoped routes (SRDS) come from the control plane at run time; this file gives no endpoints for listener %q", listener)
		return nil
	}
	rp := yamldoc.Field(cp, "route_config")
	rc, err := l.Mapping(yamldoc.Get(cfg, "route_config"), rp)
	if err != nil {
		return err
	}
	if rc == nil {
		return l.Errorf(cfg, cp, "expected route_config (inline routes) or rds in the HTTP connection manager")
	}
	vhp := yamldoc.Field(rp, "virtual_hosts")
	vhs, err := l.List(yamldoc.Get(rc, "virtual_hosts"), vhp)
	if err != nil {
		return err
	}
	for i, vh := range vhs {
		if err := l.readVirtualHost(listener, filters, vh, yamldoc.Index(vhp, i), i); err != nil {
			l.Fail(err)
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
	if _, err := l.Mapping(vn, p); err != nil {
		return err
	}
	if yamldoc.IsNull(vn) {
		return l.Errorf(vn, p, "expected a virtual host mapping, got null")
	}
	vh := &vhost{}
	var err error
	if vh.name, err = l.Str(yamldoc.Get(vn, "name"), yamldoc.Field(p, "name")); err != nil {
		return err
	}
	if vh.name == "" {
		vh.name = "vhost_" + strconv.Itoa(i)
	}
	ds, err := l.Strs(yamldoc.Get(vn, "domains"), yamldoc.Field(p, "domains"))
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d != "*" {
			vh.domains = append(vh.domains, d)
		}
	}
	if vh.retries, vh.hasRetry, err = l.retryPolicy(yamldoc.Get(vn, "retry_policy"), yamldoc.Field(p, "retry_policy")); err != nil {
		return err
	}
	if vh.perFilter, err = l.perFilter(vn, p); err != nil {
		return err
	}
	rp := yamldoc.Field(p, "routes")
	rs, err := l.List(yamldoc.Get(vn, "routes"), rp)
	if err != nil {
		return err
	}
	for j, rn := range rs {
		ep, err := l.route(listener, vh, filters, rn, yamldoc.Index(rp, j), j)
		if err != nil {
			l.Fail(err)
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
		m, err := l.Mapping(yamldoc.Get(n, k), yamldoc.Field(p, k))
		if err != nil || m != nil {
			return m, err
		}
	}
	return nil, nil
}

// retryPolicy reads a retry policy; num_retries defaults to 1 in Envoy.
func (l *loader) retryPolicy(n *yaml.Node, p string) (int, bool, error) {
	m, err := l.Mapping(n, p)
	if err != nil || m == nil {
		return 0, false, err
	}
	r, ok, err := l.Integer(yamldoc.Get(m, "num_retries"), yamldoc.Field(p, "num_retries"))
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
	if _, err := l.Mapping(rn, p); err != nil {
		return nil, err
	}
	if yamldoc.IsNull(rn) {
		return nil, l.Errorf(rn, p, "expected a route mapping, got null")
	}
	ep := &contract.Endpoint{Pos: yamldoc.Pos(rn), Public: true, Hosts: append([]string(nil), vh.domains...), Listener: listener}
	var err error
	if ep.Name, err = l.Str(yamldoc.Get(rn, "name"), yamldoc.Field(p, "name")); err != nil {
		return nil, err
	}
	mp := yamldoc.Field(p, "match")
	mn, err := l.Mapping(yamldoc.Get(rn, "match"), mp)
	if err != nil {
		return nil, err
	}
	if mn == nil {
		return nil, l.Errorf(rn, p, "expected match: a route needs a match (prefix, path, safe_regex, ...)")
	}
	ok, err := l.match(ep, mn, mp)
	if err != nil || !ok {
		return nil, err
	}

	switch {
	case !yamldoc.IsNull(yamldoc.Get(rn, "route")):
		if err := l.action(ep, vh, yamldoc.Get(rn, "route"), yamldoc.Field(p, "route")); err != nil {
			return nil, err
		}
	case !yamldoc.IsNull(yamldoc.Get(rn, "direct_response")):
		dp := yamldoc.Field(p, "direct_response")
		dn, err := l.Mapping(yamldoc.Get(rn, "direct_response"), dp)
		if err != nil {
			return nil, err
		}
		st, ok, err := l.Integer(yamldoc.Get(dn, "status"), yamldoc.Field(dp, "status"))
		if err != nil {
			return nil, err
		}
		if !ok || st < 100 || st > 599 {
			return nil, l.Errorf(dn, dp, "expected status: an HTTP status code from 100 to 599")
		}
		ep.DirectResponse = st
	case !yamldoc.IsNull(yamldoc.Get(rn, "redirect")):
		rp := yamldoc.Field(p, "redirect")
		rd, err := l.Mapping(yamldoc.Get(rn, "redirect"), rp)
		if err != nil {
			return nil, err
		}
		code, err := l.Str(yamldoc.Get(rd, "response_code"), yamldoc.Field(rp, "response_code"))
		if err != nil {
			return nil, err
		}
		ep.DirectResponse = 301
		if code != "" {
			c, ok := redirectCodes[strings.ToUpper(code)]
			if !ok {
				return nil, l.Errorf(yamldoc.Get(rd, "response_code"), yamldoc.Field(rp, "response_code"),
					"expected MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT or PERMANENT_REDIRECT, got %q", code)
			}
			ep.DirectResponse = c
		}
	case yamldoc.Get(rn, "filter_action") != nil || yamldoc.Get(rn, "non_forwarding_action") != nil:
		// Handled by a filter; nothing is forwarded.
	default:
		return nil, l.Errorf(rn, p, "expected one of route, redirect or direct_response")
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
		if yamldoc.Get(mn, k) != nil {
			set++
		}
	}
	if set == 0 {
		return false, l.Errorf(mn, mp, "expected one of prefix, path, safe_regex, path_separated_prefix or path_match_policy")
	}
	if set > 1 {
		return false, l.Errorf(mn, mp, "expected only one of prefix, path, safe_regex, path_separated_prefix or path_match_policy")
	}
	switch {
	case yamldoc.Get(mn, "prefix") != nil:
		ep.Match = contract.MatchPrefix
		if ep.Path, err = l.Str(yamldoc.Get(mn, "prefix"), yamldoc.Field(mp, "prefix")); err != nil {
			return false, err
		}
		if ep.Path == "" {
			ep.Path = "/" // an empty prefix matches every path
		}
	case yamldoc.Get(mn, "path") != nil:
		ep.Match = contract.MatchExact
		if ep.Path, err = l.Str(yamldoc.Get(mn, "path"), yamldoc.Field(mp, "path")); err != nil {
			return false, err
		}
	case yamldoc.Get(mn, "path_separated_prefix") != nil:
		ep.Match = contract.MatchSegmentPrefix
		if ep.Path, err = l.Str(yamldoc.Get(mn, "path_separated_prefix"), yamldoc.Field(mp, "path_separated_prefix")); err != nil {
			return false, err
		}
	case yamldoc.Get(mn, "safe_regex") != nil:
		rp := yamldoc.Field(yamldoc.Field(mp, "safe_regex"), "regex")
		if _, err := l.Mapping(yamldoc.Get(mn, "safe_regex"), yamldoc.Field(mp, "safe_regex")); err != nil {
			return false, err
		}
		src, err := l.Str(yamldoc.Get(yamldoc.Get(mn, "safe_regex"), "regex"), rp)
		if err != nil {
			return false, err
		}
		if err := l.setRegex(ep, src, yamldoc.Get(yamldoc.Get(mn, "safe_regex"), "regex"), rp); err != nil {
			return false, err
		}
	case yamldoc.Get(mn, "regex") != nil:
		src, err := l.Str(yamldoc.Get(mn, "regex"), yamldoc.Field(mp, "regex"))
		if err != nil {
			return false, err
		}
		if err := l.setRegex(ep, src, yamldoc.Get(mn, "regex"), yamldoc.Field(mp, "regex")); err != nil {
			return false, err
		}
	case yamldoc.Get(mn, "path_match_policy") != nil:
		pp := yamldoc.Field(mp, "path_match_policy")
		tn := yamldoc.Get(yamldoc.Get(yamldoc.Get(mn, "path_match_policy"), "typed_config"), "path_template")
		tmpl, err := l.Str(tn, yamldoc.Field(pp, "typed_config.path_template"))
		if err != nil {
			return false, err
		}
		if tmpl == "" {
			return false, l.Errorf(yamldoc.Get(mn, "path_match_policy"), pp, "expected typed_config.path_template (a URI template such as /v1/users/{id})")
		}
		if err := l.uriTemplate(ep, tmpl, tn, yamldoc.Field(pp, "typed_config.path_template")); err != nil {
			return false, err
		}
	default: // connect_matcher
		l.Note(mn, mp, "CONNECT requests (connect_matcher) have no path; the route gives no endpoint")
		return false, nil
	}
	return true, l.headers(ep, mn, mp)
}

// setRegex sets a full-match regex (Envoy safe_regex and v2 regex).
func (l *loader) setRegex(ep *contract.Endpoint, src string, n *yaml.Node, p string) error {
	if _, err := regexp.Compile(src); err != nil {
		return l.Errorf(n, p, "expected a regular expression Go's RE2 can run: %v", err)
	}
	re, err := regexp.Compile("^(?:" + src + ")$")
	if err != nil {
		return l.Errorf(n, p, "expected a regular expression Go's RE2 can run: %v", err)
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
		return l.Errorf(n, p, "expected a path template starting with /, got %q", tmpl)
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
				return l.Errorf(n, p, "expected a variable name in %q", seg)
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
				return l.Errorf(n, p, "unsupported variable pattern %q in the path template", seg)
			}
		case strings.ContainsAny(seg, "{}*"):
			return l.Errorf(n, p, "unsupported segment %q in the path template", seg)
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
		return l.Errorf(n, p, "the path template does not translate to a regular expression: %v", err)
	}
	return nil
}

// methodAlternation matches a :method regex listing plain methods.
var methodAlternation = regexp.MustCompile(`^\^?\(?((?:[A-Z]+\|)*[A-Z]+)\)?\$?$`)

// headers reads match.headers. An exact (or plain alternation) :method
// condition becomes Methods; the others stay header conditions.
func (l *loader) headers(ep *contract.Endpoint, mn *yaml.Node, mp string) error {
	hp := yamldoc.Field(mp, "headers")
	hs, err := l.List(yamldoc.Get(mn, "headers"), hp)
	if err != nil {
		return err
	}
	for i, hn := range hs {
		p := yamldoc.Index(hp, i)
		name, err := l.Name(hn, p, "expected the header's name")
		if err != nil {
			return err
		}
		hm := contract.HeaderMatch{Name: name}
		if hm.Invert, _, err = l.Boolean(yamldoc.Get(hn, "invert_match"), yamldoc.Field(p, "invert_match")); err != nil {
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
		if yamldoc.RedactHeader(&hm) {
			l.Note(hn, p, "the value of header %s is a credential and is not kept; the condition is reduced to the header being present", name)
		}
		ep.Headers = append(ep.Headers, hm)
	}
	return nil
}

// headerValue reads the value condition of one header matcher; every regex
// is anchored to the whole value.
func (l *loader) headerValue(hm *contract.HeaderMatch, hn *yaml.Node, p string) error {
	str := func(k string) (string, bool, error) {
		n := yamldoc.Get(hn, k)
		if n == nil {
			return "", false, nil
		}
		s, err := l.Str(n, yamldoc.Field(p, k))
		return s, true, err
	}
	regex := func(src string, n *yaml.Node, rp string) error {
		re := "^(?:" + src + ")$"
		if _, err := regexp.Compile(src); err != nil {
			return l.Errorf(n, rp, "expected a regular expression Go's RE2 can run: %v", err)
		}
		if _, err := regexp.Compile(re); err != nil {
			return l.Errorf(n, rp, "expected a regular expression Go's RE2 can run: %v", err)
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
		return regex(v, yamldoc.Get(hn, "regex_match"), yamldoc.Field(p, "regex_match"))
	}
	if n := yamldoc.Get(hn, "safe_regex_match"); n != nil {
		rp := yamldoc.Field(yamldoc.Field(p, "safe_regex_match"), "regex")
		v, err := l.Str(yamldoc.Get(n, "regex"), rp)
		if err != nil {
			return err
		}
		return regex(v, yamldoc.Get(n, "regex"), rp)
	}
	if n := yamldoc.Get(hn, "present_match"); n != nil {
		present, _, err := l.Boolean(n, yamldoc.Field(p, "present_match"))
		hm.Present = true
		if !present {
			hm.Invert = !hm.Invert // present_match: false asks for an absent header
		}
		return err
	}
	if n := yamldoc.Get(hn, "range_match"); n != nil {
		hm.Regex = "^-?[0-9]+$" // a number; the range itself is not kept
		return nil
	}
	if sm := yamldoc.Get(hn, "string_match"); sm != nil {
		sp := yamldoc.Field(p, "string_match")
		if _, err := l.Mapping(sm, sp); err != nil {
			return err
		}
		ic, _, err := l.Boolean(yamldoc.Get(sm, "ignore_case"), yamldoc.Field(sp, "ignore_case"))
		if err != nil {
			return err
		}
		flag := ""
		if ic {
			flag = "(?i)"
		}
		for _, k := range []string{"exact", "prefix", "suffix", "contains"} {
			n := yamldoc.Get(sm, k)
			if n == nil {
				continue
			}
			v, err := l.Str(n, yamldoc.Field(sp, k))
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
		if n := yamldoc.Get(sm, "safe_regex"); n != nil {
			rp := yamldoc.Field(yamldoc.Field(sp, "safe_regex"), "regex")
			v, err := l.Str(yamldoc.Get(n, "regex"), rp)
			if err != nil {
				return err
			}
			return regex(v, yamldoc.Get(n, "regex"), rp)
		}
		return l.Errorf(sm, sp, "expected one of exact, prefix, suffix, contains or safe_regex")
	}
	// A matcher with only a name asks for the header to be present.
	hm.Present = true
	return nil
}

// action reads a route action: its clusters, timeout and retries.
func (l *loader) action(ep *contract.Endpoint, vh *vhost, an *yaml.Node, p string) error {
	if _, err := l.Mapping(an, p); err != nil {
		return err
	}
	switch {
	case yamldoc.Get(an, "cluster") != nil:
		name, err := l.Str(yamldoc.Get(an, "cluster"), yamldoc.Field(p, "cluster"))
		if err != nil {
			return err
		}
		b, err := l.backend(name, yamldoc.Get(an, "cluster"), yamldoc.Field(p, "cluster"))
		if err != nil {
			return err
		}
		ep.Backends = []contract.Backend{b}
		ep.Service = name
	case yamldoc.Get(an, "weighted_clusters") != nil:
		wp := yamldoc.Field(p, "weighted_clusters")
		cs, err := l.List(yamldoc.Get(yamldoc.Get(an, "weighted_clusters"), "clusters"), yamldoc.Field(wp, "clusters"))
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return l.Errorf(yamldoc.Get(an, "weighted_clusters"), wp, "expected clusters: a list of {name, weight}")
		}
		for i, cn := range cs {
			cp := yamldoc.Index(yamldoc.Field(wp, "clusters"), i)
			name, err := l.Str(yamldoc.Get(cn, "name"), yamldoc.Field(cp, "name"))
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
	case yamldoc.Get(an, "cluster_header") != nil || yamldoc.Get(an, "cluster_specifier_plugin") != nil || yamldoc.Get(an, "inline_cluster_specifier_plugin") != nil:
		l.Note(an, p, "the cluster is chosen at run time (cluster_header or a cluster specifier plugin); the endpoint has no backends")
	default:
		return l.Errorf(an, p, "expected cluster or weighted_clusters in the route action")
	}

	ep.Timeout, ep.TimeoutIsDefault = DefaultRouteTimeout, true
	if tn := yamldoc.Get(an, "timeout"); !yamldoc.IsNull(tn) {
		d, err := l.duration(tn, yamldoc.Field(p, "timeout"))
		if err != nil {
			return err
		}
		ep.Timeout, ep.TimeoutIsDefault = d, false // 0s disables the timeout
	}
	r, ok, err := l.retryPolicy(yamldoc.Get(an, "retry_policy"), yamldoc.Field(p, "retry_policy"))
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
		return contract.Backend{}, l.Errorf(n, p, "expected a cluster name")
	}
	c := l.clusters[name]
	if c == nil {
		if !l.cds {
			return contract.Backend{}, l.Errorf(n, p, "cluster %q is not defined in static_resources.clusters", name)
		}
		return contract.Backend{Name: name}, nil
	}
	return contract.Backend{Name: name, Hosts: append([]string(nil), c.hosts...)}, nil
}

// duration reads a protobuf Duration: "1.5s" or {seconds: 1, nanos: 5e8}.
func (l *loader) duration(n *yaml.Node, p string) (time.Duration, error) {
	r := yamldoc.Resolve(n)
	if r != nil && r.Kind == yaml.MappingNode {
		s, _, err := l.Number(yamldoc.Get(r, "seconds"), yamldoc.Field(p, "seconds"))
		if err != nil {
			return 0, err
		}
		ns, _, err := l.Number(yamldoc.Get(r, "nanos"), yamldoc.Field(p, "nanos"))
		if err != nil {
			return 0, err
		}
		return time.Duration(s*float64(time.Second) + ns), nil
	}
	s, err := l.Str(n, p)
	if err != nil {
		return 0, err
	}
	d, perr := time.ParseDuration(s)
	if perr != nil || d < 0 {
		return 0, l.Errorf(n, p, "expected a duration such as 15s or 0.25s, got %s", yamldoc.Describe(n))
	}
	return d, nil
}
