package contract

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func kinds(cs []Change) []string {
	out := []string{}
	for _, c := range cs {
		k := c.Kind + " " + c.Endpoint
		if c.Breaking {
			k = "!" + k
		}
		out = append(out, k)
	}
	return out
}

func TestDiff(t *testing.T) {
	base := func() []Endpoint {
		users := good("/v1/users/{id}", "/v1/users/{id}", 1)
		users.Auth = Auth{}
		orders := good("/v1/orders", "/v1/orders", 2)
		orders.Methods = []string{"GET", "POST"}
		return []Endpoint{users, orders}
	}
	cases := []struct {
		name   string
		gw     Kind
		modify func(eps []Endpoint) []Endpoint
		want   []string
	}{
		{"unchanged", KrakenD, func(eps []Endpoint) []Endpoint { return eps }, []string{}},
		{"reordered is unchanged", KrakenD, func(eps []Endpoint) []Endpoint { return []Endpoint{eps[1], eps[0]} }, []string{}},
		{"endpoint removed", KrakenD, func(eps []Endpoint) []Endpoint { return eps[1:] },
			[]string{"!endpoint_removed GET /v1/users/{id}"}},
		{"endpoint added", KrakenD, func(eps []Endpoint) []Endpoint {
			return append(eps, good("/v1/items", "/v1/items", 3))
		}, []string{"endpoint_added GET /v1/items"}},
		{"method removed and added", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[1].Methods = []string{"GET", "PUT"}
			return eps
		}, []string{"!method_removed POST /v1/orders", "method_added PUT /v1/orders"}},
		{"param renamed", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].Path, eps[0].Name = "/v1/users/{user_id}", "/v1/users/{user_id}"
			return eps
		}, []string{"!param_renamed GET /v1/users/{user_id}", "endpoint_renamed GET /v1/users/{user_id}"}},
		{"different shape is remove and add", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].Path = "/v1/users/{id}/profile"
			return eps
		}, []string{"!endpoint_removed GET /v1/users/{id}", "endpoint_added GET /v1/users/{id}/profile"}},
		{"auth added", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].Auth = Auth{Required: true, Kinds: []string{"jwt"}}
			return eps
		}, []string{"!auth_added GET /v1/users/{id}"}},
		{"auth removed", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[1].Auth = Auth{}
			return eps
		}, []string{"auth_removed GET /v1/orders"}},
		{"timeout lowered", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].Timeout = time.Second
			return eps
		}, []string{"!timeout_lowered GET /v1/users/{id}"}},
		{"timeout raised", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].Timeout = time.Minute
			return eps
		}, []string{"timeout_raised GET /v1/users/{id}"}},
		{"timeout removed is raised", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].Timeout = 0
			return eps
		}, []string{"timeout_raised GET /v1/users/{id}"}},
		{"rate limit changed", KrakenD, func(eps []Endpoint) []Endpoint {
			eps[0].RateLimit = &RateLimit{Requests: 5, Period: time.Second}
			eps[1].RateLimit = nil
			return eps
		}, []string{"rate_limit_changed GET /v1/orders", "rate_limit_changed GET /v1/users/{id}"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := &Contract{Gateway: tc.gw, Endpoints: base()}
			new := &Contract{Gateway: tc.gw, Endpoints: tc.modify(base())}
			cs := Diff(old, new)
			require.Equal(t, tc.want, kinds(cs))
			require.Equal(t, len(tc.want) > 0 && tc.want[0][0] == '!', HasBreaking(cs))
		})
	}
}

func TestDiffAnyMethod(t *testing.T) {
	r := func(methods ...string) *Contract {
		e := good("api", "/v1/api", 1)
		e.Match, e.Methods = MatchPrefix, methods
		return &Contract{Gateway: Envoy, Endpoints: []Endpoint{e}}
	}
	require.Equal(t, []string{"!method_removed ANY /v1/api"}, kinds(Diff(r(), r("GET", "POST"))))
	require.Equal(t, []string{"method_added ANY /v1/api"}, kinds(Diff(r("GET"), r())))
	cs := Diff(r(), r("GET"))
	require.Equal(t, "ANY", cs[0].Old)
	require.Equal(t, "GET", cs[0].New)
}

func TestDiffKongPaths(t *testing.T) {
	r := func(paths ...string) *Contract {
		return &Contract{Gateway: Kong, Endpoints: []Endpoint{{Name: "r", Match: MatchPrefix, Path: paths[0], Paths: paths}}}
	}
	require.Equal(t, []string{"!endpoint_removed ANY /v1/b"}, kinds(Diff(r("/v1/a", "/v1/b"), r("/v1/a"))))
	require.Equal(t, []string{"endpoint_added ANY /v1/c"}, kinds(Diff(r("/v1/a"), r("/v1/a", "/v1/c"))))
}

