package contract

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		want bool
	}{
		{"/v1/*", "/v1/users/{id}", true},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"/v1/pay*s", "/v1/payments", true},
		{"/v1/pay*s", "/v1/paymentx", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"/v1/paymnts/*", "/v1/payments/{id}", false},
		{"**", "abc", true},
	} {
		require.Equal(t, tc.want, Glob(tc.p, tc.n), "%q %q", tc.p, tc.n)
	}
}

func TestLintExceptionsAndSeverity(t *testing.T) {
	c := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{
		{Name: "/v1/login", Path: "/v1/login", Match: MatchExact, Public: true, Timeout: 1e9},
		{Name: "/v1/public/docs", Path: "/v1/public/docs", Match: MatchExact, Public: true, Timeout: 1e9},
		{Name: "/v1/users", Path: "/v1/users", Match: MatchExact, Public: true, Timeout: 1e9},
	}}
	opts := LintOptions{Disabled: []string{"GW005"}}
	require.Equal(t, []string{"GW004 /v1/login", "GW004 /v1/public/docs", "GW004 /v1/users"}, rulesOf(Lint(c, opts)))

	opts.Exceptions = []Exception{{Rule: "GW004", Endpoints: []string{"/v1/login"}}, {Rule: "public-without-auth", Endpoints: []string{"/v1/public/*"}}}
	require.Equal(t, []string{"GW004 /v1/users"}, rulesOf(Lint(c, opts)))

	opts.Severity = map[string]Severity{"gw004": SeverityError}
	fs := Lint(c, opts)
	require.Equal(t, SeverityError, fs[0].Severity, "rule IDs are case-insensitive")
	require.True(t, HasErrors(fs))
}

func TestLintOptionsValidate(t *testing.T) {
	require.NoError(t, LintOptions{Disabled: []string{"GW001", "no-rate-limit", "gw002"}}.Validate())
	err := LintOptions{Disabled: []string{"GW999"}}.Validate()
	require.ErrorContains(t, err, `unknown lint rule "GW999": expected a rule ID (GW001, GW002`)
	require.ErrorContains(t, LintOptions{Severity: map[string]Severity{"no-such": SeverityInfo}}.Validate(), `"no-such"`)
	require.ErrorContains(t, LintOptions{Exceptions: []Exception{{Rule: "GW04", Endpoints: []string{"x"}}}}.Validate(), `"GW04"`)
	require.ErrorContains(t, LintOptions{Exceptions: []Exception{{Rule: "GW004"}}}.Validate(), "names no endpoint")
}

func TestLintHealthEndpointsArePublicOnPurpose(t *testing.T) {
	var eps []Endpoint
	for _, p := range []string{"/__health", "/health", "/healthz", "/v1/health", "/ready", "/readyz", "/livez", "/liveness", "/v1/users", "/healthy-food", "/v1/livestream"} {
		eps = append(eps, Endpoint{Name: p, Path: p, Match: MatchExact, Public: true, Timeout: 1e9})
	}
	fs := Lint(&Contract{Gateway: KrakenD, Endpoints: eps}, LintOptions{Disabled: []string{"GW001", "GW005"}})
	require.Equal(t, []string{"GW004 /healthy-food", "GW004 /v1/livestream", "GW004 /v1/users"}, rulesOf(fs))
}

func TestLintNoteHintFitsTheNote(t *testing.T) {
	c := &Contract{Source: "kong.yaml", Notes: []Note{
		{Pos: Position{Line: 3}, Text: "the value of header X-Api-Key is a credential and is not kept; the condition is reduced to the header being present"},
		{Pos: Position{Line: 4}, Text: `routes of route configuration "r" come from RDS at run time; this file gives no endpoints for listener "l"`},
	}}
	fs := Lint(c, LintOptions{})
	require.Len(t, fs, 2)
	require.Contains(t, fs[0].Hint, "nothing to fix")
	require.NotContains(t, fs[0].Hint, "unmatched")
	require.Contains(t, fs[1].Hint, "config_dump")
}

func TestWriteSummary(t *testing.T) {
	fs := []Finding{
		{Rule: "GW004", Slug: "public-without-auth", Severity: SeverityWarning},
		{Rule: "GW006", Slug: "duplicate-route", Severity: SeverityError},
		{Rule: "GW004", Slug: "public-without-auth", Severity: SeverityWarning},
		{Rule: "GW005", Slug: "no-rate-limit", Severity: SeverityInfo},
	}
	var b strings.Builder
	require.NoError(t, WriteSummaryText(&b, fs))
	require.Equal(t, "4 findings: 1 error, 2 warnings, 1 info\n"+
		"      2  warning  GW004 public-without-auth\n"+
		"      1  info     GW005 no-rate-limit\n"+
		"      1  error    GW006 duplicate-route\n", b.String())
	b.Reset()
	require.NoError(t, WriteSummaryText(&b, nil))
	require.Equal(t, "0 findings\n", b.String())
}
