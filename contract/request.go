package contract

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// Request is what the matcher reads of one logged request.
type Request struct {
	// Method is the HTTP method in upper case.
	Method string
	// Path is the request path without the query string.
	Path string
	// Host is the Host header or :authority as logged, port included when
	// the client sent one; "" when the log does not carry it. Without it
	// the matcher ignores hosts (path-only matching, see
	// Matcher.HostsMatter).
	Host string
	// Header returns the value of a request header (name in lower case)
	// when the log carries it. A header the log does not carry (Header
	// nil, or ok false) is taken as absent: a route that needs it does
	// not match, as for a request without it.
	Header func(name string) (value string, ok bool)
}

// Matcher maps a logged request to the contract endpoint the gateway
// itself would choose.
//
//   - Envoy, and contracts without a gateway: the virtual host is chosen
//     by its domains, compared case-insensitively with the request's host
//     (port included, as Envoy does): an exact domain first, then suffix
//     wildcards ("*.foo.com", "*-bar.foo.com", the longest first), then
//     prefix wildcards ("foo.*", the longest first), then "*"; a wildcard
//     never matches an empty part. A host no virtual host takes is
//     unmatched. Within the virtual host the first route in declaration
//     order whose path, method and header conditions hold wins. Routes of
//     every listener take part: a log line does not say which listener
//     served it. Endpoints without Hosts belong to a virtual host "*".
//   - Kong: routes are grouped by the attributes they match on, as Kong's
//     router orders its categories: more attributes first (hosts, headers,
//     methods), then hosts before headers before methods. A route with
//     hosts matches a request whose host equals one of them or fits a
//     wildcard ("*.example.com", "example.*"), the port ignored unless the
//     route's host names one; groups whose hosts match exactly are tried
//     before wildcard groups of the same category. Within a group the
//     paths decide as described for pathSet.
//   - KrakenD: hosts and headers play no part.
//
// Header conditions compare the headers Request.Header gives (":method",
// ":path", ":authority" and "host" come from the request itself); a header
// the log does not carry is taken as absent. When the request has no host,
// hosts are ignored: every endpoint competes by path, method and headers
// alone.
//
// A Matcher is immutable after NewMatcher and safe for concurrent use;
// matching does not allocate.
type Matcher struct {
	eps    []Endpoint
	policy Kind
	// plain is true when no endpoint has hosts or header conditions: all
	// answers every request.
	plain bool
	// hostsMatter is true when some endpoint is restricted to hosts.
	hostsMatter bool
	// all holds every endpoint, hosts ignored (Envoy, KrakenD).
	all hostGroup
	// Envoy: the virtual hosts, their exact domains and their wildcard
	// domains in the order Envoy tries them.
	vhosts []hostGroup
	exact  map[string]int32
	wild   []wildDomain
	// Kong: the route groups in the order Kong tries them, with hosts
	// (steps) and without (anyHost).
	steps   []kongStep
	anyHost []kongStep
}

// hostGroup is the routes of one Envoy virtual host: those without header
// conditions in one pathSet, those with in cond, by route index.
type hostGroup struct {
	set  *pathSet
	cond []condRoute
}

// condRoute is a route with header conditions.
type condRoute struct {
	ep      int32
	set     *pathSet
	headers []headerCond
}

// wildDomain is one wildcard domain of an Envoy virtual host.
type wildDomain struct {
	kind uint8 // wildSuffix, wildPrefix or wildAny
	lit  string
	vh   int32
}

const (
	wildSuffix uint8 = iota
	wildPrefix
	wildAny
)

// kongStep is one group of Kong routes sharing hosts and headers, limited
// to one or both tiers.
type kongStep struct {
	hosts   []hostPattern // nil: any host
	headers []headerCond
	set     *pathSet
	tiers   uint8
}

// hostPattern is one host of a Kong route.
type hostPattern struct {
	kind uint8 // hostExact, wildSuffix or wildPrefix
	lit  string
	// port is true when the pattern names a port: the request's host is
	// then compared with its port.
	port bool
}

const hostExact uint8 = 255

// headerCond is one compiled header condition.
type headerCond struct {
	name    string // lower case
	value   string
	fold    bool // value compared case-insensitively (Kong)
	prefix  string
	re      *regexp.Regexp
	bad     bool // the regex does not compile: the condition never holds
	present bool
	invert  bool
}

