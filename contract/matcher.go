package contract

import (
	"cmp"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// pathSet matches a request's method and path against a set of endpoints
// (all of a contract's, or those of one virtual host or host group). The
// precedence rules follow the contract's gateway:
//
//   - KrakenD (gin's router): a template with {param} segments matches a
//     path with the same number of segments; at each position a static
//     segment beats a parameter, which beats a wildcard ("/x/*"), with
//     backtracking when the more specific branch fails further down. A
//     parameter never matches an empty segment. Trailing slashes are
//     significant: "/users/" does not match "/users" (gin answers such a
//     request with a redirect, not with the endpoint), and "/x" does not
//     match the wildcard "/x/*".
//   - Kong (traditional and traditional_compatible routers): routes that
//     list methods are tried before routes that do not (Kong prefers the
//     route with more matching attributes); within each group regex paths
//     come first, ordered by Priority (regex_priority, higher first), then
//     by the length of the route's longest path, then declaration order;
//     then plain paths as byte prefixes, the longest prefix winning (the
//     first declared among equals). A regex matches from the start of the
//     path. Hosts and headers are compared by Matcher before the paths.
//   - Envoy, and contracts without a gateway: the first route in
//     declaration order whose path match holds (exact, prefix, regex full
//     match, path_separated_prefix) and whose Methods contain the method.
//     Matcher picks the virtual host first and checks header conditions.
//
// Methods are compared case-sensitively with the upper-cased Methods of the
// endpoints; an endpoint without Methods answers any method.
//
// Exact, template and prefix paths are looked up in a segment tree (KrakenD,
// Envoy templates) or a radix tree on bytes (Envoy literal paths, prefixes),
// never by a linear scan; regular expressions are compiled once and filed in the radix tree
// under their literal prefix, so only those whose prefix fits the path run.
// There is one set of trees per method. A pathSet is immutable once built;
// match does not allocate.
type pathSet struct {
	policy   Kind
	byMethod map[string]*table
	// methods and tables mirror byMethod for a lookup without hashing.
	methods []string
	tables  []*table
	// any serves methods no endpoint lists: only endpoints without
	// Methods can answer them.
	any *table
}

// table holds the lookup structures for one request method.
type table struct {
	// KrakenD: templates and wildcards, gin precedence.
	// Envoy: exact paths and templates, lowest route index wins.
	seg *segNode
	// Envoy: prefix and path_separated_prefix routes, and regex routes
	// filed under their literal prefixes.
	pfx     *rnode
	pending []pattern
	// pfxR is pfx laid out flat for lookups.
	pfxR radix
	// KrakenD: routes that are neither exact nor wildcard, tried in order
	// after the tree.
	slow []pattern
	// Kong: one radix tree for both tiers (tier 0: routes listing the
	// method, tier 1: routes without methods). Plain paths are stored in
	// pfx (tier 0) and pfx2 (tier 1), regex paths under their literal
	// prefixes in pats and pats2.
	kong     *rnode
	kongR    radix
	kongPend [2][]pattern
	// segEmpty is true when seg holds no route, to skip the lookup.
	segEmpty bool
}

// newPathSet builds the tables for the endpoints of eps whose indexes are
// in idx, for the gateway policy (KrakenD, Kong or Envoy). The tables keep
// the indexes into eps.
func newPathSet(eps []Endpoint, idx []int32, policy Kind) *pathSet {
	m := &pathSet{policy: policy, byMethod: map[string]*table{}}
	for _, i := range idx {
		for _, meth := range eps[i].Methods {
			meth = strings.ToUpper(meth)
			if m.byMethod[meth] == nil {
				m.byMethod[meth] = newTable()
			}
		}
	}
	m.any = newTable()
	for _, i := range idx {
		e := &eps[i]
		if len(e.Methods) == 0 {
			m.add(m.any, i, e, 1)
			for _, t := range m.byMethod {
				m.add(t, i, e, 1)
			}
			continue
		}
		seen := map[string]bool{}
		for _, meth := range e.Methods {
			meth = strings.ToUpper(meth)
			if seen[meth] {
				continue
			}
			seen[meth] = true
			m.add(m.byMethod[meth], i, e, 0)
		}
	}
	for meth, t := range m.byMethod {
		m.methods = append(m.methods, meth)
		m.tables = append(m.tables, t)
	}
	for _, t := range m.allTables() {
		t.segEmpty = t.seg.empty()
		for tier := range t.kongPend {
			pend := t.kongPend[tier]
			slices.SortStableFunc(pend, func(a, b pattern) int {
				if c := cmp.Compare(b.priority, a.priority); c != 0 {
					return c
				}
				if c := cmp.Compare(len(b.src), len(a.src)); c != 0 {
					return c
				}
				return cmp.Compare(a.ep, b.ep)
			})
			for r := range pend {
				p := pend[r]
				p.rank = int32(r)
				t.kong.insert(p.prefix, func(n *rnode) {
					if tier == 0 {
						n.pats = append(n.pats, p)
					} else {
						n.pats2 = append(n.pats2, p)
					}
				})
			}
			t.kongPend[tier] = nil
		}
		for _, p := range t.pending {
			p.rank = p.ep
			insertPattern(t.pfx, p)
		}
		t.pending = nil
		t.pfxR, t.pfx = freeze(t.pfx), nil
		t.kongR, t.kong = freeze(t.kong), nil
	}
	return m
}

// insertPattern files p under its literal prefix, keeping each node's
// patterns in rank order (they are inserted in that order).
func insertPattern(root *rnode, p pattern) {
	root.insert(p.prefix, func(n *rnode) { n.pats = append(n.pats, p) })
}

func newTable() *table {
	return &table{
		seg:  newSegNode(),
		pfx:  newRNode(""),
		kong: newRNode(""),
	}
}

func (m *pathSet) allTables() []*table {
	ts := []*table{m.any}
	for _, t := range m.byMethod {
		ts = append(ts, t)
	}
	return ts
}

// add inserts endpoint e (index i) into t. tier is 0 when the endpoint lists
// methods, 1 otherwise (used by Kong).
func (m *pathSet) add(t *table, i int32, e *Endpoint, tier int) {
	switch m.policy {
	case KrakenD:
		switch e.Match {
		case MatchExact, "":
			if segs, ok := parseTemplate(e.Path); ok {
				t.seg.insert(segs, i, false)
			}
		case MatchPrefix:
			if segs, ok := parseWildcard(e.Path); ok {
				t.seg.insert(segs, i, true)
			}
		default:
			if p, ok := newPattern(i, e.Match, e.Path, e.Regex, true); ok {
				t.slow = append(t.slow, p)
			}
		}
	case Kong:
		for _, kp := range kongPaths(e) {
			switch kp.kind {
			case MatchPrefix:
				t.kong.insert(kp.path, func(n *rnode) {
					if tier == 0 && n.pfx < 0 {
						n.pfx = i
					}
					if tier == 1 && n.pfx2 < 0 {
						n.pfx2 = i
					}
				})
			default:
				if p, ok := newPattern(i, kp.kind, kp.path, kp.regex, false); ok {
					p.priority = e.Priority
					t.kongPend[tier] = append(t.kongPend[tier], p)
				}
			}
		}
	default:
		switch e.Match {
		case MatchExact, "":
			if !strings.HasPrefix(e.Path, "/") {
				break
			}
			if !strings.Contains(e.Path, "{") {
				// A literal path: one node of the radix tree.
				t.pfx.insert(e.Path, func(n *rnode) {
					if n.ex < 0 {
						n.ex = i
					}
				})
			} else if segs, ok := parseTemplate(e.Path); ok {
				t.seg.insert(segs, i, false)
			}
		case MatchPrefix:
			t.pfx.insert(e.Path, func(n *rnode) {
				if n.pfx < 0 {
					n.pfx = i
				}
			})
		case MatchSegmentPrefix:
			t.pfx.insert(e.Path, func(n *rnode) {
				if n.seg < 0 {
					n.seg = i
				}
			})
		default:
			if p, ok := newPattern(i, e.Match, e.Path, e.Regex, true); ok {
				t.pending = append(t.pending, p)
			}
		}
	}
}

type kongPath struct {
	kind  MatchKind
	path  string
	regex string
}

// kongPaths lists the paths of a Kong route with how each one matches. A
// regex route (the Kong loader combines all of a route's paths into one
// expression in Regex) is one pattern whose length, for ordering, is that
// of its longest path, as Kong's traditional_compatible router does. Plain
// paths are prefixes; in hand-built contracts a path starting with "~" is a
// regular expression.
func kongPaths(e *Endpoint) []kongPath {
	paths := e.Paths
	if len(paths) == 0 {
		paths = []string{e.Path}
	}
	if e.Match == MatchRegex {
		longest := ""
		for _, p := range paths {
			if len(p) > len(longest) {
				longest = p
			}
		}
		re := e.Regex
		if re == "" {
			re = strings.TrimPrefix(e.Path, "~")
		}
		return []kongPath{{kind: MatchRegex, path: longest, regex: re}}
	}
	out := make([]kongPath, 0, len(paths))
	for _, p := range paths {
		switch {
		case strings.HasPrefix(p, "~"):
			out = append(out, kongPath{kind: MatchRegex, path: p, regex: p[1:]})
		case e.Match == MatchExact || e.Match == MatchSegmentPrefix:
			out = append(out, kongPath{kind: e.Match, path: p})
		default:
			out = append(out, kongPath{kind: MatchPrefix, path: p})
		}
	}
	return out
}

// match returns the index of the endpoint for method and path, or -1.
// tiers limits a Kong lookup to routes listing methods (tierMethods),
// routes without (tierAny), or both.
func (m *pathSet) match(method, path string, tiers uint8) int32 {
	t := m.any
	for k, meth := range m.methods {
		if meth == method {
			t = m.tables[k]
			break
		}
	}
	switch m.policy {
	case KrakenD:
		return t.matchKrakenD(path)
	case Kong:
		return t.matchKong(path, tiers)
	}
	return t.matchEnvoy(path)
}

// The two tiers of Kong routes in a table.
const (
	tierMethods uint8 = 1 << iota
	tierAny
	tierBoth = tierMethods | tierAny
)

func (t *table) matchKrakenD(path string) int32 {
	if len(path) > 0 && path[0] == '/' {
		if i := t.seg.lookupFirst(path[1:]); i >= 0 {
			return i
		}
	}
	for k := range t.slow {
		if t.slow[k].match(path) {
			return t.slow[k].ep
		}
	}
	return -1
}

// matchKong walks the Kong tree once. The winner is, in this order: the
// best tier 0 regex, the longest tier 0 prefix, the best tier 1 regex, the
// longest tier 1 prefix. Tier 1 regexes are not run once a tier 0 route
// has matched.
func (t *table) matchKong(path string, tiers uint8) int32 {
	r := &t.kongR
	re0, re0rank, pfx0 := int32(-1), int32(-1), int32(-1)
	re1, re1rank, pfx1 := int32(-1), int32(-1), int32(-1)
	rest := path
	for i := 0; i >= 0 && i < len(r.nodes); {
		n := &r.nodes[i]
		label := r.label(n)
		if !hasPrefix(rest, label) {
			break
		}
		rest = rest[len(label):]
		if n.pfx >= 0 && tiers&tierMethods != 0 {
			pfx0 = n.pfx
		}
		if n.pfx2 >= 0 && tiers&tierAny != 0 {
			pfx1 = n.pfx2
		}
		if n.pats >= 0 && tiers&tierMethods != 0 {
			re0rank, re0 = firstOf(r.pats[n.pats], path, re0rank, re0)
		}
		if n.pats2 >= 0 && re0 < 0 && pfx0 < 0 && tiers&tierAny != 0 {
			re1rank, re1 = firstOf(r.pats[n.pats2], path, re1rank, re1)
		}
		if rest == "" {
			break
		}
		i = r.next(n, rest[0])
	}
	switch {
	case re0 >= 0:
		return re0
	case pfx0 >= 0:
		return pfx0
	case re1 >= 0:
		return re1
	}
	return pfx1
}

// firstOf returns the first of pats (sorted by rank) ranked below best
// (-1: any) that matches path, or best and ep unchanged.
func firstOf(pats []pattern, path string, best, ep int32) (int32, int32) {
	for k := range pats {
		p := &pats[k]
		if best >= 0 && p.rank >= best {
			break
		}
		if p.match(path) {
			return p.rank, p.ep
		}
	}
	return best, ep
}

// hasPrefix is strings.HasPrefix written out for the short labels of the
// radix trees, where a call to the runtime's memequal costs more than the
// comparison.
func hasPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i] != prefix[i] {
			return false
		}
	}
	return true
}

