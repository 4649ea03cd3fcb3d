// Package kong reads a Kong declarative configuration (the kong.yml of
// DB-less mode and of decK, _format_version 1.1, 2.1 or 3.0, in YAML or
// JSON) into a gateway-neutral contract.Contract.
//
// Every endpoint is one HTTP route; its position in the file, its service's
// timeouts and retries, the upstream targets behind it and the plugins that
// apply to it (global, service and route level) are carried over. See
// docs/contract-kong.md for the full mapping.
package kong

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/internal/yamldoc"
)

// DefaultTimeout is Kong's default service read_timeout (60000 ms), used
// when a service sets none.
const DefaultTimeout = 60 * time.Second

// DefaultProxyPort is Kong's default proxy_listen port. A declarative file
// does not say where Kong listens, so Contract.Defaults.Port is this.
const DefaultProxyPort = 8000

// ErrNotKong is wrapped by the error Load returns for a file that is not a
// Kong declarative configuration at all (a docker-compose file, Helm values,
// a Kubernetes manifest, ...).
var ErrNotKong = errors.New("not a Kong declarative configuration")

// formatVersions are the _format_version values Kong accepts.
var formatVersions = map[string]bool{"1.1": true, "2.1": true, "3.0": true}

// Detect reports whether data looks like a Kong declarative configuration:
// a YAML or JSON mapping with a _format_version key.
func Detect(data []byte) bool {
	return yamldoc.Get(yamldoc.Root(data), "_format_version") != nil
}

// Load reads the Kong declarative configuration data, read from path, into
// a contract. Every error is a *contract.Error naming path, the line and
// column, the element and what was expected.
func Load(path string, data []byte) (*contract.Contract, error) {
	l := &loader{
		Doc:       yamldoc.Doc{File: path},
		upstreams: map[string]*upstream{},
		services:  map[string]*service{},
		routeRefs: map[string]*route{},
	}
	root, err := l.ParseMapping(data, ErrNotKong, looksLike, "_format_version")
	if err != nil {
		return nil, err
	}
	fv := yamldoc.Get(root, "_format_version")
	v, err := l.Str(fv, "_format_version")
	if err != nil {
		return nil, err
	}
	if !formatVersions[v] {
		return nil, l.Errorf(fv, "_format_version", "unsupported version %q: expected \"1.1\", \"2.1\" or \"3.0\"", v)
	}
	l.version = v

	c := &contract.Contract{
		Gateway:  contract.Kong,
		Name:     configName(root, path),
		Source:   path,
		Hash:     contract.HashSource(data),
		Defaults: contract.Defaults{Timeout: DefaultTimeout, Port: DefaultProxyPort},
	}
	l.read(root)
	eps := l.endpoints()
	if err := l.Err(); err != nil {
		return nil, err
	}
	c.Endpoints = eps
	c.Notes = l.Notes
	return c, nil
}

