package contract

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type reqCase struct {
	method, host, path string
	header             map[string]string // nil: the log carries no header
	want               string            // endpoint name, "" for unmatched
}

func checkRequests(t *testing.T, c *Contract, cases []reqCase) {
	t.Helper()
	m := NewMatcher(c)
	for _, tc := range cases {
		r := Request{Method: tc.method, Path: tc.path, Host: tc.host}
		if tc.header != nil {
			r.Header = func(name string) (string, bool) { v, ok := tc.header[name]; return v, ok }
		}
		got := ""
		if i := m.MatchRequest(r); i >= 0 {
			got = c.Endpoints[i].Name
		}
		require.Equal(t, tc.want, got, "%s %s %s %v", tc.method, tc.host, tc.path, tc.header)
	}
}

func withHosts(e Endpoint, hosts ...string) Endpoint {
	e.Hosts = hosts
	return e
}

func withHeaders(e Endpoint, hs ...HeaderMatch) Endpoint {
	e.Headers = hs
	return e
}

func TestMatchEnvoyVirtualHosts(t *testing.T) {
	c := &Contract{Gateway: Envoy, Endpoints: []Endpoint{
		withHosts(ep("any", MatchPrefix, "/"), "*"),
		withHosts(ep("prefix-short", MatchPrefix, "/"), "api.*"),
		withHosts(ep("prefix-long", MatchPrefix, "/"), "api.example.*"),
		withHosts(ep("suffix-short", MatchPrefix, "/"), "*.com"),
		withHosts(ep("suffix-long", MatchPrefix, "/"), "*.example.com", "*-bar.example.com"),
		withHosts(ep("exact-api", MatchPrefix, "/api/"), "www.example.com", "www.example.com:*"),
		withHosts(ep("exact-root", MatchExact, "/"), "www.example.com", "www.example.com:*"),
	}}
	checkRequests(t, c, []reqCase{
		{"GET", "www.example.com", "/api/x", nil, "exact-api"},
		{"GET", "WWW.Example.COM", "/api/x", nil, "exact-api"},  // case-insensitive
		{"GET", "www.example.com:8443", "/", nil, "exact-root"}, // "www.example.com:*"
		{"GET", "www.example.com", "/other", nil, ""},           // the virtual host has no such route
		{"GET", "a.example.com", "/other", nil, "suffix-long"},  // longest suffix first
		{"GET", "baz-bar.example.com", "/", nil, "suffix-long"}, // "*-bar" form
		{"GET", "shop.com", "/", nil, "suffix-short"},           // suffix before prefix
		{"GET", ".com", "/", nil, "any"},                        // a wildcard never matches an empty part
		{"GET", "api.example.org", "/", nil, "prefix-long"},     // longest prefix
		{"GET", "api.other", "/", nil, "prefix-short"},          //
		{"GET", "api.example.com", "/", nil, "suffix-long"},     // suffix wildcards come before prefix ones
		{"GET", "elsewhere", "/", nil, "any"},                   // "*"
		{"GET", "", "/api/x", nil, "any"},                       // no host: path only, first route
		{"GET", "www.example.com", "/api/x", map[string]string{}, "exact-api"},
	})
	// Without a "*" virtual host an unknown host is unmatched.
	c2 := &Contract{Gateway: Envoy, Endpoints: []Endpoint{withHosts(ep("a", MatchPrefix, "/"), "a.example.com")}}
	checkRequests(t, c2, []reqCase{
		{"GET", "b.example.com", "/", nil, ""},
		{"GET", "a.example.com", "/", nil, "a"},
		{"GET", "", "/", nil, "a"},
	})
	require.True(t, NewMatcher(c2).HostsMatter())
	require.False(t, NewMatcher(&Contract{Gateway: Envoy, Endpoints: []Endpoint{withHosts(ep("a", MatchPrefix, "/"), "*")}}).HostsMatter())
}

