package sidecar

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/schema"
)

func hostContract() *contract.Contract {
	return &contract.Contract{
		Gateway: contract.Envoy,
		Name:    "edge",
		Endpoints: []contract.Endpoint{
			{Name: "frontend", Path: "/", Match: contract.MatchPrefix, Hosts: []string{"frontend.example.com"}},
			{Name: "backend", Path: "/", Match: contract.MatchPrefix, Hosts: []string{"backend.example.com"}},
		},
	}
}

func runLines(t *testing.T, format string, c *contract.Contract, reqs []loggen.Request) (*prometheus.Registry, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(21, 22))
	var b bytes.Buffer
	for _, r := range reqs {
		b.Write(loggen.Line(format, rnd, r))
		b.WriteString("\n")
	}
	require.NoError(t, os.WriteFile(log, b.Bytes(), 0o644))
	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.Logs[0].Format = format
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	s, err := New(cfg, c, slog.New(slog.NewTextHandler(&logs, nil)), reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	return reg, logs.String()
}

// TestHostChoosesEndpoint: Envoy lines carry the authority, which picks
// the virtual host; nothing is said about missing hosts.
func TestHostChoosesEndpoint(t *testing.T) {
	reg, logs := runLines(t, "envoy", hostContract(), []loggen.Request{
		{Method: "GET", Path: "/a", Host: "frontend.example.com"},
		{Method: "GET", Path: "/a", Host: "backend.example.com"},
		{Method: "GET", Path: "/b", Host: "backend.example.com"},
	})
	require.Equal(t, 1.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "frontend"))
	require.Equal(t, 2.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "backend"))
	require.NotContains(t, logs, "carries no host")
}

// TestNoHostSaidOnce: KrakenD's gin line has no host; a contract that
// routes by host is then matched by path, and the log says so once.
func TestNoHostSaidOnce(t *testing.T) {
	reg, logs := runLines(t, "krakend", hostContract(), []loggen.Request{
		{Method: "GET", Path: "/a"}, {Method: "GET", Path: "/b"}, {Method: "GET", Path: "/c"},
	})
	require.Equal(t, 3.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "frontend"), "path alone: the first route")
	require.Equal(t, 1, strings.Count(logs, "access log carries no host"), logs)
}

// TestLandingPage: / links the three endpoints; other paths are 404.
func TestLandingPage(t *testing.T) {
	dir := t.TempDir()
	s, err := New(testConfig(t, filepath.Join(dir, "state"), filepath.Join(dir, "access.log")), testContract(), nil, prometheus.NewRegistry(), Options{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	for _, l := range []string{`href="metrics"`, `href="healthz"`, `href="readyz"`} {
		require.Contains(t, rec.Body.String(), l)
	}
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nothing", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

// TestKongHostChoosesEndpoint: Kong's JSON log carries the host header,
// which picks between routes of the same path.
func TestKongHostChoosesEndpoint(t *testing.T) {
	c := &contract.Contract{Gateway: contract.Kong, Name: "k", Endpoints: []contract.Endpoint{
		{Name: "shop", Path: "/", Match: contract.MatchPrefix, Hosts: []string{"shop.example.com"}},
		{Name: "any", Path: "/", Match: contract.MatchPrefix},
	}}
	reg, _ := runLines(t, "kong", c, []loggen.Request{
		{Method: "GET", Path: "/a", Host: "shop.example.com", Route: "-"},
		{Method: "GET", Path: "/a", Host: "other.example.com", Route: "-"},
	})
	require.Equal(t, 1.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "shop"))
	require.Equal(t, 1.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "any"))
}
