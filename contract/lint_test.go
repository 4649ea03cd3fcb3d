package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// good returns an endpoint no rule complains about.
func good(name, path string, line int) Endpoint {
	return Endpoint{
		Name: name, Path: path, Match: MatchExact, Methods: []string{"GET"},
		Timeout:   5 * time.Second,
		RateLimit: &RateLimit{Requests: 10, Period: time.Second},
		Auth:      Auth{Required: true, Kinds: []string{"jwt"}},
		Public:    true,
		Backends:  []Backend{{Hosts: []string{"https://users.example.com"}}},
		Pos:       Position{Line: line, Column: 3},
	}
}

// rulesOf lists "rule endpoint" for each finding.
func rulesOf(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Endpoint)
	}
	return out
}

func TestLintEndpointRules(t *testing.T) {
	cases := []struct {
		name   string
		gw     Kind
		modify func(e *Endpoint)
		want   []string
	}{
		{"clean", KrakenD, func(*Endpoint) {}, []string{}},
		{"api prefix before version", KrakenD, func(e *Endpoint) { e.Path = "/api/v2/users" }, []string{}},
		{"beta version", KrakenD, func(e *Endpoint) { e.Path = "/v1beta1/users" }, []string{}},
		{"no version", KrakenD, func(e *Endpoint) { e.Path = "/users/{id}" }, []string{"GW001 e"}},
		{"version deep down", KrakenD, func(e *Endpoint) { e.Path = "/a/b/v1/users" }, []string{"GW001 e"}},
		{"vague version word", KrakenD, func(e *Endpoint) { e.Path = "/version/users" }, []string{"GW001 e"}},
		{"kong regex path has version", Kong, func(e *Endpoint) {
			e.Match, e.Path, e.Regex = MatchRegex, `~/v1/users/\d+`, `^(?:/v1/users/\d+)`
		}, []string{}},
		{"kong second path unversioned", Kong, func(e *Endpoint) {
			e.Match, e.Path, e.Paths = MatchPrefix, "/v1/a", []string{"/v1/a", "/legacy/a"}
		}, []string{"GW001 e"}},
		{"envoy regex unversioned", Envoy, func(e *Endpoint) { e.Match, e.Regex = MatchRegex, `/users/[0-9]+` }, []string{"GW001 e"}},
		{"no timeout", KrakenD, func(e *Endpoint) { e.Timeout = 0 }, []string{"GW002 e"}},
		{"direct response needs no timeout nor limit", Envoy, func(e *Endpoint) {
			e.Timeout, e.Backends, e.DirectResponse, e.RateLimit = 0, nil, 200, nil
		}, []string{}},
		{"timeout at limit", KrakenD, func(e *Endpoint) { e.Timeout = 30 * time.Second }, []string{}},
		{"timeout above limit", KrakenD, func(e *Endpoint) { e.Timeout = 31 * time.Second }, []string{"GW003 e"}},
		{"public without auth", KrakenD, func(e *Endpoint) { e.Auth = Auth{} }, []string{"GW004 e"}},
		{"internal without auth", KrakenD, func(e *Endpoint) { e.Auth, e.Public = Auth{}, false }, []string{}},
		{"no rate limit", KrakenD, func(e *Endpoint) { e.RateLimit = nil }, []string{"GW005 e"}},
		{"external http", KrakenD, func(e *Endpoint) { e.Backends[0].Hosts = []string{"http://api.example.com:8080"} }, []string{"GW008 e"}},
		{"external http url", Kong, func(e *Endpoint) { e.Backends[0] = Backend{URL: "HTTP://api.example.com/x"} }, []string{"GW008 e"}},
		{"public IP over http", KrakenD, func(e *Endpoint) { e.Backends[0].Hosts = []string{"http://8.8.8.8"} }, []string{"GW008 e"}},
		{"internal http", KrakenD, func(e *Endpoint) {
			e.Backends[0].Hosts = []string{
				"http://users.svc:8080", "http://users.default.svc.cluster.local", "http://localhost:9000",
				"http://users:8080", "http://10.1.2.3", "http://192.168.0.4:80", "http://127.0.0.1",
				"http://[::1]:80", "http://metadata.google.internal", "http://172.16.0.9", "http://[fd00::1]",
				"http://details.bookinfo:9080", "http://db.lan",
			}
		}, []string{}},
		{"external two-letter TLD", Kong, func(e *Endpoint) { e.Backends[0] = Backend{URL: "http://api.example.de/x"} }, []string{"GW008 e"}},
		{"host without scheme is not judged", Envoy, func(e *Endpoint) { e.Backends[0].Hosts = []string{"api.example.com:80"} }, []string{}},
		{"many problems", KrakenD, func(e *Endpoint) {
			e.Path, e.Timeout, e.Auth, e.RateLimit = "/x", 0, Auth{}, nil
		}, []string{"GW001 e", "GW002 e", "GW004 e", "GW005 e"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := good("e", "/v1/users/{id}", 1)
			tc.modify(&e)
			c := &Contract{Gateway: tc.gw, Source: "gw.json", Endpoints: []Endpoint{e}}
			require.Equal(t, tc.want, rulesOf(Lint(c, LintOptions{})))
		})
	}
}

