package e2e

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/pagerduty"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/prober"
	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/sidecar"

	_ "github.com/gatewatch/gatewatch/shipper" // registers sidecar.ShipperFactory
)

// exported gathers the metric names the real producers serve: a sidecar
// that has read a few access-log lines (exporter, file and tail metrics,
// files matched, runtime metrics) and a sidecar with the shipper enabled
// (its self-metrics). Histogram families expand to _bucket, _sum and
// _count, as Prometheus stores them.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(7, 8))
	var b strings.Builder
	for _, p := range []string{"/v1/orders/42", "/v1/users", "/catalog/x"} {
		b.Write(loggen.Line("kong", rnd, loggen.Request{Method: "GET", Path: p, Status: 200}))
		b.WriteByte('\n')
	}
	require.NoError(t, os.WriteFile(log, []byte(b.String()), 0o644))
	cfg, err := config.Load("gatewatch.yaml", []byte(gwConfig))
	require.NoError(t, err)
	cfg.Sidecar.Logs = []config.LogConfig{{Path: log, Format: "kong", Envelope: "none"}}
	cfg.Sidecar.Listen = "127.0.0.1:0"
	cfg.Sidecar.CheckpointDir = filepath.Join(dir, "state")
	cfg.Sidecar.Start = config.StartBeginning

	out := map[string]bool{}
	add := func(reg *prometheus.Registry) {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			n := mf.GetName()
			if mf.GetType() == dto.MetricType_HISTOGRAM {
				for _, s := range []string{schema.BucketSuffix, schema.SumSuffix, schema.CountSuffix} {
					out[n+s] = true
				}
				continue
			}
			out[n] = true
		}
	}
	reg := prometheus.NewRegistry()
	sc, err := sidecar.New(cfg, testContract(), nil, reg, sidecar.Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, sc.Run(context.Background()))
	require.Equal(t, uint64(3), sc.Summary().Lines)
	add(reg)

	ship := *cfg
	ship.Shipper.Enabled = true
	ship.Sidecar.CheckpointDir = filepath.Join(dir, "ship")
	reg = prometheus.NewRegistry()
	_, err = sidecar.New(&ship, testContract(), nil, reg, sidecar.Options{})
	require.NoError(t, err)
	add(reg)
	require.True(t, out[schema.ShippedDocuments.Name], "the shipper's metrics are gathered")

	// The prober, after one real probe of an https target (the TLS expiry
	// exists only once a certificate was seen), and its outbox metrics.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	reg = prometheus.NewRegistry()
	p, err := prober.New(prober.Options{
		Gateway: "orders", Registerer: reg, Transport: srv.Client().Transport,
		Targets: []probe.Target{{Name: "health", URL: srv.URL, Method: http.MethodGet, Timeout: 5 * time.Second}},
	})
	require.NoError(t, err)
	require.True(t, p.Check(context.Background(), 0).Success)
	pagerduty.NewMetrics(reg, "orders")
	add(reg)
	require.True(t, out[schema.ProbeTLSExpiry.Name], "the prober's metrics are gathered")
	return out
}

// TestEveryQueriedMetricIsExported walks every expression of the generated
// rules and fails on a metric that nothing in the project exports: not the
// sidecar, not the shipper, not Prometheus itself (up, ALERTS), and not a
// recording rule of the same file, not the prober. The schema declares
// metrics before their producer exists (gatewatch_canary_verdict); no
// rule may read them until it does.
func TestEveryQueriedMetricIsExported(t *testing.T) {
	known := exported(t)
	for _, n := range []string{"up", "ALERTS", "ALERTS_FOR_STATE"} {
		known[n] = true
	}
	cfg, err := config.Load("gatewatch.yaml", []byte(gwConfig))
	require.NoError(t, err)
	c := testContract()
	// A rate limit, so that the rate-limit alerts are generated too.
	c.Endpoints[2].RateLimit = &contract.RateLimit{Requests: 10, Period: time.Second}
	set, err := rules.Generate(c, cfg)
	require.NoError(t, err)

	records := set.Rules.Records()
	var queried []string
	for _, g := range set.Rules.Groups {
		for _, r := range g.Rules {
			e, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
			require.NoError(t, err, r.Expr)
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				name := vs.Name
				for _, m := range vs.LabelMatchers {
					if m.Name == "__name__" {
						name = m.Value
					}
				}
				if !known[name] && !slices.Contains(records, name) {
					t.Errorf("%s%s reads %s, which nothing exports", r.Alert, r.Record, name)
				}
				queried = append(queried, name)
				return nil
			})
		}
	}
	// The walk saw the operational alerts' metrics.
	for _, m := range []schema.Metric{schema.FilesMatched, schema.ShipperLostBytes, schema.CheckpointErrors, schema.BackendResponses} {
		require.Contains(t, queried, m.Name)
	}
	require.Contains(t, queried, schema.ProbeSuccess.Name)
}
