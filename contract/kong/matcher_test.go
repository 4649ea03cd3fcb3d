package kong

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract/internal/contracttest"
)

// TestMatcher checks that the contracts this loader writes are read by the
// shared matcher as Kong routes them: regex paths anchored at the start,
// plain paths as prefixes, methods honoured.
func TestMatcher(t *testing.T) {
	c, err := kongLoader.Testdata(t, "regex-paths.good.yaml")
	require.NoError(t, err)
	c2, err := kongLoader.Testdata(t, "url-service.good.yaml")
	require.NoError(t, err)
	contracttest.CheckMatches(t, []contracttest.Match{
		{C: c, Method: "GET", Path: "/users/42", Want: "user-by-id"},
		{C: c, Method: "POST", Path: "/users/42", Want: ""},
		{C: c, Method: "GET", Path: "/users/abc", Want: ""},
		{C: c, Method: "GET", Path: "/v2/users/42", Want: ""},
		{C: c, Method: "PUT", Path: "/static/app.js", Want: "mixed"},
		{C: c, Method: "GET", Path: "/files/report.pdf", Want: "mixed"},
		{C: c, Method: "GET", Path: "/api/v1/beta", Want: "lookahead"},
		{C: c2, Method: "GET", Path: "/orders/7", Want: "orders-list"},
		{C: c2, Method: "DELETE", Path: "/internal/orders", Want: "orders-admin"},
		{C: c2, Method: "DELETE", Path: "/orders", Want: ""},
	})
}