func TestMatchEnvoyHeaders(t *testing.T) {
	c := &Contract{Gateway: Envoy, Endpoints: []Endpoint{
		withHeaders(ep("upgrade", MatchPrefix, "/"), HeaderMatch{Name: "upgrade", Present: true}),
		withHeaders(ep("canary", MatchPrefix, "/api/"), HeaderMatch{Name: "x-canary", Value: "1"}),
		withHeaders(ep("not-v2", MatchPrefix, "/api/"), HeaderMatch{Name: "x-version", Value: "2", Invert: true}),
		withHeaders(ep("options", MatchPrefix, "/api/"), HeaderMatch{Name: ":method", Regex: "^(?:OPT.*)$"}),
		withHeaders(ep("no-auth", MatchPrefix, "/api/"), HeaderMatch{Name: "authorization", Present: true, Invert: true}),
		ep("api", MatchPrefix, "/api/"),
		ep("root", MatchPrefix, "/"),
	}}
	checkRequests(t, c, []reqCase{
		{"GET", "", "/x", nil, "root"}, // the log carries no upgrade header: taken as absent
		{"GET", "", "/x", map[string]string{"upgrade": "websocket"}, "upgrade"},
		{"GET", "", "/api/a", map[string]string{"x-canary": "1"}, "canary"},
		{"GET", "", "/api/a", map[string]string{"x-canary": "2", "x-version": "3"}, "not-v2"},
		{"GET", "", "/api/a", map[string]string{"x-version": "2", "authorization": "Bearer x"}, "api"},
		{"OPTIONS", "", "/api/a", map[string]string{"x-version": "2", "authorization": "Bearer x"}, "options"},
		{"GET", "", "/api/a", map[string]string{"x-version": "2"}, "no-auth"}, // absent: "must be absent" holds
		{"GET", "", "/api/a", nil, "no-auth"},
	})
}

func TestMatchKongHostsAndHeaders(t *testing.T) {
	c := &Contract{Gateway: Kong, Endpoints: []Endpoint{
		ep("plain-long", MatchPrefix, "/api/users"),
		withHosts(ep("host", MatchPrefix, "/"), "api.example.com"),
		withHosts(ep("wild", MatchPrefix, "/"), "*.example.com"),
		withHosts(ep("wild-right", MatchPrefix, "/"), "shop.*"),
		withHosts(ep("port", MatchPrefix, "/"), "ported.example.com:8443"),
		withHeaders(ep("header", MatchPrefix, "/api"), HeaderMatch{Name: "X-Version", Value: "v2"}),
		ep("methods", MatchPrefix, "/api", "GET"),
		withHosts(ep("host-methods", MatchPrefix, "/", "DELETE"), "*.example.com"),
	}}
	checkRequests(t, c, []reqCase{
		{"GET", "api.example.com", "/api/users/1", nil, "host"},                        // hosts before paths
		{"GET", "api.example.com:8000", "/api/users/1", nil, "host"},                   // the port is ignored
		{"GET", "API.example.com", "/", nil, "host"},                                   // case-insensitive
		{"GET", "b.example.com", "/", nil, "wild"},                                     // exact hosts before wildcards
		{"DELETE", "b.example.com", "/", nil, "host-methods"},                          // hosts and methods: more attributes
		{"GET", "shop.de", "/", nil, "wild-right"},                                     //
		{"GET", "ported.example.com:8443", "/", nil, "port"},                           // a host with a port compares the port
		{"GET", "ported.example.com", "/", nil, "wild"},                                //
		{"GET", "other.org", "/api/users/1", nil, "methods"},                           // methods: one attribute, as a host
		{"GET", "other.org", "/api/x", map[string]string{"x-version": "V2"}, "header"}, // headers before methods, value case-insensitive
		{"POST", "other.org", "/api/users/1", nil, "plain-long"},                       //
		{"POST", "other.org", "/nothing", nil, ""},                                     //
		{"GET", "", "/api/users/1", nil, "methods"},                                    // no host: hosts ignored, path decides in its tier
		{"POST", "", "/api/users/1", nil, "plain-long"},                                //
		{"POST", "", "/x", nil, "host"},                                                // hosts ignored: the first "/" route
	})
	require.True(t, NewMatcher(c).HostsMatter())
}

// TestMatchAllRoutesTakePart checks that a contract whose every route has
// header conditions still matches (no route is lost to an empty set).
func TestMatchAllRoutesTakePart(t *testing.T) {
	c := &Contract{Gateway: Envoy, Endpoints: []Endpoint{
		withHeaders(ep("a", MatchPrefix, "/"), HeaderMatch{Name: "x", Present: true}),
	}}
	checkRequests(t, c, []reqCase{
		{"GET", "", "/", nil, ""},
		{"GET", "", "/", map[string]string{"x": "1"}, "a"},
	})
}