// configName is the name the configuration gives itself (its Konnect
// control plane or a non-default workspace), else the file's name without
// its extension (kong.yaml gives kong).
func configName(root *yaml.Node, path string) string {
	for _, k := range [][2]string{{"_konnect", "control_plane_name"}, {"_konnect", "runtime_group_name"}} {
		if n := yamldoc.Resolve(yamldoc.Get(yamldoc.Get(root, k[0]), k[1])); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" && n.Value != "default" {
			return n.Value
		}
	}
	if n := yamldoc.Resolve(yamldoc.Get(root, "_workspace")); n != nil && n.Kind == yaml.ScalarNode && n.Value != "" && n.Value != "default" {
		return n.Value
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// looksLike guesses what a file without _format_version is, for the error
// that refuses it.
func looksLike(root *yaml.Node) string {
	if guess, ok := yamldoc.GuessManifest(root, "_format_version", "Kong"); ok {
		return guess
	}
	has := func(k string) bool { return yamldoc.Get(root, k) != nil }
	kindOf := func(n *yaml.Node) yaml.Kind {
		if n = yamldoc.Resolve(n); n != nil {
			return n.Kind
		}
		return 0
	}
	switch {
	case kindOf(yamldoc.Get(root, "services")) == yaml.MappingNode:
		return "it looks like a docker-compose file"
	case has("static_resources") || has("dynamic_resources"):
		return "it looks like an Envoy bootstrap configuration"
	case has("endpoints") && has("version"):
		return "it looks like a KrakenD configuration"
	case yamldoc.Get(yamldoc.Get(root, "dblessConfig"), "config") != nil:
		return "it looks like Helm values for the Kong chart; the Kong configuration is dblessConfig.config, extract it into its own file"
	case countKeys(root, "image", "env", "ingressController", "proxy", "admin", "replicaCount", "deployment", "manager", "enterprise") >= 2:
		return "it looks like Helm values for the Kong chart"
	case kindOf(yamldoc.Get(root, "services")) == yaml.SequenceNode || kindOf(yamldoc.Get(root, "routes")) == yaml.SequenceNode:
		return `it has Kong services or routes but lacks the required first line _format_version: "3.0" (or the version it was written for)`
	}
	return yamldoc.GuessKeys(root)
}

func countKeys(m *yaml.Node, ks ...string) int {
	n := 0
	for _, k := range ks {
		if yamldoc.Get(m, k) != nil {
			n++
		}
	}
	return n
}

// upstream is a Kong upstream: a name that services use as their host, and
// the targets behind it.
type upstream struct {
	name    string
	targets []string
}

// service is a Kong service with what its routes inherit.
type service struct {
	node    *yaml.Node
	path    string
	label   string // name, else id, else host
	name    string
	enabled bool
	backend contract.Backend
	timeout time.Duration
	// timeoutDefault is true when the service sets no read_timeout.
	timeoutDefault bool
	retries        int
	tags           []string
	plugins        []*plugin
	nRoutes        int
}

// route is one Kong route before it becomes an endpoint.
type route struct {
	node    *yaml.Node
	path    string
	svc     *service
	plugins []*plugin
}

// plugin is one enabled plugin instance and where it applies.
type plugin struct {
	node   *yaml.Node
	name   string
	config *yaml.Node
	path   string
	// route is the route a top-level plugin names; service likewise.
	route, service string
}

// loader holds the state of one Load.
type loader struct {
	yamldoc.Doc
	version   string
	upstreams map[string]*upstream
	services  map[string]*service // by name and by id
	routes    []*route
	routeRefs map[string]*route // by name and by id
	global    []*plugin
	scoped    []*plugin // top-level plugins that name a service or route
}

// read collects upstreams, services, routes and plugins from the document.
// Problems are recorded with fail; an element with a problem is left out.
func (l *loader) read(root *yaml.Node) {
	l.readUpstreams(root)
	l.Each(yamldoc.Get(root, "services"), "services", func(sn *yaml.Node, p string) error {
		s, err := l.readService(sn, p)
		if err != nil {
			return err
		}
		l.Each(yamldoc.Get(sn, "routes"), yamldoc.Field(p, "routes"), func(rn *yaml.Node, rp string) error {
			return l.addRoute(rn, rp, s)
		})
		return nil
	})
	l.Each(yamldoc.Get(root, "routes"), "routes", l.addTopLevelRoute)
	l.Each(yamldoc.Get(root, "plugins"), "plugins", l.addTopLevelPlugin)
	// Consumers' own plugins apply only to that consumer's requests; they
	// are checked for shape and otherwise left out of the endpoints.
	l.Each(yamldoc.Get(root, "consumers"), "consumers", func(cn *yaml.Node, p string) error {
		if _, err := l.Mapping(cn, p); err != nil {
			return err
		}
		_, err := l.List(yamldoc.Get(cn, "plugins"), yamldoc.Field(p, "plugins"))
		return err
	})
}

// addTopLevelRoute reads a route of the top-level routes list, which names
// its service.
func (l *loader) addTopLevelRoute(rn *yaml.Node, p string) error {
	if _, err := l.Mapping(rn, p); err != nil {
		return err
	}
	var s *service
	if ref := yamldoc.Get(rn, "service"); !yamldoc.IsNull(ref) {
		name, err := l.reference(ref, yamldoc.Field(p, "service"))
		if err != nil {
			return err
		}
		if s = l.services[name]; s == nil {
			return l.Errorf(ref, yamldoc.Field(p, "service"), "service %q is not defined in services", name)
		}
	}
	return l.addRoute(rn, p, s)
}

// addTopLevelPlugin reads a plugin of the top-level plugins list: global,
// or scoped to the service or route it names.
func (l *loader) addTopLevelPlugin(pn *yaml.Node, p string) error {
	pl, err := l.readPlugin(pn, p)
	if err != nil || pl == nil {
		return err
	}
	if c := yamldoc.Get(pn, "consumer"); !yamldoc.IsNull(c) {
		return nil // applies to one consumer's requests only
	}
	for _, k := range []string{"route", "service"} {
		if ref := yamldoc.Get(pn, k); !yamldoc.IsNull(ref) {
			name, err := l.reference(ref, yamldoc.Field(p, k))
			if err != nil {
				return err
			}
			if k == "route" {
				pl.route = name
			} else {
				pl.service = name
			}
		}
	}
	if pl.route == "" && pl.service == "" {
		l.global = append(l.global, pl)
	} else {
		l.scoped = append(l.scoped, pl)
	}
	return nil
}

// reference reads a foreign key: a name or id string, or {name: ...} or
// {id: ...} as decK writes it.
func (l *loader) reference(n *yaml.Node, path string) (string, error) {
	r := yamldoc.Resolve(n)
	if r != nil && r.Kind == yaml.MappingNode {
		for _, k := range []string{"name", "id"} {
			if v := yamldoc.Get(r, k); !yamldoc.IsNull(v) {
				return l.Str(v, yamldoc.Field(path, k))
			}
		}
		return "", l.Errorf(n, path, "expected a name or id, got a mapping with neither")
	}
	s, err := l.Str(n, path)
	if err == nil && s == "" {
		return "", l.Errorf(n, path, "expected a name or id, got an empty value")
	}
	return s, err
}

func (l *loader) readUpstreams(root *yaml.Node) {
	l.Each(yamldoc.Get(root, "upstreams"), "upstreams", l.readUpstream)
	l.Each(yamldoc.Get(root, "targets"), "targets", func(tn *yaml.Node, p string) error {
		ref := yamldoc.Get(tn, "upstream")
		if yamldoc.IsNull(ref) {
			return l.Errorf(tn, p, "expected the upstream this target belongs to")
		}
		name, err := l.reference(ref, yamldoc.Field(p, "upstream"))
		if err != nil {
			return err
		}
		u := l.upstreams[name]
		if u == nil {
			return l.Errorf(ref, yamldoc.Field(p, "upstream"), "upstream %q is not defined in upstreams", name)
		}
		return l.addTarget(u, tn, p)
	})
}

func (l *loader) readUpstream(un *yaml.Node, p string) error {
	name, err := l.Name(un, p, "expected a name for the upstream")
	if err != nil {
		return err
	}
	u := &upstream{name: name}
	l.upstreams[name] = u
	if id, _ := l.Str(yamldoc.Get(un, "id"), ""); id != "" {
		l.upstreams[id] = u
	}
	ts, err := l.List(yamldoc.Get(un, "targets"), yamldoc.Field(p, "targets"))
	if err != nil {
		return err
	}
	for j, tn := range ts {
		if err := l.addTarget(u, tn, yamldoc.Index(yamldoc.Field(p, "targets"), j)); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) addTarget(u *upstream, tn *yaml.Node, p string) error {
	if _, err := l.Mapping(tn, p); err != nil {
		return err
	}
	t, err := l.Str(yamldoc.Get(tn, "target"), yamldoc.Field(p, "target"))
	if err != nil {
		return err
	}
	if t == "" {
		return l.Errorf(tn, p, "expected target: host:port")
	}
	w, ok, err := l.Integer(yamldoc.Get(tn, "weight"), yamldoc.Field(p, "weight"))
	if err != nil {
		return err
	}
	if ok && w == 0 {
		return nil // weight 0 disables the target
	}
	u.targets = append(u.targets, t)
	return nil
}

// defaultPorts are the ports Kong uses for a service protocol without one.
var defaultPorts = map[string]string{"http": "80", "https": "443", "grpc": "80", "grpcs": "443", "ws": "80", "wss": "443"}

func (l *loader) readService(sn *yaml.Node, p string) (*service, error) {
	if _, err := l.Mapping(sn, p); err != nil {
		return nil, err
	}
	if sn == nil || sn.Kind != yaml.MappingNode {
		return nil, l.Errorf(sn, p, "expected a service mapping, got %s", yamldoc.Describe(sn))
	}
	s := &service{node: sn, path: p, enabled: true}
	var err error
	if s.name, err = l.Str(yamldoc.Get(sn, "name"), yamldoc.Field(p, "name")); err != nil {
		return nil, err
	}
	id, err := l.Str(yamldoc.Get(sn, "id"), yamldoc.Field(p, "id"))
	if err != nil {
		return nil, err
	}
	if en, ok, err := l.Boolean(yamldoc.Get(sn, "enabled"), yamldoc.Field(p, "enabled")); err != nil {
		return nil, err
	} else if ok {
		s.enabled = en
	}
	// Known by name and id before anything else can fail, so that routes
	// naming a broken service report its problem, not a missing service.
	for _, k := range []string{s.name, id} {
		if k == "" {
			continue
		}
		if prev := l.services[k]; prev != nil && prev != s {
			return nil, l.Errorf(sn, p, "service %q is defined twice (first at %s)", k, yamldoc.Pos(prev.node))
		}
		l.services[k] = s
	}
	if err := l.readBackend(s, sn, p); err != nil {
		return nil, err
	}
	s.label = firstNonEmpty(s.name, id, s.backend.Name)

	s.timeout, s.timeoutDefault = DefaultTimeout, true
	if ms, ok, err := l.Integer(yamldoc.Get(sn, "read_timeout"), yamldoc.Field(p, "read_timeout")); err != nil {
		return nil, err
	} else if ok {
		s.timeout, s.timeoutDefault = time.Duration(ms)*time.Millisecond, false
	}
	for _, k := range []string{"connect_timeout", "write_timeout"} {
		if _, _, err := l.Integer(yamldoc.Get(sn, k), yamldoc.Field(p, k)); err != nil {
			return nil, err
		}
	}
	if r, ok, err := l.Integer(yamldoc.Get(sn, "retries"), yamldoc.Field(p, "retries")); err != nil {
		return nil, err
	} else if ok {
		s.retries = r
	}
	if s.tags, err = l.Strs(yamldoc.Get(sn, "tags"), yamldoc.Field(p, "tags")); err != nil {
		return nil, err
	}
	if s.plugins, err = l.readPlugins(yamldoc.Get(sn, "plugins"), yamldoc.Field(p, "plugins")); err != nil {
		return nil, err
	}
	return s, nil
}

// readBackend fills s.backend from url, or from host, port, protocol and
// path; a host naming an upstream stands for that upstream's targets.
func (l *loader) readBackend(s *service, sn *yaml.Node, p string) error {
	raw, err := l.Str(yamldoc.Get(sn, "url"), yamldoc.Field(p, "url"))
	if err != nil {
		return err
	}
	raw = redactURL(raw)
	var proto, host, port, upath string
	if raw != "" {
		proto, host, port, upath = splitURL(raw)
		if host == "" {
			return l.Errorf(yamldoc.Get(sn, "url"), yamldoc.Field(p, "url"), "expected a URL such as http://host:port/path, got %q", raw)
		}
	} else {
		if host, err = l.Str(yamldoc.Get(sn, "host"), yamldoc.Field(p, "host")); err != nil {
			return err
		}
		if host == "" {
			return l.Errorf(sn, p, "expected url or host: a service needs an upstream")
		}
		if proto, err = l.Str(yamldoc.Get(sn, "protocol"), yamldoc.Field(p, "protocol")); err != nil {
			return err
		}
		if port, err = l.Str(yamldoc.Get(sn, "port"), yamldoc.Field(p, "port")); err != nil {
			return err
		}
		if upath, err = l.Str(yamldoc.Get(sn, "path"), yamldoc.Field(p, "path")); err != nil {
			return err
		}
	}
	if proto == "" {
		proto = "http"
	}
	if port == "" {
		port = defaultPorts[strings.ToLower(proto)]
		if port == "" {
			port = "80"
		}
	}
	if raw == "" {
		raw = proto + "://" + host + ":" + port + upath
	}
	s.backend = contract.Backend{URL: raw, Name: s.name}
	if u := l.upstreams[host]; u != nil {
		s.backend.Name = u.name
		s.backend.Hosts = append([]string(nil), u.targets...)
	} else if yamldoc.Placeholder(host) && !strings.Contains(raw, host+":") {
		s.backend.Hosts = []string{host} // the placeholder may hold a port
	} else {
		s.backend.Hosts = []string{host + ":" + port}
	}
	if s.backend.Name == "" {
		s.backend.Name = host
	}
	return nil
}

// redactURL hides the password of a URL's user information
// (http://user:secret@host becomes http://user:xxxxx@host), so that it never
// reaches the contract, generated artifacts or error messages.
func redactURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	auth := raw[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndexByte(auth, '@')
	if at < 0 {
		return raw
	}
	user, _, hasPass := strings.Cut(auth[:at], ":")
	if !hasPass {
		return raw
	}
	return raw[:i+3] + user + ":xxxxx" + raw[i+3+at:]
}

// splitURL splits a service url into protocol, host, port and path. It does
// not fail on ${VAR} placeholders, which net/url may reject.
func splitURL(raw string) (proto, host, port, path string) {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Scheme, u.Hostname(), u.Port(), u.EscapedPath()
	}
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		proto, rest = rest[:i], rest[i+3:]
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest, path = rest[:i], rest[i:]
	}
	host = rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "}") {
		host, port = rest[:i], rest[i+1:]
	}
	return proto, host, port, path
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (l *loader) readPlugins(n *yaml.Node, p string) ([]*plugin, error) {
	ps, err := l.List(n, p)
	if err != nil {
		return nil, err
	}
	var out []*plugin
	for i, pn := range ps {
		pl, err := l.readPlugin(pn, yamldoc.Index(p, i))
		if err != nil {
			return nil, err
		}
		if pl != nil {
			out = append(out, pl)
		}
	}
	return out, nil
}

