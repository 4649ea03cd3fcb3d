package shipper

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/shipper/estest"
	"github.com/gatewatch/gatewatch/sidecar"
)

// TestBothReadersAgreeOnEndpoints feeds the same Kong lines to the sidecar's
// two readers: every line has the same endpoint in /metrics and in its
// Elasticsearch document, also where the route Kong logged and the path
// disagree (the gateway's routing decision wins in both).
func TestBothReadersAgreeOnEndpoints(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	c := &contract.Contract{
		Gateway: contract.Kong, Name: "edge", Hash: "c0ffee",
		Endpoints: []contract.Endpoint{
			{Name: "users", Path: "/v1/users", Match: contract.MatchPrefix, Methods: []string{"GET"}},
			{Name: "admin-users", Path: "/v1/admin", Match: contract.MatchPrefix, Methods: []string{"GET"}},
		},
	}
	rnd := rand.New(rand.NewPCG(8, 8))
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	cases := []struct{ route, path string }{
		{"users", "/v1/users/1"},       // both agree
		{"admin-users", "/v1/users/2"}, // Kong routed it to admin-users (say by host)
		{"unknown-route", "/v1/admin/3"},
		{"", "/nowhere"},
	}
	for i := range 40 {
		cs := cases[i%len(cases)]
		b.Write(loggen.Line("kong", rnd, loggen.Request{Time: at.Add(time.Duration(i) * time.Second), Method: "GET", Path: cs.path, Route: cs.route}))
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "access.log"), []byte(b.String()), 0o644))
	cfg := testConfig(t, dir, srv.URL, "index")
	cfg.Sidecar.Listen = "127.0.0.1:0"
	cfg.Sidecar.Start = config.StartBeginning
	reg := prometheus.NewRegistry()
	s, err := sidecar.New(cfg, c, nil, reg, sidecar.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, "40 documents", func() bool { return srv.Count("logs-gateway") == 40 })
	cancel()
	require.NoError(t, <-done)

	inES := map[string]int{}
	for _, d := range srv.Docs("logs-gateway") {
		var doc struct {
			Gatewatch struct {
				Endpoint string `json:"endpoint"`
			} `json:"gatewatch"`
		}
		require.NoError(t, json.Unmarshal(d.Source, &doc))
		inES[doc.Gatewatch.Endpoint]++
	}
	inMetrics := map[string]int{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != schema.RequestsTotal.Name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == schema.LabelEndpoint {
					inMetrics[l.GetValue()] += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	require.Equal(t, map[string]int{"users": 10, "admin-users": 20, contract.Unmatched: 10}, inMetrics)
	require.Equal(t, inMetrics, inES)
}
