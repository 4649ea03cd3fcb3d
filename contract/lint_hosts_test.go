package contract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLintDiffersOnlyByHeaders: GW011 fires where two routes of the same
// path, hosts and methods differ only by header conditions, and the
// matcher indeed counts both under one of them.
func TestLintDiffersOnlyByHeaders(t *testing.T) {
	off := LintOptions{Disabled: []string{"GW001", "GW002", "GW004", "GW005", "GW007"}}
	up := HeaderMatch{Name: "Upgrade", Present: true}
	cases := []struct {
		name string
		eps  []Endpoint
		want []string
	}{
		{"upgrade", []Endpoint{withHeaders(ep("ws", MatchPrefix, "/"), up), ep("web", MatchPrefix, "/")}, []string{"GW011 web"}},
		{"other path", []Endpoint{withHeaders(ep("ws", MatchPrefix, "/ws"), up), ep("web", MatchPrefix, "/")}, []string{}},
		{"other host", []Endpoint{withHosts(withHeaders(ep("ws", MatchPrefix, "/"), up), "a.example.com"), withHosts(ep("web", MatchPrefix, "/"), "b.example.com")}, []string{}},
		{"other method", []Endpoint{withHeaders(ep("ws", MatchPrefix, "/", "GET"), up), ep("web", MatchPrefix, "/", "POST")}, []string{}},
		{"any method meets GET", []Endpoint{withHeaders(ep("ws", MatchPrefix, "/", "GET"), up), ep("web", MatchPrefix, "/")}, []string{"GW011 web"}},
		{"same headers are GW006", []Endpoint{withHeaders(ep("a", MatchPrefix, "/"), up), withHeaders(ep("b", MatchPrefix, "/"), up)}, []string{"GW006 b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.eps {
				tc.eps[i].Pos = Position{Line: i + 1}
			}
			c := &Contract{Gateway: Envoy, Endpoints: tc.eps}
			fs := Lint(c, off)
			require.Equal(t, tc.want, rulesOf(fs))
			if len(tc.want) > 0 && tc.want[0][:5] == "GW011" {
				require.Contains(t, fs[0].Message, `requests to "ws" are counted as "web"`)
				require.Equal(t, "web", NewMatcher(c).Match("GET", "/").Name)
			}
		})
	}
}

// TestLintKongShadowsWithinCategory: a Kong route with hosts is tried
// before any route without, so a general route without hosts shadows
// nothing that has them; with the same hosts it does.
func TestLintKongShadowsWithinCategory(t *testing.T) {
	off := LintOptions{Disabled: []string{"GW001", "GW002", "GW004", "GW005"}}
	dup := func(name string, hosts ...string) Endpoint {
		e := Endpoint{Name: name, Match: MatchPrefix, Path: "/v1/a", Hosts: hosts}
		return e
	}
	c := &Contract{Gateway: Kong, Endpoints: []Endpoint{
		{Name: "all", Match: MatchRegex, Path: "~/v1/.*", Regex: "^(?:/v1/.*)"},
		dup("hosted", "a.example.com"),
	}}
	require.Equal(t, []string{}, rulesOf(Lint(c, off)))
	require.Equal(t, "hosted", NewMatcher(c).Endpoint(NewMatcher(c).MatchRequest(Request{Method: "GET", Path: "/v1/a", Host: "a.example.com"})).Name)

	c.Endpoints[0].Hosts = []string{"a.example.com"}
	require.Equal(t, []string{"GW007 hosted"}, rulesOf(Lint(c, off)))
}