// readPlugin reads one plugin; it returns nil for a disabled plugin, which
// Kong leaves out entirely (it does not shadow one at a wider scope).
func (l *loader) readPlugin(pn *yaml.Node, p string) (*plugin, error) {
	if yamldoc.IsNull(pn) {
		return nil, l.Errorf(pn, p, "expected a plugin mapping, got null")
	}
	name, err := l.Name(pn, p, "expected the plugin's name")
	if err != nil {
		return nil, err
	}
	en, ok, err := l.Boolean(yamldoc.Get(pn, "enabled"), yamldoc.Field(p, "enabled"))
	if err != nil {
		return nil, err
	}
	if ok && !en {
		return nil, nil
	}
	cfg, err := l.Mapping(yamldoc.Get(pn, "config"), yamldoc.Field(p, "config"))
	if err != nil {
		return nil, err
	}
	return &plugin{node: pn, name: name, config: cfg, path: p}, nil
}

// addRoute records one route and the plugins declared inside it.
func (l *loader) addRoute(rn *yaml.Node, p string, s *service) error {
	if _, err := l.Mapping(rn, p); err != nil {
		return err
	}
	if yamldoc.IsNull(rn) {
		return l.Errorf(rn, p, "expected a route mapping, got null")
	}
	r := &route{node: rn, path: p, svc: s}
	var err error
	if r.plugins, err = l.readPlugins(yamldoc.Get(rn, "plugins"), yamldoc.Field(p, "plugins")); err != nil {
		return err
	}
	for _, k := range []string{"name", "id"} {
		v, err := l.Str(yamldoc.Get(rn, k), yamldoc.Field(p, k))
		if err != nil {
			return err
		}
		if v == "" {
			continue
		}
		if prev := l.routeRefs[v]; prev != nil && prev != r {
			return l.Errorf(rn, p, "route %s %q is used twice (first at %s)", k, v, yamldoc.Pos(prev.node))
		}
		l.routeRefs[v] = r
	}
	l.routes = append(l.routes, r)
	return nil
}

