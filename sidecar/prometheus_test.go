package sidecar

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestWithPrometheus scrapes a running sidecar with the real Prometheus and
// requires the request count it stores to equal the lines written, and the
// le labels of the stored buckets to be schema.LE's.
func TestWithPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian package prometheus, /usr/bin/prometheus); CI installs it")
	}
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

	port := freePort(t)
	promCfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(promCfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: gatewatch-sidecar
    static_configs:
      - targets: ['%s']
`, s.Addr().String())), 0o644))
	cmd := exec.Command(bin,
		"--config.file="+promCfg,
		"--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=warn",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus stderr:\n%s", stderr.String())
		}
	})

	const n = 1500
	writeLines(t, log, "kong", rand.New(rand.NewPCG(11, 12)), n)

	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query", port)
	deadline := time.Now().Add(60 * time.Second)
	var got float64
	for {
		if v, ok := queryScalar(api, "sum(gatewatch_http_requests_total)"); ok {
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

	les := queryLabelValues(t, api, `gatewatch_http_request_duration_seconds_bucket{endpoint="unmatched",method="GET"}`, "le")
	for _, b := range schema.Buckets(cfg.LatencyThresholds(testContract())...) {
		require.Contains(t, les, schema.LE(b), "le label of bucket %g as Prometheus stores it", b)
	}
	require.Contains(t, les, "1.0")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type queryResponse struct {
	Status string `json:"status"`
	Data   struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

func query(api, q string) (*queryResponse, error) {
	resp, err := http.Get(api + "?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r queryResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: status %s", q, r.Status)
	}
	return &r, nil
}

// queryScalar returns the value of a one-sample instant query.
func queryScalar(api, q string) (float64, bool) {
	r, err := query(api, q)
	if err != nil || len(r.Data.Result) != 1 {
		return 0, false
	}
	s, ok := r.Data.Result[0].Value[1].(string)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func queryLabelValues(t *testing.T, api, q, label string) []string {
	t.Helper()
	r, err := query(api, q)
	require.NoError(t, err)
	var vs []string
	for _, s := range r.Data.Result {
		vs = append(vs, s.Metric[label])
	}
	require.NotEmpty(t, vs, "no series for %s", q)
	return vs
}