// refVhost is a plain reading of Envoy's domain order: every virtual host's
// domains classified and compared, no index.
func refVhost(c *Contract, host string) []int {
	host = strings.ToLower(host)
	type cand struct {
		rank, length, first int
		domains             string
	}
	var best *cand
	byDomains := map[string][]int{}
	for i := range c.Endpoints {
		d := sortedLower(c.Endpoints[i].Hosts)
		if len(d) == 0 {
			d = []string{"*"}
		}
		key := strings.Join(d, "\n")
		byDomains[key] = append(byDomains[key], i)
		for _, dom := range d {
			cd := cand{first: byDomains[key][0], domains: key}
			switch {
			case dom == "*":
				cd.rank = 3
			case strings.HasPrefix(dom, "*"):
				if len(host) <= len(dom)-1 || !strings.HasSuffix(host, dom[1:]) {
					continue
				}
				cd.rank, cd.length = 1, len(dom)
			case strings.HasSuffix(dom, "*"):
				if len(host) <= len(dom)-1 || !strings.HasPrefix(host, dom[:len(dom)-1]) {
					continue
				}
				cd.rank, cd.length = 2, len(dom)
			default:
				if dom != host {
					continue
				}
			}
			if best == nil || cd.rank < best.rank || (cd.rank == best.rank && (cd.length > best.length || (cd.length == best.length && cd.first < best.first))) {
				best = &cd
			}
		}
	}
	if best == nil {
		return nil
	}
	return byDomains[best.domains]
}

func TestMatchEnvoyHostsAgreeWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	domains := []string{"a.example.com", "*.example.com", "*e.com", "a.*", "a.example.*", "*", "b.example.com"}
	hosts := []string{"a.example.com", "b.example.com", "c.example.com", "A.EXAMPLE.COM", "a.org", "e.com", "xe.com", "other"}
	for round := 0; round < 200; round++ {
		c := randContract(r, Envoy)
		// Consecutive routes share a virtual host, as in a configuration.
		var vh []string
		for i := range c.Endpoints {
			if i == 0 || r.IntN(4) == 0 {
				vh = nil
				for _, d := range domains {
					if r.IntN(4) == 0 {
						vh = append(vh, d)
					}
				}
			}
			c.Endpoints[i].Hosts = vh
		}
		m := NewMatcher(c)
		for k := 0; k < 40; k++ {
			method, path, host := methods[r.IntN(len(methods))], randPath(r), hosts[r.IntN(len(hosts))]
			want := -1
			if !m.HostsMatter() {
				want = refEnvoy(c, method, path)
			} else if members := refVhost(c, host); members != nil {
				sub := &Contract{Gateway: Envoy}
				for _, i := range members {
					sub.Endpoints = append(sub.Endpoints, c.Endpoints[i])
				}
				if j := refEnvoy(sub, method, path); j >= 0 {
					want = members[j]
				}
			}
			got := m.MatchRequest(Request{Method: method, Path: path, Host: host})
			require.Equal(t, want, got, "%s %s %s in %+v", method, host, path, c.Endpoints)
		}
	}
}

// hostContract spreads benchContract's endpoints over ten hosts (ten
// virtual hosts for Envoy) and gives each request its endpoint's host.
func hostContract(kind Kind, n int) (*Contract, []Request) {
	c, paths := benchContract(kind, n)
	host := func(i int) string { return fmt.Sprintf("svc%d.example.com", i%10) }
	if kind == Envoy {
		// Envoy routes are grouped by virtual host in order.
		slices.SortStableFunc(c.Endpoints[:n], func(a, b Endpoint) int {
			return strings.Compare(host(nameNum(a.Name)), host(nameNum(b.Name)))
		})
	}
	byName := map[string]int{}
	for i := range c.Endpoints {
		e := &c.Endpoints[i]
		byName[e.Name] = i
		if e.Name == "fallback" {
			e.Hosts = []string{"*"}
			continue
		}
		e.Hosts = []string{host(nameNum(e.Name)), host(nameNum(e.Name)) + ":*"}
		if kind == Kong {
			e.Hosts = []string{host(nameNum(e.Name))}
		}
	}
	reqs := make([]Request, len(paths))
	for k, p := range paths {
		reqs[k] = Request{Method: p[0], Path: p[1]}
	}
	// The request of endpoint i is paths' entry for it: find it by
	// matching path-only in a contract without hosts.
	plain, _ := benchContract(kind, n)
	pm := NewMatcher(plain)
	for k := range reqs {
		e := pm.Match(reqs[k].Method, reqs[k].Path)
		reqs[k].Host = host(nameNum(e.Name))
	}
	return c, reqs
}