func (t *table) matchEnvoy(path string) int32 {
	best := int32(-1)
	if !t.segEmpty && len(path) > 0 && path[0] == '/' {
		best = t.seg.lookupMin(path[1:], -1)
	}
	return t.pfxR.minimum(path, best)
}

// segKind is the kind of one segment of a path template.
type segKind uint8

const (
	segStatic segKind = iota
	// segPrefixed is a parameter after static text in the same segment
	// ("file{id}"): gin's parameter takes the rest of the segment.
	segPrefixed
	segParam
)

type tseg struct {
	kind segKind
	lit  string
}

// parseTemplate splits a path template into segments. A segment holding
// "{" is a parameter from that point to the end of the segment, as gin
// treats KrakenD's "{name}" after rewriting it to ":name".
func parseTemplate(p string) ([]tseg, bool) {
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	parts := strings.Split(p[1:], "/")
	segs := make([]tseg, len(parts))
	for k, s := range parts {
		switch i := strings.IndexByte(s, '{'); {
		case i < 0:
			segs[k] = tseg{kind: segStatic, lit: s}
		case i == 0:
			segs[k] = tseg{kind: segParam}
		default:
			segs[k] = tseg{kind: segPrefixed, lit: s[:i]}
		}
	}
	return segs, true
}

// parseWildcard returns the segments before the wildcard of a KrakenD
// wildcard endpoint: "/x/*", "/x/*rest", "/x/" and "/x" all give [x].
func parseWildcard(p string) ([]tseg, bool) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 && strings.HasPrefix(p[i+1:], "*") {
		p = p[:i]
	} else {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" {
		return nil, true
	}
	return parseTemplate(p)
}