// NewMatcher builds a Matcher for c's endpoints. The Matcher keeps
// c.Endpoints (the endpoints returned by Match point into it); c must not be
// modified afterwards. Paths that cannot be used (a regular expression that
// does not compile, a template not starting with "/") never match.
func NewMatcher(c *Contract) *Matcher {
	if c == nil {
		c = &Contract{}
	}
	m := &Matcher{eps: c.Endpoints, policy: c.Gateway}
	if m.policy != KrakenD && m.policy != Kong {
		m.policy = Envoy
	}
	headers := false
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		if m.policy == KrakenD {
			continue
		}
		if len(e.Hosts) > 0 && !slices.Equal(e.Hosts, []string{"*"}) {
			m.hostsMatter = true
		}
		headers = headers || len(e.Headers) > 0
	}
	m.plain = !m.hostsMatter && !headers
	switch {
	case m.plain:
		m.all = hostGroup{set: newPathSet(m.eps, indexes(len(m.eps)), m.policy)}
	case m.policy == Kong:
		m.steps = m.kongSteps(true)
		m.anyHost = m.kongSteps(false)
	default:
		m.all = m.group(indexes(len(m.eps)))
		m.envoyHosts()
	}
	return m
}

func indexes(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// HostsMatter reports whether some endpoint is restricted to hosts, so that
// a log without the host matches by path alone where the gateway would not.
func (m *Matcher) HostsMatter() bool { return m.hostsMatter }

// Match returns the endpoint for a request of which only the method and
// path are known (hosts ignored, headers taken as absent), or nil when none
// matches (the caller then uses Unmatched). Match is safe for concurrent
// use and does not allocate.
func (m *Matcher) Match(method, path string) *Endpoint {
	i := m.MatchRequest(Request{Method: method, Path: path})
	if i < 0 {
		return nil
	}
	return &m.eps[i]
}

// Endpoint returns the contract's endpoint of index i as MatchRequest
// returns it, nil for -1.
func (m *Matcher) Endpoint(i int) *Endpoint {
	if i < 0 || i >= len(m.eps) {
		return nil
	}
	return &m.eps[i]
}

// MatchRequest returns the index in the contract's Endpoints of the
// endpoint the gateway chooses for r, or -1 when none matches (the caller
// then uses Unmatched). It is safe for concurrent use and does not
// allocate.
func (m *Matcher) MatchRequest(r Request) int {
	if m.plain {
		return int(m.all.set.match(r.Method, r.Path, tierBoth))
	}
	if m.policy == Kong {
		steps := m.steps
		if r.Host == "" {
			steps = m.anyHost
		}
		bare := stripPort(r.Host)
		for k := range steps {
			s := &steps[k]
			if s.hosts != nil && !hostsMatch(s.hosts, r.Host, bare) {
				continue
			}
			if !headersHold(s.headers, &r) {
				continue
			}
			if i := s.set.match(r.Method, r.Path, s.tiers); i >= 0 {
				return int(i)
			}
		}
		return -1
	}
	g := &m.all
	if r.Host != "" && m.hostsMatter {
		vh := m.vhost(r.Host)
		if vh < 0 {
			return -1
		}
		g = &m.vhosts[vh]
	}
	return int(g.match(&r))
}

// match returns the first route of g matching r, or -1.
func (g *hostGroup) match(r *Request) int32 {
	i := g.set.match(r.Method, r.Path, tierBoth)
	for k := range g.cond {
		c := &g.cond[k]
		if i >= 0 && c.ep > i {
			break
		}
		if headersHold(c.headers, r) && c.set.match(r.Method, r.Path, tierBoth) >= 0 {
			return c.ep
		}
	}
	return i
}

// group builds the hostGroup of the endpoints idx (in route order).
func (m *Matcher) group(idx []int32) hostGroup {
	var plain []int32
	var g hostGroup
	for _, i := range idx {
		e := &m.eps[i]
		if len(e.Headers) == 0 {
			plain = append(plain, i)
			continue
		}
		g.cond = append(g.cond, condRoute{ep: i, set: newPathSet(m.eps, []int32{i}, m.policy), headers: compileHeaders(e.Headers, false)})
	}
	g.set = newPathSet(m.eps, plain, m.policy)
	return g
}

// envoyHosts groups the endpoints by virtual host (the same domains) and
// indexes the domains.
func (m *Matcher) envoyHosts() {
	byKey := map[string]int32{}
	var members [][]int32
	m.exact = map[string]int32{}
	for i := range m.eps {
		domains := sortedLower(m.eps[i].Hosts)
		if len(domains) == 0 {
			domains = []string{"*"}
		}
		key := strings.Join(domains, "\n")
		vh, ok := byKey[key]
		if !ok {
			vh = int32(len(members))
			byKey[key] = vh
			members = append(members, nil)
			for _, d := range domains {
				switch {
				case d == "*":
					m.wild = append(m.wild, wildDomain{kind: wildAny, vh: vh})
				case strings.HasPrefix(d, "*"):
					m.wild = append(m.wild, wildDomain{kind: wildSuffix, lit: d[1:], vh: vh})
				case strings.HasSuffix(d, "*"):
					m.wild = append(m.wild, wildDomain{kind: wildPrefix, lit: d[:len(d)-1], vh: vh})
				default:
					if _, dup := m.exact[d]; !dup {
						m.exact[d] = vh
					}
				}
			}
		}
		members[vh] = append(members[vh], int32(i))
	}
	slices.SortStableFunc(m.wild, func(a, b wildDomain) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(len(b.lit), len(a.lit)), cmp.Compare(a.vh, b.vh))
	})
	for _, idx := range members {
		m.vhosts = append(m.vhosts, m.group(idx))
	}
}

