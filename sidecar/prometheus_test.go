package sidecar

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestWithPrometheus scrapes a running sidecar with the real Prometheus and
// requires the request count it stores to equal the lines written, and the
// le labels of the stored buckets to be schema.LE's.
func TestWithPrometheus(t *testing.T) {
	promtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts Prometheus; skipped with -short")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	require.NoError(t, os.WriteFile(log, nil, 0o644))
	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	s, err := New(cfg, testContract(), nil, prometheus.NewRegistry(), Options{})
	require.NoError(t, err)
	start(t, s)

	base := promtest.Start(t, dir, map[string][]byte{"prometheus.yml": promtest.ScrapeConfig("gatewatch-sidecar", s.Addr().String(), "")})

	const n = 1500
	writeLines(t, log, "kong", rand.New(rand.NewPCG(11, 12)), n)

	deadline := time.Now().Add(60 * time.Second)
	var got float64
	for {
		if v, ok := queryScalar(base, "sum(gatewatch_http_requests_total)"); ok {
			got = v
			if got == n {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s Prometheus has sum(gatewatch_http_requests_total) = %v, want %d", got, n)
		}
		time.Sleep(500 * time.Millisecond)
	}

	les := queryLabelValues(t, base, `gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",method="GET"}`, "le")
	for _, b := range schema.Buckets(cfg.LatencyThresholds(testContract())...) {
		require.Contains(t, les, schema.LE(b), "le label of bucket %g as Prometheus stores it", b)
	}
	require.Contains(t, les, "1.0")
}

// queryScalar returns the value of a one-sample instant query.
func queryScalar(base, q string) (float64, bool) {
	r, err := promtest.Query(base, q)
	if err != nil || len(r) != 1 {
		return 0, false
	}
	s, ok := r[0].Value[1].(string)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func queryLabelValues(t *testing.T, base, q, label string) []string {
	t.Helper()
	r, err := promtest.Query(base, q)
	require.NoError(t, err)
	var vs []string
	for _, s := range r {
		vs = append(vs, s.Metric[label])
	}
	require.NotEmpty(t, vs, "no series for %s", q)
	return vs
}