// segNode is a node of the segment tree: the children are keyed by the
// next segment.
type segNode struct {
	// static children: a short list is scanned, a long one hashed.
	static   map[string]*segNode
	keys     []string
	kids     []*segNode
	prefixed []prefixedChild // longest literal first
	param    *segNode
	// end is the endpoint whose template ends at this node, -1 if none.
	end int32
	// catchAll is the wildcard endpoint ("/this/*") at this node.
	catchAll int32
}

type prefixedChild struct {
	lit  string
	node *segNode
}

func newSegNode() *segNode { return &segNode{end: -1, catchAll: -1} }

func (n *segNode) empty() bool {
	return len(n.keys) == 0 && len(n.prefixed) == 0 && n.param == nil && n.end < 0 && n.catchAll < 0
}

// maxScan is the number of children up to which a linear scan beats a map.
const maxScan = 8

func (n *segNode) staticChild(seg string) *segNode {
	if n.static != nil {
		return n.static[seg]
	}
	for k, key := range n.keys {
		if key == seg {
			return n.kids[k]
		}
	}
	return nil
}

// insert adds a template; the first endpoint inserted for a place keeps it.
func (n *segNode) insert(segs []tseg, i int32, wildcard bool) {
	for _, s := range segs {
		switch s.kind {
		case segStatic:
			c := n.staticChild(s.lit)
			if c == nil {
				c = newSegNode()
				n.keys = append(n.keys, s.lit)
				n.kids = append(n.kids, c)
				if len(n.keys) > maxScan {
					if n.static == nil {
						n.static = map[string]*segNode{}
						for k, key := range n.keys {
							n.static[key] = n.kids[k]
						}
					}
					n.static[s.lit] = c
				}
			}
			n = c
		case segPrefixed:
			k := slices.IndexFunc(n.prefixed, func(pc prefixedChild) bool { return pc.lit == s.lit })
			if k < 0 {
				n.prefixed = append(n.prefixed, prefixedChild{lit: s.lit, node: newSegNode()})
				slices.SortStableFunc(n.prefixed, func(a, b prefixedChild) int { return cmp.Compare(len(b.lit), len(a.lit)) })
				k = slices.IndexFunc(n.prefixed, func(pc prefixedChild) bool { return pc.lit == s.lit })
			}
			n = n.prefixed[k].node
		case segParam:
			if n.param == nil {
				n.param = newSegNode()
			}
			n = n.param
		}
	}
	if wildcard {
		if n.catchAll < 0 {
			n.catchAll = i
		}
		return
	}
	if n.end < 0 {
		n.end = i
	}
}