// vhost returns the virtual host Envoy chooses for host, or -1.
func (m *Matcher) vhost(host string) int32 {
	if hasUpper(host) && len(host) <= 255 {
		var buf [255]byte
		n := copy(buf[:], host)
		for k := 0; k < n; k++ {
			buf[k] = lowerByte(buf[k])
		}
		if vh, ok := m.exact[string(buf[:n])]; ok {
			return vh
		}
	} else if vh, ok := m.exact[host]; ok {
		return vh
	}
	for k := range m.wild {
		w := &m.wild[k]
		switch w.kind {
		case wildAny:
			return w.vh
		case wildSuffix:
			if len(host) > len(w.lit) && hasSuffixFold(host, w.lit) {
				return w.vh
			}
		case wildPrefix:
			if len(host) > len(w.lit) && hasPrefixFold(host, w.lit) {
				return w.vh
			}
		}
	}
	return -1
}

// kongSteps orders the Kong routes into groups of the same hosts and
// headers, split by tier, in the order of Kong's categories. withHosts
// false ignores hosts (for requests whose host is not logged).
func (m *Matcher) kongSteps(withHosts bool) []kongStep {
	type grp struct {
		hosts   []hostPattern
		headers []headerCond
		idx     []int32
		tiers   uint8 // the tiers the group has routes in
		exact   bool  // some host is exact
	}
	byKey := map[string]int{}
	var groups []*grp
	for i := range m.eps {
		e := &m.eps[i]
		key := headersKey(e.Headers)
		var hosts []string
		if withHosts {
			hosts = sortedLower(e.Hosts)
			key = strings.Join(hosts, ",") + "|" + key
		}
		k, ok := byKey[key]
		if !ok {
			k = len(groups)
			byKey[key] = k
			g := &grp{headers: compileHeaders(e.Headers, true)}
			for _, h := range hosts {
				p := kongHost(h)
				g.exact = g.exact || p.kind == hostExact
				g.hosts = append(g.hosts, p)
			}
			groups = append(groups, g)
		}
		g := groups[k]
		g.idx = append(g.idx, int32(i))
		if len(e.Methods) > 0 {
			g.tiers |= tierMethods
		} else {
			g.tiers |= tierAny
		}
	}
	type step struct {
		g            int
		tier         uint8
		weight, bits int
	}
	var order []step
	for k, g := range groups {
		attrs := 0
		if g.hosts != nil {
			attrs |= 4
		}
		if len(g.headers) > 0 {
			attrs |= 2
		}
		for _, tier := range []uint8{tierMethods, tierAny} {
			if g.tiers&tier == 0 {
				continue
			}
			bits := attrs
			if tier == tierMethods {
				bits |= 1
			}
			order = append(order, step{g: k, tier: tier, weight: popcount3(bits), bits: bits})
		}
	}
	slices.SortStableFunc(order, func(a, b step) int {
		ea, eb := groups[a.g].exact, groups[b.g].exact
		return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(b.bits, a.bits), -cmpBool(ea, eb), cmp.Compare(a.g, b.g))
	})
	sets := make([]*pathSet, len(groups))
	var steps []kongStep
	for k, s := range order {
		g := groups[s.g]
		if sets[s.g] == nil {
			sets[s.g] = newPathSet(m.eps, g.idx, Kong)
		}
		if k > 0 && order[k-1].g == s.g {
			steps[len(steps)-1].tiers |= s.tier // both tiers in one walk
			continue
		}
		steps = append(steps, kongStep{hosts: g.hosts, headers: g.headers, set: sets[s.g], tiers: s.tier})
	}
	return steps
}

