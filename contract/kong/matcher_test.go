package kong

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

// TestMatcher checks that the contracts this loader writes are read by the
// shared matcher as Kong routes them: regex paths anchored at the start,
// plain paths as prefixes, methods honoured.
func TestMatcher(t *testing.T) {
	c, err := load(t, "regex-paths.good.yaml")
	require.NoError(t, err)
	c2, err := load(t, "url-service.good.yaml")
	require.NoError(t, err)
	for _, tc := range []struct {
		c            *contract.Contract
		method, path string
		want         string
	}{
		{c, "GET", "/users/42", "user-by-id"},
		{c, "POST", "/users/42", ""},
		{c, "GET", "/users/abc", ""},
		{c, "GET", "/v2/users/42", ""},
		{c, "PUT", "/static/app.js", "mixed"},
		{c, "GET", "/files/report.pdf", "mixed"},
		{c, "GET", "/api/v1/beta", "lookahead"},
		{c2, "GET", "/orders/7", "orders-list"},
		{c2, "DELETE", "/internal/orders", "orders-admin"},
		{c2, "DELETE", "/orders", ""},
	} {
		got := ""
		if e := contract.NewMatcher(tc.c).Match(tc.method, tc.path); e != nil {
			got = e.Name
		}
		require.Equal(t, tc.want, got, "%s %s", tc.method, tc.path)
	}
}
