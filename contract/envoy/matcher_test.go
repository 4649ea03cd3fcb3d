package envoy

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract/internal/contracttest"
)

// TestMatcher checks that the contracts this loader writes are read by the
// shared matcher as Envoy routes them: first match wins, regexes match the
// whole path, :method headers become methods, other header conditions hold
// only when the log carries the header.
func TestMatcher(t *testing.T) {
	c, err := envoyLoader.Testdata(t, "v3-matches.good.yaml")
	require.NoError(t, err)
	h, err := envoyLoader.Testdata(t, "headers.good.yaml")
	require.NoError(t, err)
	u, err := envoyLoader.Testdata(t, "uri-template.good.yaml")
	require.NoError(t, err)
	contracttest.CheckMatches(t, []contracttest.Match{
		{C: c, Method: "GET", Path: "/v1/users", Want: "users-get"},
		{C: c, Method: "GET", Path: "/v1/users/7", Want: "http/api/1"},
		{C: c, Method: "GET", Path: "/v1/users/7/x", Want: "http/api/3"},
		{C: c, Method: "GET", Path: "/v1/orders/9", Want: "http/api/2"},
		{C: c, Method: "GET", Path: "/v1/ordersx", Want: "http/api/3"},
		{C: h, Method: "GET", Path: "/items/1", Want: "edge/api/0"},
		{C: h, Method: "POST", Path: "/items", Header: map[string]string{"x-tenant": "acme-1"}, Want: "edge/api/1"},
		{C: h, Method: "POST", Path: "/items", Header: map[string]string{"x-tenant": "other"}, Want: ""},
		{C: h, Method: "POST", Path: "/items", Want: ""}, // no x-tenant header in the log: taken as absent
		{C: h, Method: "GET", Path: "/version", Header: map[string]string{"x-api-version": "2", "x-debug": "1", "x-trace": "t", "x-canary": "no", "user-agent": "gobot", "accept": "application/JSON"}, Want: "edge/api/3"},
		{C: h, Method: "GET", Path: "/version", Header: map[string]string{"x-api-version": "2", "x-debug": "1", "x-trace": "t", "x-canary": "yes", "user-agent": "gobot", "accept": "application/JSON"}, Want: ""},
		{C: h, Method: "PATCH", Path: "/items", Want: "edge/api/2"},
		{C: h, Method: "DELETE", Path: "/items", Want: ""},
		{C: u, Method: "GET", Path: "/v1/users/42", Want: "user"},
		{C: u, Method: "GET", Path: "/files/b/k/e/y", Want: "files"},
	})
}