func popcount3(b int) int { return b&1 + b>>1&1 + b>>2&1 }

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// kongHost reads one host of a Kong route (lower case).
func kongHost(h string) hostPattern {
	p := hostPattern{kind: hostExact, lit: h, port: strings.Contains(h, ":")}
	switch {
	case strings.HasPrefix(h, "*"):
		p.kind, p.lit = wildSuffix, h[1:]
	case strings.HasSuffix(h, "*"):
		p.kind, p.lit = wildPrefix, h[:len(h)-1]
	}
	return p
}

// hostsMatch reports whether host (bare without its port) fits one of a
// Kong route's hosts.
func hostsMatch(ps []hostPattern, host, bare string) bool {
	for k := range ps {
		p := &ps[k]
		h := bare
		if p.port {
			h = host
		}
		switch p.kind {
		case hostExact:
			if len(h) == len(p.lit) && hasPrefixFold(h, p.lit) {
				return true
			}
		case wildSuffix:
			if len(h) > len(p.lit) && hasSuffixFold(h, p.lit) {
				return true
			}
		case wildPrefix:
			if len(h) > len(p.lit) && hasPrefixFold(h, p.lit) {
				return true
			}
		}
	}
	return false
}

// stripPort removes a ":port" from a host ("[::1]:80" gives "[::1]").
func stripPort(h string) string {
	i := strings.LastIndexByte(h, ':')
	if i == 0 {
		return h
	}
	if i < 0 || (h[0] != '[' && strings.IndexByte(h[:i], ':') >= 0) || strings.IndexByte(h[i:], ']') >= 0 {
		return h
	}
	return h[:i]
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

func lowerByte(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// hasPrefixFold reports whether s starts with lower (in lower case),
// ignoring ASCII case in s.
func hasPrefixFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if lowerByte(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func hasSuffixFold(s, lower string) bool {
	return len(s) >= len(lower) && hasPrefixFold(s[len(s)-len(lower):], lower)
}

// compileHeaders turns a route's header conditions into headerConds; kong
// compares plain values case-insensitively, as Kong does.
func compileHeaders(hs []HeaderMatch, kong bool) []headerCond {
	out := make([]headerCond, 0, len(hs))
	for _, h := range hs {
		c := headerCond{name: strings.ToLower(h.Name), value: h.Value, fold: kong, prefix: h.Prefix, present: h.Present, invert: h.Invert}
		if h.Regex != "" {
			re, err := regexp.Compile(h.Regex)
			c.re, c.bad = re, err != nil
		}
		out = append(out, c)
	}
	return out
}

// headersHold reports whether every condition holds for r.
func headersHold(cs []headerCond, r *Request) bool {
	for k := range cs {
		if !cs[k].holds(r) {
			return false
		}
	}
	return true
}

func (c *headerCond) holds(r *Request) bool {
	v, ok := r.header(c.name)
	if !ok || v == "" {
		// An absent header fails every condition but "must be absent".
		return c.present && c.invert
	}
	var res bool
	switch {
	case c.bad:
		return false
	case c.re != nil:
		res = c.re.MatchString(v)
	case c.value != "" && c.fold:
		res = strings.EqualFold(v, c.value)
	case c.value != "":
		res = v == c.value
	case c.prefix != "":
		res = strings.HasPrefix(v, c.prefix)
	default:
		res = true // present
	}
	return res != c.invert
}

// header returns a header of r: the pseudo-headers from the request, the
// others from r.Header.
func (r *Request) header(name string) (string, bool) {
	switch name {
	case ":method":
		return r.Method, r.Method != ""
	case ":path":
		return r.Path, r.Path != ""
	case ":authority", "host":
		return r.Host, r.Host != ""
	}
	if r.Header == nil {
		return "", false
	}
	return r.Header(name)
}
