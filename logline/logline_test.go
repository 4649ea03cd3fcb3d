package logline

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
)

// TestReader: the decoder is the one of the log whose path or glob names
// the file; the endpoint is the logged route when the contract has it,
// else the path's match.
func TestReader(t *testing.T) {
	c := &contract.Contract{
		Gateway: contract.Kong, Name: "edge",
		Endpoints: []contract.Endpoint{
			{Name: "users", Path: "/v1/users", Match: contract.MatchPrefix},
			{Name: "admin", Path: "/v1/admin", Match: contract.MatchPrefix},
			{Name: "twice", Path: "/a", Match: contract.MatchExact},
			{Name: "twice", Path: "/b", Match: contract.MatchExact},
		},
	}
	sc := config.Default().Sidecar
	sc.Logs = []config.LogConfig{{Path: "/var/log/kong/*.log"}, {Path: "/var/log/gin.log", Format: "krakend"}}
	r, err := New(&sc, c)
	require.NoError(t, err)
	var ev accesslog.Event
	kong := func(route, uri string) []byte {
		return []byte(`{"request":{"method":"GET","uri":"` + uri + `"},"route":{"name":"` + route + `"},"response":{"status":200},"started_at":1795000000000}`)
	}
	for _, tc := range []struct{ route, uri, want string }{
		{"users", "/v1/users/1", "users"},
		{"admin", "/v1/users/1", "admin"},  // Kong's routing decision wins
		{"nosuch", "/v1/admin/2", "admin"}, // unknown route: the path
		{"twice", "/b", "twice"},           // ambiguous route name: the path
		{"", "/elsewhere", contract.Unmatched},
	} {
		require.NoError(t, r.Decode("/var/log/kong/access.log", kong(tc.route, tc.uri), &ev))
		got := contract.Unmatched
		if ep := r.Endpoint(&ev); ep != nil {
			got = ep.Name
		}
		require.Equal(t, tc.want, got, "%+v", tc)
	}
	require.NoError(t, r.Decode("/var/log/gin.log", []byte(`[GIN] 2026/11/20 - 12:00:00 | 200 |    1.2ms |  10.0.0.1 | GET      "/v1/users/3"`), &ev))
	require.Equal(t, "users", r.Endpoint(&ev).Name)
	// A file no pattern names any more (renamed away) keeps the first
	// log's decoder.
	require.NoError(t, r.Decode("/var/log/kong/access.log.1-gone", kong("users", "/v1/users/1"), &ev))

	// Without a contract every line is unmatched, and without logs the
	// format is detected.
	r, err = New(&config.SidecarConfig{}, nil)
	require.NoError(t, err)
	require.NoError(t, r.Decode("x.log", kong("users", "/v1/users/1"), &ev))
	require.Nil(t, r.Endpoint(&ev))
}