// lookupFirst matches path (the rest of the request path after a "/") in
// gin's order: static, then parameter after static text, then parameter,
// then wildcard, backtracking when a branch fails.
func (n *segNode) lookupFirst(path string) int32 {
	seg, rest, more := cutSegment(path)
	if c := n.staticChild(seg); c != nil {
		if i := c.nextFirst(rest, more); i >= 0 {
			return i
		}
	}
	for k := range n.prefixed {
		pc := &n.prefixed[k]
		if len(seg) > len(pc.lit) && strings.HasPrefix(seg, pc.lit) {
			if i := pc.node.nextFirst(rest, more); i >= 0 {
				return i
			}
		}
	}
	if n.param != nil && seg != "" {
		if i := n.param.nextFirst(rest, more); i >= 0 {
			return i
		}
	}
	return n.catchAll
}

func (n *segNode) nextFirst(rest string, more bool) int32 {
	if !more {
		return n.end
	}
	return n.lookupFirst(rest)
}

// lookupMin returns the lowest endpoint index among every template matching
// path, or best when none is lower.
func (n *segNode) lookupMin(path string, best int32) int32 {
	seg, rest, more := cutSegment(path)
	if c := n.staticChild(seg); c != nil {
		best = c.nextMin(rest, more, best)
	}
	for k := range n.prefixed {
		pc := &n.prefixed[k]
		if len(seg) > len(pc.lit) && strings.HasPrefix(seg, pc.lit) {
			best = pc.node.nextMin(rest, more, best)
		}
	}
	if n.param != nil && seg != "" {
		best = n.param.nextMin(rest, more, best)
	}
	return lower(best, n.catchAll)
}