func TestLintKrakenDDefaultHosts(t *testing.T) {
	e := good("e", "/v1/a", 1)
	e.Backends = []Backend{{URL: "/a"}}
	c := &Contract{Gateway: KrakenD, Defaults: Defaults{Hosts: []string{"http://backend.example.org"}}, Endpoints: []Endpoint{e}}
	require.Equal(t, []string{"GW008 e"}, rulesOf(Lint(c, LintOptions{})))
}

func TestLintOptions(t *testing.T) {
	e := good("e", "/users", 1)
	e.Timeout = time.Minute
	c := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{e}}

	fs := Lint(c, LintOptions{})
	require.Equal(t, []string{"GW001 e", "GW003 e"}, rulesOf(fs))
	require.Equal(t, SeverityWarning, fs[0].Severity)

	require.Empty(t, Lint(c, LintOptions{MaxTimeout: 2 * time.Minute, Disabled: []string{"missing-version-prefix"}}))
	require.Equal(t, []string{"GW003 e"}, rulesOf(Lint(c, LintOptions{Disabled: []string{"GW001"}})))

	fs = Lint(c, LintOptions{Severity: map[string]Severity{"GW001": SeverityError, "timeout-too-long": SeverityInfo}})
	require.Equal(t, SeverityError, fs[0].Severity)
	require.Equal(t, SeverityInfo, fs[1].Severity)
	require.True(t, HasErrors(fs))
	require.False(t, HasErrors(Lint(c, LintOptions{})))
}

func TestLintSortedByPosition(t *testing.T) {
	c := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{
		good("third", "/c", 30), good("first", "/a", 10), good("second", "/b", 20),
	}}
	c.Endpoints[0].Timeout = 0
	require.Equal(t, []string{"GW001 first", "GW001 second", "GW001 third", "GW002 third"}, rulesOf(Lint(c, LintOptions{})))
}