// streamProtocols are route protocols of Kong's stream (TCP/UDP) proxy.
var streamProtocols = map[string]bool{"tcp": true, "tls": true, "udp": true, "tls_passthrough": true}

// endpoints turns the routes, in file order, into endpoints.
func (l *loader) endpoints() []contract.Endpoint {
	sort.SliceStable(l.routes, func(i, j int) bool {
		a, b := l.routes[i].node, l.routes[j].node
		return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
	})
	// Top-level plugins that name a route or service attach to it.
	for _, pl := range l.scoped {
		switch {
		case pl.route != "":
			r := l.routeRefs[pl.route]
			if r == nil {
				l.Fail(l.Errorf(yamldoc.Get(pl.node, "route"), yamldoc.Field(pl.path, "route"), "route %q is not defined in this file", pl.route))
				continue
			}
			if pl.service != "" && (r.svc == nil || l.services[pl.service] != r.svc) {
				continue // the route does not use that service: never applies
			}
			r.plugins = append(r.plugins, pl)
		default:
			s := l.services[pl.service]
			if s == nil {
				l.Fail(l.Errorf(yamldoc.Get(pl.node, "service"), yamldoc.Field(pl.path, "service"), "service %q is not defined in services", pl.service))
				continue
			}
			s.plugins = append(s.plugins, pl)
		}
	}

	var eps []contract.Endpoint
	used := map[string]bool{}
	for _, r := range l.routes {
		name, _ := l.Str(yamldoc.Get(r.node, "name"), "")
		if name != "" {
			used[name] = true
		}
	}
	unnamed := 0
	for _, r := range l.routes {
		if r.svc != nil {
			r.svc.nRoutes++
		}
		unnamed++
		ep, skip, err := l.endpoint(r)
		if err != nil {
			l.Fail(err)
			continue
		}
		if skip {
			continue
		}
		if ep.Name == "" {
			if id, _ := l.Str(yamldoc.Get(r.node, "id"), ""); id != "" {
				ep.Name = id
			} else if r.svc != nil {
				ep.Name = fmt.Sprintf("%s-route-%d", r.svc.label, r.svc.nRoutes)
			} else {
				ep.Name = fmt.Sprintf("route-%d", unnamed)
			}
			base := ep.Name
			for k := 2; used[ep.Name]; k++ {
				ep.Name = fmt.Sprintf("%s-%d", base, k)
			}
			used[ep.Name] = true
		}
		eps = append(eps, ep)
	}
	return eps
}