func (n *segNode) nextMin(rest string, more bool, best int32) int32 {
	if !more {
		return lower(best, n.end)
	}
	return n.lookupMin(rest, best)
}

// lower returns the lower of two endpoint indexes where -1 means none.
func lower(a, b int32) int32 {
	if a < 0 || (b >= 0 && b < a) {
		return b
	}
	return a
}

func cutSegment(path string) (seg, rest string, more bool) {
	// Segments are short: a plain loop beats IndexByte's call and set-up.
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			return path[:i], path[i+1:], true
		}
	}
	return path, "", false
}

// rnode is a node of a radix tree on the bytes of path prefixes.
type rnode struct {
	label string
	first []byte // first byte of each child's label
	kids  []*rnode
	// pfx is the prefix route ending at this node, -1 if none.
	pfx int32
	// seg is the path_separated_prefix route ending here, -1 if none.
	seg int32
	// pats are the patterns whose literal prefix ends here, by rank.
	pats []pattern
	// pfx2 and pats2 are Kong's second tier (routes without methods).
	pfx2  int32
	pats2 []pattern
	// ex is the exact (literal path) route ending here, -1 if none.
	ex int32
}

func newRNode(label string) *rnode { return &rnode{label: label, pfx: -1, seg: -1, pfx2: -1, ex: -1} }

// insert finds or creates the node for key below n and calls set on it.
func (n *rnode) insert(key string, set func(*rnode)) {
	for key != "" {
		k := slices.Index(n.first, key[0])
		if k < 0 {
			c := newRNode(key)
			n.first = append(n.first, key[0])
			n.kids = append(n.kids, c)
			set(c)
			return
		}
		c := n.kids[k]
		l := commonPrefixLen(key, c.label)
		if l < len(c.label) {
			mid := newRNode(c.label[:l])
			c.label = c.label[l:]
			mid.first = []byte{c.label[0]}
			mid.kids = []*rnode{c}
			n.kids[k] = mid
			c = mid
		}
		key = key[l:]
		n = c
	}
	set(n)
}

func commonPrefixLen(a, b string) int {
	l := min(len(a), len(b))
	for i := 0; i < l; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return l
}

// radix is a radix tree laid out in one slice for lookups: the children of
// a node are consecutive, starting at kids, in the order of first.
type radix struct {
	nodes []rflat
	// text holds every node's label followed by its children's first
	// bytes, in node order, so that a walk reads memory close together.
	text string
	// pats holds the pattern lists the nodes refer to.
	pats [][]pattern
}

type rflat struct {
	// text[lab:lab+labN] is the label; the kidN bytes after it are the
	// first bytes of the children.
	lab  uint32
	labN uint32
	kidN uint32
	kids int32
	pfx  int32
	seg  int32
	pfx2 int32
	ex   int32
	// pats and pats2 index radix.pats, -1 for none.
	pats  int32
	pats2 int32
}

// label returns the node's label.
func (r *radix) label(n *rflat) string {
	return r.text[n.lab : n.lab+n.labN]
}

// next returns the index of n's child whose label starts with b, or -1.
func (r *radix) next(n *rflat, b byte) int {
	first := r.text[n.lab+n.labN : n.lab+n.labN+n.kidN]
	for k := 0; k < len(first); k++ {
		if first[k] == b {
			return int(n.kids) + k
		}
	}
	return -1
}

