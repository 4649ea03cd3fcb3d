package contract

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ep is a short way to write an endpoint in tests.
func ep(name string, match MatchKind, path string, methods ...string) Endpoint {
	return Endpoint{Name: name, Match: match, Path: path, Methods: methods}
}

func rx(name, regex string, prio int, methods ...string) Endpoint {
	return Endpoint{Name: name, Match: MatchRegex, Path: "~" + regex, Regex: "^(?:" + regex + ")", Priority: prio, Methods: methods}
}

type matchCase struct {
	method, path string
	want         string // endpoint name, "" for unmatched
}

func checkMatches(t *testing.T, c *Contract, cases []matchCase) {
	t.Helper()
	m := NewMatcher(c)
	for _, tc := range cases {
		got := ""
		if e := m.Match(tc.method, tc.path); e != nil {
			got = e.Name
		}
		require.Equal(t, tc.want, got, "%s %s", tc.method, tc.path)
	}
}

func TestMatchKrakenD(t *testing.T) {
	c := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{
		ep("users-id", MatchExact, "/v1/users/{id}", "GET"),
		ep("users-new", MatchExact, "/v1/users/new", "GET"),
		ep("users-post", MatchExact, "/v1/users/{id}", "POST"),
		ep("users-orders", MatchExact, "/v1/users/{id}/orders", "GET"),
		ep("users-me-orders", MatchExact, "/v1/users/me/settings", "GET"),
		ep("files", MatchPrefix, "/v1/files/*", "GET"),
		ep("files-meta", MatchExact, "/v1/files/meta", "GET"),
		ep("slash", MatchExact, "/v1/list/", "GET"),
		ep("root", MatchExact, "/", "GET"),
		ep("json", MatchExact, "/v1/doc/file{name}", "GET"),
		ep("any", MatchExact, "/v1/any"),
		ep("all", MatchPrefix, "/*", "DELETE"),
	}}
	checkMatches(t, c, []matchCase{
		{"GET", "/v1/users/42", "users-id"},
		{"GET", "/v1/users/new", "users-new"},          // static beats param
		{"POST", "/v1/users/new", "users-post"},        // but only in its method's tree
		{"GET", "/v1/users/newer", "users-id"},         // static prefix is not a segment match
		{"GET", "/v1/users/me/orders", "users-orders"}, // backtracks from static "me" to {id}
		{"GET", "/v1/users/me/settings", "users-me-orders"},
		{"GET", "/v1/users/", ""},    // a parameter never matches an empty segment
		{"GET", "/v1/users/42/", ""}, // trailing slash: gin redirects, no endpoint
		{"PUT", "/v1/users/42", ""},  // method must match
		{"GET", "/v1/files/a/b/c", "files"},
		{"GET", "/v1/files/", "files"}, // the wildcard may be empty
		{"GET", "/v1/files", ""},       // but needs its slash
		{"GET", "/v1/files/meta", "files-meta"},
		{"GET", "/v1/files/meta/x", "files"},
		{"GET", "/v1/list/", "slash"},
		{"GET", "/v1/list", ""},
		{"GET", "/", "root"},
		{"GET", "", ""},
		{"GET", "v1/users/42", ""},
		{"GET", "/v1/doc/fileabc", "json"},
		{"GET", "/v1/doc/file", ""},
		{"GET", "/v1/any", "any"},
		{"PATCH", "/v1/any", "any"}, // no methods: any method
		{"patch", "/v1/any", "any"},
		{"DELETE", "/v1/users/42", "all"},
		{"DELETE", "/", "all"},
	})
}