func TestDiffListeners(t *testing.T) {
	r := func(listeners ...string) *Contract {
		c := &Contract{Gateway: Envoy}
		for _, l := range listeners {
			c.Endpoints = append(c.Endpoints, Endpoint{Name: "r-" + l, Match: MatchPrefix, Path: "/v1", Listener: l})
		}
		return c
	}
	require.Equal(t, []string{"!endpoint_removed ANY /v1 @l443"}, kinds(Diff(r("l80", "l443"), r("l80"))))
	require.Equal(t, []string{}, kinds(Diff(r("l80", "l443"), r("l80", "l443"))))
}

func TestDiffPrefixAndExactDiffer(t *testing.T) {
	a := &Contract{Endpoints: []Endpoint{{Name: "x", Match: MatchExact, Path: "/v1/x"}}}
	b := &Contract{Endpoints: []Endpoint{{Name: "x", Match: MatchPrefix, Path: "/v1/x"}}}
	require.Equal(t, []string{"!endpoint_removed ANY /v1/x", "endpoint_added ANY /v1/x"}, kinds(Diff(a, b)))
}

func TestDiffDeterministic(t *testing.T) {
	r := newTestRand()
	for range 50 {
		a, b := randContract(r, Envoy), randContract(r, Envoy)
		first := Diff(a, b)
		for range 3 {
			require.Equal(t, first, Diff(a, b))
		}
		require.Empty(t, Diff(a, a))
	}
}

func TestWriteChanges(t *testing.T) {
	old := &Contract{Endpoints: []Endpoint{good("u", "/v1/u/{id}", 1)}}
	new := &Contract{Endpoints: []Endpoint{good("u", "/v1/u/{uid}", 1)}}
	cs := Diff(old, new)
	var b bytes.Buffer
	require.NoError(t, WriteChangesText(&b, cs))
	require.Equal(t, "BREAKING param_renamed GET /v1/u/{uid}: path parameters of /v1/u/{id} were renamed (id → uid); the URL shape is unchanged, but clients and tools that address parameters by name (generated SDKs, OpenAPI, gateway transforms) break\n", b.String())

	b.Reset()
	require.NoError(t, WriteChangesJSON(&b, cs))
	var back []Change
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	require.Equal(t, cs, back)

	b.Reset()
	require.NoError(t, WriteChangesJSON(&b, nil))
	require.Equal(t, "[]\n", b.String())
}

func ExampleDiff() {
	old := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{
		{Name: "/v1/users/{id}", Path: "/v1/users/{id}", Methods: []string{"GET", "DELETE"}, Timeout: 10 * time.Second},
	}}
	new := &Contract{Gateway: KrakenD, Endpoints: []Endpoint{
		{Name: "/v1/users/{id}", Path: "/v1/users/{id}", Methods: []string{"GET"}, Timeout: 3 * time.Second},
		{Name: "/v1/orders", Path: "/v1/orders", Methods: []string{"POST"}, Timeout: 3 * time.Second},
	}}
	_ = WriteChangesText(os.Stdout, Diff(old, new))
	// Output:
	// change   endpoint_added POST /v1/orders: endpoint POST /v1/orders was added
	// BREAKING method_removed DELETE /v1/users/{id}: method DELETE of /v1/users/{id} was removed
	// BREAKING timeout_lowered GET /v1/users/{id}: GET /v1/users/{id} timeout lowered from 10s to 3s; slow requests that succeeded will now fail
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1500 * time.Millisecond, "1.5s"},
		{250 * time.Millisecond, "250ms"},
		{5 * time.Minute, "5m"},
		{90 * time.Minute, "1h30m"},
		{150 * time.Second, "2m30s"},
		{time.Hour + 500*time.Millisecond, "1h0.5s"},
		{60 * time.Second, "1m"},
		{-2 * time.Second, "-2s"},
		{1500 * time.Microsecond, "1.5ms"},
	} {
		require.Equal(t, tc.want, FormatDuration(tc.d), "%d", tc.d)
	}
}

// TestJSONDurationsInSeconds: durations in JSON are seconds with the unit
// in the key, never nanoseconds.
func TestJSONDurationsInSeconds(t *testing.T) {
	c := Contract{Defaults: Defaults{Timeout: 3 * time.Second}, Endpoints: []Endpoint{{
		Name: "a", Timeout: 1500 * time.Millisecond, RateLimit: &RateLimit{Requests: 10, Period: time.Minute},
	}}}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	s := string(b)
	require.Contains(t, s, `"defaults":{"timeout_seconds":3}`)
	require.Contains(t, s, `"timeout_seconds":1.5`)
	require.Contains(t, s, `"rate_limit":{"requests":10,"period_seconds":60}`)
	require.NotContains(t, s, `"timeout":`)
	require.NotContains(t, s, `1500000000`)
}