// freeze lays out the tree below root breadth first.
func freeze(root *rnode) radix {
	if root.empty() {
		return radix{}
	}
	var r radix
	var text []byte
	queue := []*rnode{root}
	r.nodes = append(r.nodes, rflat{})
	for i := 0; i < len(queue); i++ {
		n := queue[i]
		r.nodes[i] = rflat{
			lab: uint32(len(text)), labN: uint32(len(n.label)), kidN: uint32(len(n.kids)),
			kids: int32(len(queue)), pfx: n.pfx, seg: n.seg, pfx2: n.pfx2, ex: n.ex,
			pats: r.addPats(n.pats), pats2: r.addPats(n.pats2),
		}
		text = append(text, n.label...)
		text = append(text, n.first...)
		for _, c := range n.kids {
			queue = append(queue, c)
			r.nodes = append(r.nodes, rflat{})
		}
	}
	r.text = string(text)
	return r
}

func (r *radix) addPats(ps []pattern) int32 {
	if len(ps) == 0 {
		return -1
	}
	r.pats = append(r.pats, ps)
	return int32(len(r.pats) - 1)
}

func (n *rnode) empty() bool {
	return len(n.kids) == 0 && n.pfx < 0 && n.seg < 0 && n.pfx2 < 0 && n.ex < 0 && len(n.pats) == 0 && len(n.pats2) == 0
}

// minimum returns the lowest route index among the exact, prefix,
// path_separated_prefix and pattern routes matching path, or best when none
// is lower. Patterns are only tested when they could beat the best so far.
func (r *radix) minimum(path string, best int32) int32 {
	rest := path
	for i := 0; i >= 0 && i < len(r.nodes); {
		n := &r.nodes[i]
		label := r.label(n)
		if !hasPrefix(rest, label) {
			return best
		}
		rest = rest[len(label):]
		best = lower(best, n.pfx)
		if n.seg >= 0 && (rest == "" || rest[0] == '/') {
			best = lower(best, n.seg)
		}
		if n.pats >= 0 {
			best, _ = firstOf(r.pats[n.pats], path, best, -1)
		}
		if rest == "" {
			return lower(best, n.ex)
		}
		i = r.next(n, rest[0])
	}
	return best
}

// pattern is a route matched by testing it on its own: a regular
// expression, or (for Kong and KrakenD oddities) an exact path or
// segment prefix.
type pattern struct {
	ep int32
	// rank orders patterns: the route index (Envoy) or the place in
	// Kong's regex order.
	rank int32
	// prefix is a literal every path the pattern matches starts with.
	prefix   string
	kind     MatchKind
	src      string
	priority int
	lit      string
	re       *regexp.Regexp
}

// newPattern compiles a route's match. full anchors a regex at both ends
// (Envoy full match); otherwise only at the start (Kong "~" paths).
func newPattern(i int32, kind MatchKind, path, regex string, full bool) (pattern, bool) {
	p := pattern{ep: i, kind: kind, src: path, lit: path}
	switch kind {
	case MatchRegex:
		if regex == "" {
			regex = strings.TrimPrefix(path, "~")
		}
		src := "^(?:" + regex + ")"
		if full {
			src += "$"
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return p, false
		}
		p.re = re
		p.prefix = literalPrefix(regex)
	case MatchExact:
		p.prefix = path
	case MatchPrefix, MatchSegmentPrefix:
		p.prefix = path
	}
	return p, true
}

// literalPrefix returns a literal that every match of expr (matched from
// the start of the text) begins with; "" when there is none. Leading
// anchors and groups are looked through; Go's parser already factors the
// common prefix out of alternations ("/a/x|/a/y" is "/a/(?:x|y)").
func literalPrefix(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	var b strings.Builder
	appendLiteralPrefix(re.Simplify(), &b)
	return b.String()
}

// appendLiteralPrefix writes the literal re starts with and reports whether
// re is that literal entirely, so that what follows it may continue it.
func appendLiteralPrefix(re *syntax.Regexp, b *strings.Builder) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpBeginLine:
		return true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return false
		}
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
		return true
	case syntax.OpCapture:
		return appendLiteralPrefix(re.Sub[0], b)
	case syntax.OpPlus:
		appendLiteralPrefix(re.Sub[0], b)
		return false
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !appendLiteralPrefix(s, b) {
				return false
			}
		}
		return true
	}
	return false
}

func (p *pattern) match(path string) bool {
	switch p.kind {
	case MatchRegex:
		return p.re.MatchString(path)
	case MatchPrefix:
		return strings.HasPrefix(path, p.lit)
	case MatchSegmentPrefix:
		return strings.HasPrefix(path, p.lit) && (len(path) == len(p.lit) || path[len(p.lit)] == '/')
	}
	return path == p.lit
}