// endpoint builds the endpoint of one route. skip is true for a route Kong
// does not serve over HTTP (stream protocols, a disabled service).
func (l *loader) endpoint(r *route) (ep contract.Endpoint, skip bool, err error) {
	rn, p := r.node, r.path
	ep = contract.Endpoint{Pos: yamldoc.Pos(rn), Public: true}
	if ep.Name, err = l.Str(yamldoc.Get(rn, "name"), yamldoc.Field(p, "name")); err != nil {
		return ep, false, err
	}
	protos, err := l.Strs(yamldoc.Get(rn, "protocols"), yamldoc.Field(p, "protocols"))
	if err != nil {
		return ep, false, err
	}
	if len(protos) > 0 {
		stream := true
		for _, pr := range protos {
			stream = stream && streamProtocols[strings.ToLower(pr)]
		}
		if stream {
			return ep, true, nil
		}
	}
	if r.svc != nil && !r.svc.enabled {
		l.Note(rn, p, "route is not served: its service %q is disabled (enabled: false)", r.svc.label)
		return ep, true, nil
	}
	if ep.Methods, err = l.Strs(yamldoc.Get(rn, "methods"), yamldoc.Field(p, "methods")); err != nil {
		return ep, false, err
	}
	for i := range ep.Methods {
		ep.Methods[i] = strings.ToUpper(ep.Methods[i])
	}
	if ep.Hosts, err = l.Strs(yamldoc.Get(rn, "hosts"), yamldoc.Field(p, "hosts")); err != nil {
		return ep, false, err
	}
	if en := yamldoc.Get(rn, "expression"); !yamldoc.IsNull(en) {
		expr, err := l.Str(en, yamldoc.Field(p, "expression"))
		if err != nil {
			return ep, false, err
		}
		l.expression(&ep, expr, en, yamldoc.Field(p, "expression"))
		prio, ok, err := l.Integer(yamldoc.Get(rn, "priority"), yamldoc.Field(p, "priority"))
		if err != nil {
			return ep, false, err
		}
		if ok {
			ep.Priority = prio
		}
	} else if err := l.paths(&ep, rn, p); err != nil {
		return ep, false, err
	}
	if err := l.headers(&ep, rn, p); err != nil {
		return ep, false, err
	}
	if prio, ok, err := l.Integer(yamldoc.Get(rn, "regex_priority"), yamldoc.Field(p, "regex_priority")); err != nil {
		return ep, false, err
	} else if ok {
		ep.Priority = prio
	}
	if _, _, err := l.Boolean(yamldoc.Get(rn, "strip_path"), yamldoc.Field(p, "strip_path")); err != nil {
		return ep, false, err
	}
	tags, err := l.Strs(yamldoc.Get(rn, "tags"), yamldoc.Field(p, "tags"))
	if err != nil {
		return ep, false, err
	}
	if r.svc != nil {
		ep.Tags = appendUnique(ep.Tags, r.svc.tags...)
		ep.Service = r.svc.label
		ep.Backends = []contract.Backend{r.svc.backend}
		ep.Backends[0].Hosts = append([]string(nil), r.svc.backend.Hosts...)
		ep.Timeout, ep.TimeoutIsDefault = r.svc.timeout, r.svc.timeoutDefault
		ep.Retries = r.svc.retries
	}
	ep.Tags = appendUnique(ep.Tags, tags...)
	for _, t := range ep.Tags {
		if t == "internal" || t == "private" {
			ep.Public = false
		}
	}
	if err := l.applyPlugins(&ep, r); err != nil {
		return ep, false, err
	}
	return ep, false, nil
}

