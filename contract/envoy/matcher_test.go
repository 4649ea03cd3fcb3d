package envoy

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

// TestMatcher checks that the contracts this loader writes are read by the
// shared matcher as Envoy routes them: first match wins, regexes match the
// whole path, :method headers become methods.
func TestMatcher(t *testing.T) {
	c, err := load(t, "v3-matches.good.yaml")
	require.NoError(t, err)
	h, err := load(t, "headers.good.yaml")
	require.NoError(t, err)
	u, err := load(t, "uri-template.good.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		c            *contract.Contract
		method, path string
		want         string
	}{
		{c, "GET", "/v1/users", "users-get"},
		{c, "GET", "/v1/users/7", "http/api/1"},
		{c, "GET", "/v1/users/7/x", "http/api/3"},
		{c, "GET", "/v1/orders/9", "http/api/2"},
		{c, "GET", "/v1/ordersx", "http/api/3"},
		{h, "GET", "/items/1", "edge/api/0"},
		{h, "POST", "/items", "edge/api/1"},
		{h, "PATCH", "/items", "edge/api/2"},
		{h, "DELETE", "/items", ""},
		{u, "GET", "/v1/users/42", "user"},
		{u, "GET", "/files/b/k/e/y", "files"},
	} {
		got := ""
		if e := contract.NewMatcher(tc.c).Match(tc.method, tc.path); e != nil {
			got = e.Name
		}
		require.Equal(t, tc.want, got, "%s %s", tc.method, tc.path)
	}
}