func TestMatchKong(t *testing.T) {
	c := &Contract{Gateway: Kong, Endpoints: []Endpoint{
		ep("api", MatchPrefix, "/api"),
		ep("api-users", MatchPrefix, "/api/users"),
		ep("api-users-dup", MatchPrefix, "/api/users"),
		rx("user-id", `/api/users/\d+$`, 0),
		rx("user-id-high", `/api/users/4\d*$`, 10),
		ep("get-root", MatchPrefix, "/", "GET"),
		{Name: "multi", Match: MatchPrefix, Path: "/m1", Paths: []string{"/m1", "/m2"}},
		{Name: "mixed", Match: MatchRegex, Path: "/m4", Paths: []string{"/m4", `~/m3/\d+`}, Regex: `^(?:/m4|/m3/\d+)`},
		rx("long-regex", `/r/[a-z]+/x`, 0),
		rx("short-regex", `/r/`, 0),
	}}
	checkMatches(t, c, []matchCase{
		{"POST", "/api", "api"},
		{"POST", "/apiv2", "api"},                 // plain paths are byte prefixes
		{"POST", "/api/users/list", "api-users"},  // longest prefix wins; first declared among equals
		{"POST", "/api/users/17", "user-id"},      // regex before any prefix
		{"POST", "/api/users/42", "user-id-high"}, // higher regex_priority first
		{"POST", "/api/users/42/x", "api-users"},  // regex anchored with $
		{"GET", "/api/users/17", "get-root"},      // a route with methods beats one without
		{"POST", "/other", ""},
		{"POST", "/m2/z", "multi"},
		{"POST", "/m3/7", "mixed"},
		{"POST", "/m4/7", "mixed"},
		{"POST", "/x/m3/7", ""},            // regex anchored at the start
		{"POST", "/r/abc/x", "long-regex"}, // same priority: longer regex first
		{"POST", "/r/9", "short-regex"},
	})
}

func TestMatchEnvoy(t *testing.T) {
	c := &Contract{Gateway: Envoy, Endpoints: []Endpoint{
		ep("health", MatchExact, "/healthz"),
		ep("orders-get", MatchPrefix, "/api/orders", "GET"),
		{Name: "orders-regex", Match: MatchRegex, Regex: `/api/orders/[0-9]+`, Path: `/api/orders/[0-9]+`},
		ep("seg", MatchSegmentPrefix, "/svc"),
		ep("catch", MatchPrefix, "/"),
		ep("never", MatchPrefix, "/api"),
		ep("tmpl", MatchExact, "/t/{id}"),
	}}
	checkMatches(t, c, []matchCase{
		{"GET", "/healthz", "health"},
		{"GET", "/healthz/x", "catch"},
		{"GET", "/api/orders/1", "orders-get"},    // first in order wins, not the longest
		{"POST", "/api/orders/1", "orders-regex"}, // method filter skips orders-get
		{"POST", "/api/orders/1x", "catch"},       // regex is a full match
		{"GET", "/svc", "seg"},
		{"GET", "/svc/a", "seg"},
		{"GET", "/svcx", "catch"},
		{"GET", "/api/x", "catch"}, // "/" before "/api" shadows it
		{"GET", "/t/1", "catch"},
		{"GET", "nope", ""},
	})
	// Without the catch-all the later routes are reachable.
	c.Endpoints = slices.Delete(c.Endpoints, 4, 5)
	checkMatches(t, c, []matchCase{
		{"GET", "/api/x", "never"},
		{"GET", "/t/1", "tmpl"},
		{"GET", "/t/", ""},
		{"GET", "/zzz", ""},
	})
}

func TestMatchNoGatewayIsOrdered(t *testing.T) {
	c := &Contract{Endpoints: []Endpoint{ep("a", MatchExact, "/a/{id}"), ep("b", MatchExact, "/a/b")}}
	checkMatches(t, c, []matchCase{{"GET", "/a/b", "a"}, {"GET", "/a/c", "a"}})
}

func TestMatchBadRegexNeverMatches(t *testing.T) {
	c := &Contract{Gateway: Envoy, Endpoints: []Endpoint{
		{Name: "bad", Match: MatchRegex, Regex: `(`},
		ep("ok", MatchPrefix, "/"),
	}}
	checkMatches(t, c, []matchCase{{"GET", "/x", "ok"}})
}

func TestMatchEmpty(t *testing.T) {
	require.Nil(t, NewMatcher(nil).Match("GET", "/"))
	require.Nil(t, NewMatcher(&Contract{Gateway: Kong}).Match("GET", "/"))
}