func appendUnique(dst []string, ss ...string) []string {
	for _, s := range ss {
		found := false
		for _, d := range dst {
			found = found || d == s
		}
		if !found {
			dst = append(dst, s)
		}
	}
	return dst
}

// plainPath is the set of characters of a Kong 2.x path that is not a
// regex: any other character made Kong before 3.0 treat the path as one.
var plainPath = regexp.MustCompile(`^[A-Za-z0-9\-._~/%]*$`)

// paths sets the endpoint's path fields from the route's paths. Plain paths
// are prefixes; "~" paths (and, before _format_version 3.0, paths with
// regex characters) are regular expressions anchored at the start.
func (l *loader) paths(ep *contract.Endpoint, rn *yaml.Node, p string) error {
	pn := yamldoc.Get(rn, "paths")
	items, err := l.List(pn, yamldoc.Field(p, "paths"))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		ep.Path, ep.Match = "/", contract.MatchPrefix
		return nil
	}
	var pieces []pathPiece
	anyRegex := false
	for i, it := range items {
		ip := yamldoc.Index(yamldoc.Field(p, "paths"), i)
		s, err := l.Str(it, ip)
		if err != nil {
			return err
		}
		switch {
		case yamldoc.Placeholder(s):
			pieces = append(pieces, pathPiece{written: s, prefix: s})
		case strings.HasPrefix(s, "~"):
			pieces = append(pieces, l.regexPiece(it, ip, s, s[1:]))
		case !strings.HasPrefix(s, "/"):
			return l.Errorf(it, ip, `expected a path starting with "/" (a prefix) or "~" (a regular expression), got %q`, s)
		case l.version != "3.0" && !plainPath.MatchString(s):
			// Before 3.0 Kong guessed regex paths from their characters.
			pieces = append(pieces, l.regexPiece(it, ip, s, s))
		default:
			if strings.ContainsAny(s, `\([*$^|{`) {
				// Kong 3.0 stopped guessing: only "~" marks a regex.
				l.Note(it, ip, "path %q looks like a regular expression but has no \"~\" prefix; Kong %s matches it as a plain prefix (decK convert adds the \"~\")", s, l.version)
			}
			pieces = append(pieces, pathPiece{written: s, prefix: s})
		}
		anyRegex = anyRegex || pieces[len(pieces)-1].re != ""
	}
	if !anyRegex {
		ep.Match = contract.MatchPrefix
		ep.Path = pieces[0].prefix
		if len(pieces) > 1 {
			for _, pc := range pieces {
				ep.Paths = append(ep.Paths, pc.prefix)
			}
		}
		return nil
	}
	ep.Match = contract.MatchRegex
	ep.Path = pieces[0].written
	alts := make([]string, 0, len(pieces))
	for _, pc := range pieces {
		if len(pieces) > 1 {
			ep.Paths = append(ep.Paths, pc.written)
		}
		if pc.re != "" {
			alts = append(alts, pc.re)
		} else {
			alts = append(alts, regexp.QuoteMeta(pc.prefix))
		}
	}
	ep.Regex = "^(?:" + strings.Join(alts, "|") + ")"
	re, err := regexp.Compile(ep.Regex)
	if err != nil {
		// Each piece compiled alone; a combination failing is a limit
		// such as repetition size.
		return l.Errorf(pn, yamldoc.Field(p, "paths"), "the paths do not combine into one regular expression Go can run: %v", err)
	}
	for _, n := range re.SubexpNames() {
		if n != "" {
			ep.Params = append(ep.Params, n)
		}
	}
	return nil
}

