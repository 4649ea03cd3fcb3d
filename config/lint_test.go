package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

func TestLintSection(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`lint:
  max_timeout: 45s
  disable: [GW005]
  severity: {GW004: info}
  exceptions:
    - rule: public-without-auth
      endpoints: ["/v1/login", "/v1/public/*"]
      reason: sign-in and documentation are public on purpose
`))
	require.NoError(t, err)
	o := c.LintOptions()
	require.Equal(t, 45*time.Second, o.MaxTimeout)
	require.Equal(t, []string{"GW005"}, o.Disabled)
	require.Equal(t, contract.SeverityInfo, o.Severity["GW004"])
	require.Equal(t, []contract.Exception{{Rule: "public-without-auth", Endpoints: []string{"/v1/login", "/v1/public/*"}}}, o.Exceptions)
	require.NoError(t, o.Validate())

	for _, tc := range []struct{ in, want string }{
		{"lint:\n  disable: [GW999]\n", `gw.yaml:2:13: lint.disable[0]: unknown lint rule "GW999"`},
		{"lint:\n  severity: {GW004: loud}\n", `gw.yaml:2:14: lint.severity.GW004: unknown severity "loud"`},
		{"lint:\n  exceptions:\n    - rule: GW004\n", "gw.yaml:3:7: lint.exceptions[0]: exception for GW004 names no endpoint"},
		{"lint:\n  exceptions:\n    - {rule: nope, endpoints: [x]}\n", `gw.yaml:3:8: lint.exceptions[0].rule: unknown lint rule "nope"`},
	} {
		_, err := Load("gw.yaml", []byte(tc.in))
		require.ErrorContains(t, err, tc.want)
	}
}

func TestUnmatchedPatterns(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`owners:
  teams:
    - name: payments
      endpoints: ["/v1/payments/*", "/v1/paymnts/*"]
slo:
  endpoints:
    - endpoint: /v1/users
      method: DELETE
    - endpoint: /v1/users
      availability: 99
`))
	require.NoError(t, err)
	ct := &contract.Contract{Endpoints: []contract.Endpoint{
		{Name: "/v1/payments/{id}"}, {Name: "/v1/payments"}, {Name: "/v1/users", Methods: []string{"GET"}}, {Name: "/v1/orders"},
	}}
	ps := c.UnmatchedPatterns(ct)
	require.Len(t, ps, 2)
	require.Equal(t, `gw.yaml:4:37: owners.teams[0].endpoints[1]: pattern "/v1/paymnts/*" matches no endpoint of the contract; nearest endpoints: "/v1/payments/{id}", "/v1/payments", "/v1/users"`, ps[0].String())
	require.Equal(t, "slo.endpoints[0].endpoint", ps[1].Path, "a method the endpoint does not have matches nothing")
	require.Equal(t, 7, ps[1].Line)
}