func nameNum(name string) int {
	var n int
	fmt.Sscanf(name, "ep%d", &n)
	return n
}

func TestMatchHostsDoesNotAllocate(t *testing.T) {
	for _, kind := range []Kind{Kong, Envoy} {
		c, reqs := hostContract(kind, 1000)
		m := NewMatcher(c)
		for _, r := range reqs[:50] {
			i := m.MatchRequest(r)
			require.GreaterOrEqual(t, i, 0, "%s %+v", kind, r)
			require.Equal(t, r.Host, strings.TrimSuffix(c.Endpoints[i].Hosts[0], ":*"), "%s %+v", kind, r)
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, r := range reqs[:50] {
				m.MatchRequest(r)
			}
			m.MatchRequest(Request{Method: "GET", Path: "/", Host: "SVC1.EXAMPLE.COM"})
		})
		require.Zero(t, allocs, string(kind))
	}
}

func benchHosts(b *testing.B, kind Kind) {
	c, reqs := hostContract(kind, 1000)
	m := NewMatcher(c)
	for _, r := range reqs {
		if i := m.MatchRequest(r); i < 0 || c.Endpoints[i].Name == "fallback" {
			b.Fatalf("%+v: no hit", r)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		m.MatchRequest(reqs[i%len(reqs)])
	}
}

func BenchmarkMatchKongHosts(b *testing.B)  { benchHosts(b, Kong) }
func BenchmarkMatchEnvoyHosts(b *testing.B) { benchHosts(b, Envoy) }

// FuzzMatchRequest checks, for any method, host and path, that the host
// matcher agrees with the plain reading of Envoy's domain order and never
// returns an index outside the contract (Kong).
func FuzzMatchRequest(f *testing.F) {
	f.Add("GET", "a.example.com", "/v1/users/42")
	f.Add("POST", "A.EXAMPLE.COM:8443", "/")
	f.Add("GET", "", "/a")
	f.Add("GET", ".com", "//x")
	f.Add("GET", "[::1]:80", "/users/x1")
	r := rand.New(rand.NewPCG(11, 12))
	domains := []string{"a.example.com", "*.example.com", "*e.com", "a.*", "*", "b.example.com:*"}
	var envoy []*Contract
	for k := 0; k < 4; k++ {
		c := randContract(r, Envoy)
		for i := range c.Endpoints {
			c.Endpoints[i].Hosts = []string{domains[(i+k)%len(domains)], domains[(i*k+1)%len(domains)]}
		}
		envoy = append(envoy, c)
	}
	kong := randContract(r, Kong)
	for i := range kong.Endpoints {
		if i%2 == 0 {
			kong.Endpoints[i].Hosts = []string{domains[i%len(domains)]}
		}
	}
	km := NewMatcher(kong)
	ems := make([]*Matcher, len(envoy))
	for k, c := range envoy {
		ems[k] = NewMatcher(c)
	}
	f.Fuzz(func(t *testing.T, method, host, path string) {
		req := Request{Method: method, Path: path, Host: host}
		i := km.MatchRequest(req)
		require.True(t, i >= -1 && i < len(kong.Endpoints))
		for k, c := range envoy {
			want := -1
			if host == "" {
				want = refEnvoy(c, method, path)
			} else if members := refVhost(c, host); members != nil {
				sub := &Contract{Gateway: Envoy}
				for _, j := range members {
					sub.Endpoints = append(sub.Endpoints, c.Endpoints[j])
				}
				if j := refEnvoy(sub, method, path); j >= 0 {
					want = members[j]
				}
			}
			require.Equal(t, want, ems[k].MatchRequest(req), "%q %q %q", method, host, path)
		}
	})
}