func TestLintDuplicates(t *testing.T) {
	mk := func(name, path string, line int, methods ...string) Endpoint {
		e := good(name, path, line)
		e.Methods = methods
		return e
	}
	cases := []struct {
		name string
		gw   Kind
		eps  []Endpoint
		want []string
	}{
		{"same template other param name", KrakenD, []Endpoint{
			mk("a", "/v1/u/{id}", 1, "GET"), mk("b", "/v1/u/{uid}", 2, "GET"),
		}, []string{"GW006 b"}},
		{"other method", KrakenD, []Endpoint{
			mk("a", "/v1/u/{id}", 1, "GET"), mk("b", "/v1/u/{id}", 2, "POST"),
		}, []string{}},
		{"trailing slash differs", KrakenD, []Endpoint{
			mk("a", "/v1/u", 1, "GET"), mk("b", "/v1/u/", 2, "GET"),
		}, []string{}},
		{"method lists overlap", Kong, []Endpoint{
			{Name: "a", Match: MatchPrefix, Path: "/v1/u", Methods: []string{"GET", "POST"}, Pos: Position{Line: 1}},
			{Name: "b", Match: MatchPrefix, Path: "/v1/x", Paths: []string{"/v1/x", "/v1/u"}, Methods: []string{"post"}, Pos: Position{Line: 2}},
		}, []string{"GW006 b"}},
		{"different hosts", Kong, []Endpoint{
			{Name: "a", Match: MatchPrefix, Path: "/v1/u", Hosts: []string{"a.example.com"}, Pos: Position{Line: 1}},
			{Name: "b", Match: MatchPrefix, Path: "/v1/u", Hosts: []string{"b.example.com"}, Pos: Position{Line: 2}},
		}, []string{}},
		{"same regex", Envoy, []Endpoint{
			{Name: "a", Match: MatchRegex, Regex: "/v1/[a-z]+", Pos: Position{Line: 1}},
			{Name: "b", Match: MatchRegex, Regex: "/v1/[a-z]+", Pos: Position{Line: 2}},
		}, []string{"GW006 b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Contract{Gateway: tc.gw, Endpoints: tc.eps}
			got := []string{}
			for _, f := range Lint(c, LintOptions{Disabled: []string{"GW002", "GW004", "GW005", "GW008"}}) {
				got = append(got, f.Rule+" "+f.Endpoint)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestLintParamConflict(t *testing.T) {
	mk := func(name, path, method string) Endpoint {
		return Endpoint{Name: name, Path: path, Match: MatchExact, Methods: []string{method}}
	}
	cases := []struct {
		name string
		eps  []Endpoint
		want []string
	}{
		{"conflict", []Endpoint{mk("a", "/v1/u/{id}", "GET"), mk("b", "/v1/u/{uid}/orders", "GET")}, []string{"GW010 b"}},
		{"other method", []Endpoint{mk("a", "/v1/u/{id}", "GET"), mk("b", "/v1/u/{uid}/orders", "POST")}, []string{}},
		{"same name", []Endpoint{mk("a", "/v1/u/{id}", "GET"), mk("b", "/v1/u/{id}/orders", "GET")}, []string{}},
		{"other prefix", []Endpoint{mk("a", "/v1/u/{id}", "GET"), mk("b", "/v1/x/{uid}", "GET")}, []string{}},
		{"deeper", []Endpoint{mk("a", "/v1/{a}/x/{id}", "GET"), mk("b", "/v1/{a}/x/{uid}/y", "GET")}, []string{"GW010 b"}},
		{"wildcard against parameter", []Endpoint{mk("a", "/v1/u/{id}", "GET"), {Name: "b", Path: "/v1/u/", Match: MatchPrefix, Methods: []string{"GET"}}}, []string{"GW010 b"}},
		{"wildcard beside static", []Endpoint{mk("a", "/v1/u/me", "GET"), {Name: "b", Path: "/v1/u/*", Match: MatchPrefix, Methods: []string{"GET"}}}, []string{}},
		{"duplicate is GW006 only", []Endpoint{mk("a", "/v1/u/{id}", "GET"), mk("b", "/v1/u/{uid}", "GET")}, []string{"GW006 b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.eps {
				tc.eps[i].Pos = Position{Line: i + 1}
			}
			c := &Contract{Gateway: KrakenD, Endpoints: tc.eps}
			got := Lint(c, LintOptions{Disabled: []string{"GW002", "GW004", "GW005"}})
			require.Equal(t, tc.want, rulesOf(got))
		})
	}
	// Other gateways have no such restriction.
	c := &Contract{Gateway: Envoy, Endpoints: []Endpoint{mk("a", "/v1/u/{id}", "GET"), mk("b", "/v1/u/{uid}/orders", "GET")}}
	require.Empty(t, Lint(c, LintOptions{Disabled: []string{"GW002", "GW004", "GW005"}}))
}

func TestLintShadowed(t *testing.T) {
	r := func(name string, m MatchKind, path string, methods ...string) Endpoint {
		e := Endpoint{Name: name, Match: m, Path: path, Methods: methods}
		if m == MatchRegex {
			e.Regex = path
		}
		return e
	}
	cases := []struct {
		name string
		gw   Kind
		eps  []Endpoint
		want []string
	}{
		{"envoy catch-all first", Envoy, []Endpoint{r("all", MatchPrefix, "/"), r("api", MatchPrefix, "/v1/api")}, []string{"GW007 api"}},
		{"envoy catch-all last", Envoy, []Endpoint{r("api", MatchPrefix, "/v1/api"), r("all", MatchPrefix, "/")}, []string{}},
		{"envoy prefix before exact", Envoy, []Endpoint{r("p", MatchPrefix, "/v1/a"), r("x", MatchExact, "/v1/ab")}, []string{"GW007 x"}},
		{"envoy prefix before regex", Envoy, []Endpoint{r("p", MatchPrefix, "/v1/a"), r("x", MatchRegex, `/v1/a/[0-9]+`)}, []string{"GW007 x"}},
		{"envoy prefix before unrelated regex", Envoy, []Endpoint{r("p", MatchPrefix, "/v1/a"), r("x", MatchRegex, `/v1/(a|b)`)}, []string{}},
		{"envoy regex before exact", Envoy, []Endpoint{r("re", MatchRegex, `/v1/[a-z]+`), r("x", MatchExact, "/v1/abc")}, []string{"GW007 x"}},
		{"envoy regex before other exact", Envoy, []Endpoint{r("re", MatchRegex, `/v1/[a-z]+`), r("x", MatchExact, "/v1/a1")}, []string{}},
		{"envoy segment prefix", Envoy, []Endpoint{r("s", MatchSegmentPrefix, "/v1/a"), r("x", MatchPrefix, "/v1/a/b"), r("y", MatchPrefix, "/v1/ab")}, []string{"GW007 x"}},
		{"envoy template before exact", Envoy, []Endpoint{r("t", MatchExact, "/v1/{id}"), r("x", MatchExact, "/v1/me"), r("z", MatchExact, "/v1/")}, []string{"GW007 x"}},
		{"envoy method-limited first", Envoy, []Endpoint{r("g", MatchPrefix, "/", "GET"), r("api", MatchPrefix, "/v1/api")}, []string{}},
		{"envoy method subset", Envoy, []Endpoint{r("g", MatchPrefix, "/", "GET", "POST"), r("api", MatchPrefix, "/v1/api", "POST")}, []string{"GW007 api"}},
		{"envoy headers on first", Envoy, []Endpoint{
			{Name: "h", Match: MatchPrefix, Path: "/", Headers: []HeaderMatch{{Name: "x-canary", Present: true}}},
			r("api", MatchPrefix, "/v1/api"),
		}, []string{}},
		{"envoy other listener", Envoy, []Endpoint{
			{Name: "a", Match: MatchPrefix, Path: "/", Listener: "l80"},
			{Name: "b", Match: MatchPrefix, Path: "/v1/api", Listener: "l443"},
			{Name: "c", Match: MatchPrefix, Path: "/", Listener: "l443"},
		}, []string{}},
		{"envoy host-limited first", Envoy, []Endpoint{
			{Name: "h", Match: MatchPrefix, Path: "/", Hosts: []string{"a.example.com"}},
			r("api", MatchPrefix, "/v1/api"),
		}, []string{}},
		{"kong same prefix, methods subset", Kong, []Endpoint{r("a", MatchPrefix, "/v1/u", "GET", "POST"), r("b", MatchPrefix, "/v1/u", "GET")}, []string{"GW006 b"}},
		{"kong longer prefix is reachable", Kong, []Endpoint{r("a", MatchPrefix, "/v1"), r("b", MatchPrefix, "/v1/u")}, []string{}},
		{"kong shorter later prefix is reachable", Kong, []Endpoint{r("a", MatchPrefix, "/v1/u"), r("b", MatchPrefix, "/v1")}, []string{}},
		{"kong methods route is another group", Kong, []Endpoint{r("a", MatchPrefix, "/v1/u"), r("b", MatchPrefix, "/v1/u", "GET")}, []string{}},
		{"kong regex catches prefix", Kong, []Endpoint{r("b", MatchPrefix, "/v1/u/x"), {Name: "a", Match: MatchRegex, Path: "~/v1/u.*", Regex: `^(?:/v1/u.*)`}}, []string{"GW007 b"}},
		{"kong regex not catching all", Kong, []Endpoint{r("b", MatchPrefix, "/v1/u/x"), {Name: "a", Match: MatchRegex, Path: `~/v1/u/\d+`, Regex: `^(?:/v1/u/\d+)`}}, []string{}},
		{"kong same regex lower priority", Kong, []Endpoint{
			{Name: "a", Match: MatchRegex, Path: "~/v1/x", Regex: "^(?:/v1/x)", Priority: 1, Methods: []string{"GET"}},
			{Name: "b", Match: MatchRegex, Path: "~/v1/x", Regex: "^(?:/v1/x)", Priority: 5, Methods: []string{"GET"}},
		}, []string{"GW006 b"}},
		{"krakend none", KrakenD, []Endpoint{r("w", MatchPrefix, "/v1/*", "GET"), r("x", MatchExact, "/v1/x", "GET")}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.eps {
				tc.eps[i].Pos = Position{Line: i + 1}
			}
			c := &Contract{Gateway: tc.gw, Endpoints: tc.eps}
			got := Lint(c, LintOptions{Disabled: []string{"GW001", "GW002", "GW004", "GW005"}})
			require.Equal(t, tc.want, rulesOf(got))
		})
	}
}

// TestLintShadowedAgreesWithMatcher checks every shadowed finding on random
// Envoy and Kong contracts against the matcher: no request path may reach
// a route reported as shadowed.
func TestLintShadowedAgreesWithMatcher(t *testing.T) {
	r := newTestRand()
	for _, kind := range []Kind{Kong, Envoy} {
		found := 0
		for round := 0; round < 200; round++ {
			c := randContract(r, kind)
			m := NewMatcher(c)
			shadowed := map[string]bool{}
			for _, f := range Lint(c, LintOptions{}) {
				if f.Rule == RuleShadowedRoute.ID {
					shadowed[f.Endpoint] = true
					found++
				}
			}
			for k := 0; k < 300; k++ {
				method := methods[r.IntN(len(methods))]
				if e := m.Match(method, randPath(r)); e != nil {
					require.False(t, shadowed[e.Name], "%s: %s reported unreachable but matched; %+v", kind, e.Name, c.Endpoints)
				}
			}
		}
		t.Logf("%s: %d shadowed routes checked", kind, found)
		require.Greater(t, found, 20, "the random contracts should exercise the rule")
	}
}

func TestLintNotes(t *testing.T) {
	c := &Contract{Source: "envoy.yaml", Notes: []Note{{Pos: Position{Line: 7, Column: 5}, Path: "listeners[0]", Text: "routes come from RDS"}}}
	fs := Lint(c, LintOptions{})
	require.Equal(t, []Finding{{
		Rule: "GW009", Slug: "loader-note", Severity: SeverityInfo, File: "envoy.yaml", Pos: Position{Line: 7, Column: 5},
		Message: "listeners[0]: routes come from RDS",
		Hint:    "check with gatewatch contract show that the endpoints gatewatch derived are what the gateway serves; requests it cannot model count as unmatched",
	}}, fs)
	require.Empty(t, Lint(c, LintOptions{Disabled: []string{"loader-note"}}))
}

func TestWriteFindings(t *testing.T) {
	e := good("users", "/users", 12)
	c := &Contract{Gateway: KrakenD, Source: "krakend.json", Endpoints: []Endpoint{e}}
	fs := Lint(c, LintOptions{})
	var b bytes.Buffer
	require.NoError(t, WriteFindingsText(&b, nil, fs))
	require.Equal(t, `krakend.json:12:3: warning GW001/missing-version-prefix: endpoint "GET users" path "/users" has no version prefix (serve the API under a version segment (/v1/...) so a breaking change can ship as /v2 beside it)`+"\n", b.String())

	b.Reset()
	require.NoError(t, WriteFindingsJSON(&b, nil, fs))
	var back []Finding
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	require.Equal(t, fs, back)
	require.True(t, strings.Contains(b.String(), `"rule": "GW001"`))

	b.Reset()
	fs[0].File = ""
	require.NoError(t, WriteFindingsText(&b, &Contract{Source: "other.json"}, fs))
	require.True(t, strings.HasPrefix(b.String(), "other.json:12:3: warning GW001/"), b.String())

	b.Reset()
	require.NoError(t, WriteFindingsJSON(&b, c, nil))
	require.Equal(t, "[]\n", b.String())
}

func TestParseSeverity(t *testing.T) {
	s, err := ParseSeverity("Warning")
	require.NoError(t, err)
	require.Equal(t, SeverityWarning, s)
	_, err = ParseSeverity("fatal")
	require.EqualError(t, err, `unknown severity "fatal": expected error, warning or info`)
}

func TestRulesAreUnique(t *testing.T) {
	ids, slugs := map[string]bool{}, map[string]bool{}
	for _, r := range Rules {
		require.False(t, ids[r.ID] || slugs[r.Slug], r.ID)
		ids[r.ID], slugs[r.Slug] = true, true
	}
}

func ExampleLint() {
	c := &Contract{Gateway: Envoy, Source: "envoy.yaml", Endpoints: []Endpoint{
		{Name: "all", Match: MatchPrefix, Path: "/", Timeout: 5 * time.Second, Pos: Position{Line: 20, Column: 11}},
		{Name: "orders", Match: MatchPrefix, Path: "/v1/orders", Timeout: 5 * time.Second, Pos: Position{Line: 24, Column: 11}},
	}}
	findings := Lint(c, LintOptions{Disabled: []string{"no-rate-limit"}})
	_ = WriteFindingsText(os.Stdout, c, findings)
	fmt.Println("errors:", HasErrors(findings))
	// Output:
	// envoy.yaml:20:11: warning GW001/missing-version-prefix: endpoint "ANY all" path "/" has no version prefix (serve the API under a version segment (/v1/...) so a breaking change can ship as /v2 beside it)
	// envoy.yaml:24:11: error GW007/shadowed-route: endpoint "ANY orders" can never be reached: endpoint "all" (line 20:11) matches every request it would (move the more specific route before the general one, narrow the general route, or remove the dead one)
	// errors: true
}