func TestMatchReturnsContractEndpoint(t *testing.T) {
	c := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{ep("a", MatchExact, "/a", "GET")}}
	require.Same(t, &c.Endpoints[0], NewMatcher(c).Match("GET", "/a"))
}

func TestMatchDoesNotAllocate(t *testing.T) {
	for _, kind := range []Kind{KrakenD, Kong, Envoy} {
		c, paths := benchContract(kind, 1000)
		m := NewMatcher(c)
		allocs := testing.AllocsPerRun(100, func() {
			for _, p := range paths[:50] {
				m.Match(p[0], p[1])
			}
		})
		require.Zero(t, allocs, string(kind))
	}
}

// --- reference implementation: a plain linear scan per gateway ---

func refSegs(p string) ([]string, bool) {
	if !strings.HasPrefix(p, "/") {
		return nil, false
	}
	return strings.Split(p[1:], "/"), true
}

// refRank returns the gin rank of a template segment, or ok=false when it
// does not match the path segment s.
func refRank(t, s string) (rank [2]int, ok bool) {
	i := strings.IndexByte(t, '{')
	switch {
	case i < 0:
		return [2]int{0, 0}, t == s
	case i == 0:
		return [2]int{2, 0}, s != ""
	default:
		return [2]int{1, -i}, len(s) > i && strings.HasPrefix(s, t[:i])
	}
}

func refMethodOK(e *Endpoint, method string) bool {
	if len(e.Methods) == 0 {
		return true
	}
	for _, m := range e.Methods {
		if strings.ToUpper(m) == method {
			return true
		}
	}
	return false
}

func refTemplate(tmpl, path string) bool {
	ts, ok1 := refSegs(tmpl)
	ps, ok2 := refSegs(path)
	if !ok1 || !ok2 || len(ts) != len(ps) {
		return false
	}
	for k := range ts {
		if _, ok := refRank(ts[k], ps[k]); !ok {
			return false
		}
	}
	return true
}

func refKrakenD(c *Contract, method, path string) int {
	ps, ok := refSegs(path)
	if !ok {
		return -1
	}
	best, bestRank := -1, [][2]int(nil)
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		if !refMethodOK(e, method) {
			continue
		}
		tmpl := e.Path
		wild := e.Match == MatchPrefix
		if wild {
			tmpl = strings.TrimSuffix(strings.TrimSuffix(tmpl, "*"), "/")
		}
		var ts []string
		if tmpl != "" {
			if ts, ok = refSegs(tmpl); !ok {
				continue
			}
		}
		if (!wild && len(ts) != len(ps)) || (wild && len(ps) < len(ts)+1) {
			continue
		}
		var rank [][2]int
		match := true
		for k := range ts {
			r, ok := refRank(ts[k], ps[k])
			if !ok {
				match = false
				break
			}
			rank = append(rank, r)
		}
		if !match {
			continue
		}
		if wild {
			rank = append(rank, [2]int{3, 0})
		}
		if best < 0 || slices.CompareFunc(rank, bestRank, func(a, b [2]int) int {
			return slices.Compare(a[:], b[:])
		}) < 0 {
			best, bestRank = i, rank
		}
	}
	return best
}

func refKong(c *Contract, method, path string) int {
	type cand struct{ i, tier, regex, prio, length int }
	var cands []cand
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		if !refMethodOK(e, method) {
			continue
		}
		tier := 1
		if len(e.Methods) > 0 {
			tier = 0
		}
		paths := e.Paths
		if len(paths) == 0 {
			paths = []string{e.Path}
		}
		if e.Match == MatchRegex {
			maxLen := 0
			for _, p := range paths {
				maxLen = max(maxLen, len(p))
			}
			if regexp.MustCompile("^(?:" + e.Regex + ")").MatchString(path) {
				cands = append(cands, cand{i, tier, 0, -e.Priority, -maxLen})
			}
			continue
		}
		for _, p := range paths {
			if strings.HasPrefix(path, p) {
				cands = append(cands, cand{i, tier, 1, 0, -len(p)})
			}
		}
	}
	if len(cands) == 0 {
		return -1
	}
	return slices.MinFunc(cands, func(a, b cand) int {
		return slices.Compare([]int{a.tier, a.regex, a.prio, a.length, a.i}, []int{b.tier, b.regex, b.prio, b.length, b.i})
	}).i
}