// pathPiece is one path of a route.
type pathPiece struct {
	written string
	prefix  string // for a plain path or a regex Go cannot run
	re      string // translated regex, "" for a prefix
}

// regexPiece translates one regex path; a regex Go cannot run falls back to
// its literal prefix, with a note.
func (l *loader) regexPiece(n *yaml.Node, p, written, pcre string) (pc pathPiece) {
	pc.written = written
	re, err := compilePath(pcre)
	if err == nil {
		pc.re = re
		return pc
	}
	pc.prefix = literalPrefix(pcre)
	if pc.prefix == "" {
		pc.prefix = "/"
	}
	l.Note(n, p, "regex path %q %v; the endpoint matches it by its literal prefix %q instead", written, err, pc.prefix)
	return pc
}

// headers reads Kong route headers: a mapping of header name to accepted
// values ("~*" marks a regex value in Kong 3.x).
func (l *loader) headers(ep *contract.Endpoint, rn *yaml.Node, p string) error {
	hn, err := l.Mapping(yamldoc.Get(rn, "headers"), yamldoc.Field(p, "headers"))
	if err != nil || hn == nil {
		return err
	}
	for _, name := range yamldoc.Keys(hn) {
		hp := yamldoc.Field(yamldoc.Field(p, "headers"), name)
		vals, err := l.Strs(yamldoc.Get(hn, name), hp)
		if err != nil {
			return err
		}
		hm := contract.HeaderMatch{Name: name}
		switch {
		case len(vals) == 0:
			hm.Present = true
		case len(vals) == 1 && !strings.HasPrefix(vals[0], "~*"):
			hm.Value = vals[0]
		default:
			// Plain values match whole and case-insensitively; "~*"
			// values are regular expressions.
			alts := make([]string, len(vals))
			for i, v := range vals {
				if !strings.HasPrefix(v, "~*") {
					alts[i] = "^" + regexp.QuoteMeta(v) + "$"
					continue
				}
				re, err := compilePath(v[2:])
				if err != nil {
					l.Note(yamldoc.Get(hn, name), hp, "header regex %q %v; the condition is reduced to the header being present", v, err)
					alts = nil
					break
				}
				alts[i] = "(?:" + re + ")"
			}
			if alts == nil {
				hm.Present = true
				break
			}
			hm.Regex = "(?i)" + strings.Join(alts, "|")
		}
		if yamldoc.RedactHeader(&hm) {
			l.Note(yamldoc.Get(hn, name), hp, "the value of header %s is a credential and is not kept; the condition is reduced to the header being present", name)
		}
		ep.Headers = append(ep.Headers, hm)
	}
	return nil
}

// authPlugins are the plugins that authenticate a request, by the kind
// name they get in Auth.Kinds.
var authPlugins = map[string]string{
	"key-auth":             "key-auth",
	"key-auth-enc":         "key-auth",
	"jwt":                  "jwt",
	"oauth2":               "oauth2",
	"oauth2-introspection": "oauth2",
	"basic-auth":           "basic-auth",
	"hmac-auth":            "hmac-auth",
	"ldap-auth":            "ldap-auth",
	"ldap-auth-advanced":   "ldap-auth",
	"openid-connect":       "openid-connect",
	"mtls-auth":            "mtls-auth",
	"vault-auth":           "vault-auth",
}

