package loggen_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

func TestLineDeterministic(t *testing.T) {
	for _, f := range append(append([]string(nil), loggen.Formats...), "cri+kong", "docker+krakend") {
		a := loggen.Line(f, rand.New(rand.NewPCG(1, 1)), loggen.Request{})
		b := loggen.Line(f, rand.New(rand.NewPCG(1, 1)), loggen.Request{})
		require.Equal(t, string(a), string(b), f)
		require.NotContains(t, string(a), "\n", f)
	}
}

func TestLineGinShape(t *testing.T) {
	req := loggen.Request{
		Time: time.Date(2026, 11, 22, 2, 4, 12, 0, time.UTC), Method: "POST", Path: "/v1/orders",
		Status: 503, Duration: 671, Client: "10.1.2.3",
	}
	// The line gin v1.10's default logger printed on this machine (REFERENCE.md §8).
	require.Equal(t, `[GIN] 2026/11/22 - 02:04:12 | 503 |         671ns |        10.1.2.3 | POST     "/v1/orders"`,
		string(loggen.Line("krakend", rand.New(rand.NewPCG(1, 1)), req)))
}

func TestFillKeepsGivenFields(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 2))
	r := loggen.Fill(rnd, loggen.Request{Method: "PUT", Path: "/v1/users/7", Upstream: -1})
	require.Equal(t, "PUT", r.Method)
	require.Equal(t, "/v1/users/7", r.Path)
	require.Equal(t, time.Duration(-1), r.Upstream)
	require.NotZero(t, r.Status)
	require.True(t, strings.HasPrefix(r.URI(), "/v1/users/7"))
	// A filled request is not filled again: an anonymous consumer stays so.
	r.Consumer = ""
	require.Empty(t, loggen.Fill(rnd, r).Consumer)
}

func TestUnknownFormatPanics(t *testing.T) {
	require.Panics(t, func() { loggen.Line("nginx", rand.New(rand.NewPCG(1, 1)), loggen.Request{}) })
}