func refEnvoy(c *Contract, method, path string) int {
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		if !refMethodOK(e, method) {
			continue
		}
		var ok bool
		switch e.Match {
		case MatchExact:
			ok = refTemplate(e.Path, path)
		case MatchPrefix:
			ok = strings.HasPrefix(path, e.Path)
		case MatchSegmentPrefix:
			ok = path == e.Path || strings.HasPrefix(path, e.Path+"/")
		case MatchRegex:
			ok = regexp.MustCompile("^(?:" + e.Regex + ")$").MatchString(path)
		}
		if ok {
			return i
		}
	}
	return -1
}

func refMatch(c *Contract, method, path string) int {
	switch c.Gateway {
	case KrakenD:
		return refKrakenD(c, method, path)
	case Kong:
		return refKong(c, method, path)
	}
	return refEnvoy(c, method, path)
}

// --- random contracts ---

var (
	tmplSegs = []string{"v1", "users", "a", "b", "{id}", "{name}", "x{id}", "xy{id}", ""}
	pathSegs = []string{"v1", "users", "a", "b", "42", "x", "x1", "xy", "xy9", "", "users2"}
	methods  = []string{"GET", "POST", "DELETE"}
	regexes  = []string{`/a/[0-9]+`, `/v1/.*`, `/users/(a|b)`, `/x[0-9]*`, `/a`, `/[a-z]+/b`}
)

func randTemplate(r *rand.Rand) string {
	n := 1 + r.IntN(4)
	parts := make([]string, n)
	for k := range parts {
		parts[k] = tmplSegs[r.IntN(len(tmplSegs))]
	}
	return "/" + strings.Join(parts, "/")
}

func randMethods(r *rand.Rand) []string {
	var ms []string
	for _, m := range methods {
		if r.IntN(3) == 0 {
			ms = append(ms, m)
		}
	}
	return ms
}

func randContract(r *rand.Rand, kind Kind) *Contract {
	c := &Contract{Gateway: kind}
	n := 1 + r.IntN(25)
	for i := 0; i < n; i++ {
		e := Endpoint{Name: fmt.Sprint("e", i), Methods: randMethods(r)}
		switch kind {
		case KrakenD:
			e.Match, e.Path = MatchExact, randTemplate(r)
			if r.IntN(5) == 0 {
				e.Match = MatchPrefix
				e.Path = strings.TrimSuffix(e.Path, "/") + "/*"
				if r.IntN(4) == 0 {
					e.Path = "/*"
				}
			}
		case Kong:
			var alts []string
			regex := false
			for k := 0; k < 1+r.IntN(2); k++ {
				if r.IntN(3) == 0 {
					re := regexes[r.IntN(len(regexes))]
					e.Paths = append(e.Paths, "~"+re)
					alts = append(alts, re)
					regex = true
				} else {
					p := strings.ReplaceAll(randTemplate(r), "{id}", "4")
					p = p[:r.IntN(len(p)+1)]
					e.Paths = append(e.Paths, p)
					alts = append(alts, regexp.QuoteMeta(p))
				}
			}
			// As the Kong loader writes them.
			e.Path, e.Match = e.Paths[0], MatchPrefix
			if regex {
				e.Match, e.Regex = MatchRegex, "^(?:"+strings.Join(alts, "|")+")"
			}
			if len(e.Paths) == 1 {
				e.Paths = nil
			}
			e.Priority = r.IntN(3)
		default:
			switch r.IntN(4) {
			case 0:
				e.Match, e.Path = MatchExact, randTemplate(r)
			case 1:
				p := randTemplate(r)
				e.Match, e.Path = MatchPrefix, strings.ReplaceAll(p, "{id}", "42")[:r.IntN(len(p)/2+1)]
			case 2:
				e.Match, e.Path = MatchSegmentPrefix, strings.TrimRight(strings.ReplaceAll(randTemplate(r), "{", ""), "/")
			case 3:
				e.Match, e.Regex = MatchRegex, regexes[r.IntN(len(regexes))]
				e.Path = e.Regex
			}
		}
		c.Endpoints = append(c.Endpoints, e)
	}
	return c
}