// applyPlugins applies the plugins in effect on the route: for each plugin
// name the most specific enabled instance (route, then service, then
// global) wins, as in Kong.
func (l *loader) applyPlugins(ep *contract.Endpoint, r *route) error {
	eff := map[string]*plugin{}
	var order []string
	add := func(ps []*plugin) {
		for _, pl := range ps {
			if _, ok := eff[pl.name]; !ok {
				order = append(order, pl.name)
			}
			eff[pl.name] = pl
		}
	}
	add(l.global)
	if r.svc != nil {
		add(r.svc.plugins)
	}
	add(r.plugins)
	sort.Strings(order)

	for _, name := range order {
		pl := eff[name]
		cp := yamldoc.Field(pl.path, "config")
		if kind, ok := authPlugins[name]; ok {
			anon, err := l.Str(yamldoc.Get(pl.config, "anonymous"), yamldoc.Field(cp, "anonymous"))
			if err != nil {
				return err
			}
			// With an anonymous consumer, a request without credentials
			// passes as that consumer: authentication is optional.
			if anon == "" {
				ep.Auth.Required = true
			}
			ep.Auth.Kinds = appendUnique(ep.Auth.Kinds, kind)
			continue
		}
		switch name {
		case "acl":
			ep.Auth.Kinds = appendUnique(ep.Auth.Kinds, "acl")
		case "rate-limiting":
			rl, err := l.rateLimiting(pl, cp)
			if err != nil {
				return err
			}
			ep.RateLimit = tighter(ep.RateLimit, rl)
		case "rate-limiting-advanced":
			rl, err := l.rateLimitingAdvanced(pl, cp)
			if err != nil {
				return err
			}
			ep.RateLimit = tighter(ep.RateLimit, rl)
		case "request-termination":
			code, ok, err := l.Integer(yamldoc.Get(pl.config, "status_code"), yamldoc.Field(cp, "status_code"))
			if err != nil {
				return err
			}
			if !ok {
				code = 503
			}
			ep.DirectResponse = code
			ep.Backends = nil
		}
	}
	return nil
}

// tighter picks between two rate limits in effect on one route: the one
// with the shorter window, which a burst reaches first; for equal windows
// the one allowing fewer requests.
func tighter(a, b *contract.RateLimit) *contract.RateLimit {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case b.Period < a.Period, b.Period == a.Period && b.Requests < a.Requests:
		return b
	}
	return a
}

// perClient reports whether a Kong limit_by / identifier counts each client
// separately (consumer, credential, ip, header, ...) rather than the whole
// service or path.
func perClient(by string) bool {
	switch by {
	case "service", "path":
		return false
	}
	return true
}

// rateLimitWindows are the rate-limiting plugin's limits, shortest first.
var rateLimitWindows = []struct {
	key    string
	period time.Duration
}{
	{"second", time.Second},
	{"minute", time.Minute},
	{"hour", time.Hour},
	{"day", 24 * time.Hour},
	{"month", 30 * 24 * time.Hour},
	{"year", 365 * 24 * time.Hour},
}

// rateLimiting reads the rate-limiting plugin: the shortest window that has
// a limit becomes the RateLimit.
func (l *loader) rateLimiting(pl *plugin, cp string) (*contract.RateLimit, error) {
	by, err := l.Str(yamldoc.Get(pl.config, "limit_by"), yamldoc.Field(cp, "limit_by"))
	if err != nil {
		return nil, err
	}
	for _, w := range rateLimitWindows {
		v, ok, err := l.Number(yamldoc.Get(pl.config, w.key), yamldoc.Field(cp, w.key))
		if err != nil {
			return nil, err
		}
		if ok && v > 0 {
			return &contract.RateLimit{Requests: v, Period: w.period, PerClient: perClient(by)}, nil
		}
	}
	return nil, nil
}

// rateLimitingAdvanced reads rate-limiting-advanced: limit[i] requests per
// window_size[i] seconds; the shortest window becomes the RateLimit.
func (l *loader) rateLimitingAdvanced(pl *plugin, cp string) (*contract.RateLimit, error) {
	limits, err := l.List(yamldoc.Get(pl.config, "limit"), yamldoc.Field(cp, "limit"))
	if err != nil {
		return nil, err
	}
	windows, err := l.List(yamldoc.Get(pl.config, "window_size"), yamldoc.Field(cp, "window_size"))
	if err != nil {
		return nil, err
	}
	if len(limits) != len(windows) {
		return nil, l.Errorf(pl.config, cp, "expected as many window_size values as limit values, got %d and %d", len(windows), len(limits))
	}
	by, err := l.Str(yamldoc.Get(pl.config, "identifier"), yamldoc.Field(cp, "identifier"))
	if err != nil {
		return nil, err
	}
	var best *contract.RateLimit
	for i := range limits {
		n, ok, err := l.Number(limits[i], yamldoc.Index(yamldoc.Field(cp, "limit"), i))
		if err != nil {
			return nil, err
		}
		w, wok, err := l.Number(windows[i], yamldoc.Index(yamldoc.Field(cp, "window_size"), i))
		if err != nil {
			return nil, err
		}
		if !ok || !wok || n <= 0 || w <= 0 {
			continue
		}
		period := time.Duration(w * float64(time.Second))
		if best == nil || period < best.Period {
			best = &contract.RateLimit{Requests: n, Period: period, PerClient: perClient(by)}
		}
	}
	return best, nil
}