func randPath(r *rand.Rand) string {
	n := 1 + r.IntN(5)
	parts := make([]string, n)
	for k := range parts {
		parts[k] = pathSegs[r.IntN(len(pathSegs))]
	}
	return "/" + strings.Join(parts, "/")
}

func TestMatchAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, kind := range []Kind{KrakenD, Kong, Envoy} {
		for round := 0; round < 300; round++ {
			c := randContract(r, kind)
			m := NewMatcher(c)
			for k := 0; k < 60; k++ {
				method := methods[r.IntN(len(methods))]
				if r.IntN(10) == 0 {
					method = "PATCH"
				}
				path := randPath(r)
				want := refMatch(c, method, path)
				got := -1
				if e := m.Match(method, path); e != nil {
					for i := range c.Endpoints {
						if &c.Endpoints[i] == e {
							got = i
						}
					}
				}
				require.Equal(t, want, got, "%s: %s %s in %+v", kind, method, path, c.Endpoints)
			}
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("GET", "/v1/users/42")
	f.Add("POST", "/")
	f.Add("DELETE", "")
	f.Add("GET", "//a//b/")
	f.Add("GET", "/v1/users/x1/a/b")
	f.Add("\x00", "/\xff/{id}")
	r := rand.New(rand.NewPCG(7, 9))
	contracts := []*Contract{randContract(r, KrakenD), randContract(r, Kong), randContract(r, Envoy)}
	matchers := make([]*Matcher, len(contracts))
	for k, c := range contracts {
		matchers[k] = NewMatcher(c)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		for k, m := range matchers {
			got := -1
			if e := m.Match(method, path); e != nil {
				for i := range contracts[k].Endpoints {
					if &contracts[k].Endpoints[i] == e {
						got = i
					}
				}
				require.GreaterOrEqual(t, got, 0, "returned endpoint not from the contract")
			}
			require.Equal(t, refMatch(contracts[k], method, path), got)
		}
	})
}

// --- benchmarks ---

// benchContract generates a contract of n endpoints in the style of kind
// and request paths that hit it.
func benchContract(kind Kind, n int) (*Contract, [][2]string) {
	r := rand.New(rand.NewPCG(42, uint64(n)))
	c := &Contract{Gateway: kind}
	var paths [][2]string
	for i := 0; i < n; i++ {
		svc := fmt.Sprintf("svc%03d", i/10)
		method := methods[i%len(methods)]
		var e Endpoint
		var path string
		switch kind {
		case KrakenD:
			switch i % 5 {
			case 0, 1:
				e = ep("", MatchExact, fmt.Sprintf("/v1/%s/items%d", svc, i), method)
				path = e.Path
			case 2, 3:
				e = ep("", MatchExact, fmt.Sprintf("/v1/%s/{id}/sub%d/{sub}", svc, i), method)
				path = fmt.Sprintf("/v1/%s/%d/sub%d/abc", svc, r.IntN(1e6), i)
			case 4:
				e = ep("", MatchPrefix, fmt.Sprintf("/v1/%s/files%d/*", svc, i), method)
				path = fmt.Sprintf("/v1/%s/files%d/a/b/c.txt", svc, i)
			}
		case Kong:
			switch i % 10 {
			case 0:
				e = rx("", fmt.Sprintf(`/v1/%s/r%d/\d+$`, svc, i), i%3)
				path = fmt.Sprintf("/v1/%s/r%d/123", svc, i)
			default:
				e = ep("", MatchPrefix, fmt.Sprintf("/v1/%s/p%d", svc, i))
				if i%2 == 0 {
					e.Methods = []string{method}
				}
				path = e.Path + "/deeper/path"
			}
		default:
			switch i % 10 {
			case 0:
				e = Endpoint{Match: MatchRegex, Regex: fmt.Sprintf(`/v1/%s/r%d/[0-9]+`, svc, i)}
				path = fmt.Sprintf("/v1/%s/r%d/123", svc, i)
			case 1, 2:
				e = ep("", MatchExact, fmt.Sprintf("/v1/%s/exact%d", svc, i), method)
				path = e.Path
			case 3:
				e = ep("", MatchSegmentPrefix, fmt.Sprintf("/v1/%s/seg%d", svc, i))
				path = e.Path + "/x"
			default:
				e = ep("", MatchPrefix, fmt.Sprintf("/v1/%s/p%d/", svc, i))
				path = e.Path + "deeper"
			}
		}
		e.Name = fmt.Sprint("ep", i)
		c.Endpoints = append(c.Endpoints, e)
		if method == "" || len(e.Methods) == 0 {
			method = "GET"
		}
		paths = append(paths, [2]string{method, path})
	}
	if kind == Envoy {
		// A catch-all at the end, as most Envoy configs have.
		c.Endpoints = append(c.Endpoints, ep("fallback", MatchPrefix, "/"))
	}
	r.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	return c, paths
}

func benchMatch(b *testing.B, kind Kind) {
	c, paths := benchContract(kind, 1000)
	m := NewMatcher(c)
	for _, p := range paths {
		if e := m.Match(p[0], p[1]); e == nil || e.Name == "fallback" {
			b.Fatalf("%s %s: no hit", p[0], p[1])
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := paths[i%len(paths)]
		m.Match(p[0], p[1])
	}
}

func BenchmarkMatchKrakenD(b *testing.B) { benchMatch(b, KrakenD) }
func BenchmarkMatchKong(b *testing.B)    { benchMatch(b, Kong) }
func BenchmarkMatchEnvoy(b *testing.B)   { benchMatch(b, Envoy) }

func BenchmarkMatchMiss(b *testing.B) {
	c, _ := benchContract(KrakenD, 1000)
	m := NewMatcher(c)
	b.ReportAllocs()
	for b.Loop() {
		m.Match("GET", "/v1/svc050/nothing/here")
	}
}

func TestLiteralPrefix(t *testing.T) {
	for _, tc := range []struct{ re, want string }{
		{`/v1/users/\d+`, "/v1/users/"},
		{`^(?:/m4|/m3/\d+)`, "/m"},
		{`^(?:/api/(?P<id>x)y)`, "/api/xy"},
		{`(?i)/abc`, ""},
		{`/a|/b`, "/"},
		{`.*`, ""},
		{`(`, ""},
		{`/a$`, "/a"},
		{`/é/x+`, "/é/x"},
	} {
		require.Equal(t, tc.want, literalPrefix(tc.re), tc.re)
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

// TestMatchLargeContractAgreesWithReference covers wide nodes (hashed
// children) and deep radix trees that the small random contracts do not.
func TestMatchLargeContractAgreesWithReference(t *testing.T) {
	r := newTestRand()
	for _, kind := range []Kind{KrakenD, Kong, Envoy} {
		c, paths := benchContract(kind, 1000)
		m := NewMatcher(c)
		for k := 0; k < 80; k++ {
			p := paths[r.IntN(len(paths))]
			path := p[1]
			switch r.IntN(4) {
			case 0: // cut short
				path = path[:r.IntN(len(path)+1)]
			case 1: // one more segment
				path += "/x"
			}
			for _, method := range []string{p[0], "GET", "PUT"} {
				got := -1
				if e := m.Match(method, path); e != nil {
					got = slices.IndexFunc(c.Endpoints, func(x Endpoint) bool { return x.Name == e.Name })
				}
				require.Equal(t, refMatch(c, method, path), got, "%s: %s %s", kind, method, path)
			}
		}
	}
}

func TestMatchConcurrent(t *testing.T) {
	c, paths := benchContract(Kong, 200)
	m := NewMatcher(c)
	want := make([]*Endpoint, len(paths))
	for i, p := range paths {
		want[i] = m.Match(p[0], p[1])
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, p := range paths {
				if m.Match(p[0], p[1]) != want[i] {
					t.Errorf("%s %s: different answer under concurrency", p[0], p[1])
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
