package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/canary"
	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/schema"
)

// trackTraffic describes one track's traffic to one endpoint: requests per
// second, the share answered 5xx and the median latency (log-normal,
// sigma 0.5).
type trackTraffic struct {
	rps, errorShare float64
	median          time.Duration
}

type endpointTraffic struct {
	gateway, endpoint, method string
	tracks                    map[string]trackTraffic
}

// canarySeries writes the exporter's request counter and duration
// histogram for each endpoint and track as OpenMetrics, a sample every
// 15s from start to end, drawn from a seeded generator.
func canarySeries(eps []endpointTraffic, start, end time.Time) []byte {
	rng := rand.New(rand.NewPCG(7, 11))
	var b bytes.Buffer
	buckets := append(schema.Buckets(), math.Inf(1))
	const step = 15 * time.Second
	for _, ep := range eps {
		tracks := slices.Sorted(maps.Keys(ep.tracks))
		for _, track := range tracks {
			tr := ep.tracks[track]
			labels := fmt.Sprintf(`%s=%q,%s=%q,%s=%q,%s=%q`, schema.LabelGateway, ep.gateway,
				schema.LabelEndpoint, ep.endpoint, schema.LabelMethod, ep.method, schema.LabelTrack, track)
			var ok200, fail float64
			counts := make([]float64, len(buckets))
			var lines200, lines500, lineBuckets []string
			for ts := start; !ts.After(end); ts = ts.Add(step) {
				n := math.Round(tr.rps * step.Seconds() * (0.9 + 0.2*rng.Float64()))
				for range int(n) {
					if rng.Float64() < tr.errorShare {
						fail++
					} else {
						ok200++
					}
					d := tr.median.Seconds() * math.Exp(0.5*rng.NormFloat64())
					for i, le := range buckets {
						if d <= le {
							counts[i]++
						}
					}
				}
				sec := strconv.FormatInt(ts.Unix(), 10)
				lines200 = append(lines200, fmt.Sprintf("%s{%s,%s=\"200\"} %g %s", schema.RequestsTotal.Name, labels, schema.LabelCode, ok200, sec))
				lines500 = append(lines500, fmt.Sprintf("%s{%s,%s=\"500\"} %g %s", schema.RequestsTotal.Name, labels, schema.LabelCode, fail, sec))
				for i, le := range buckets {
					lineBuckets = append(lineBuckets, fmt.Sprintf("%d %s{%s,%s=%q} %g %s", i, schema.RequestDuration.Name+schema.BucketSuffix, labels, schema.LabelLE, schema.LE(le), counts[i], sec))
				}
			}
			for _, l := range append(lines200, lines500...) {
				b.WriteString(l + "\n")
			}
			// One series at a time, in time order.
			for i := range buckets {
				prefix := strconv.Itoa(i) + " "
				for _, l := range lineBuckets {
					if strings.HasPrefix(l, prefix) {
						b.WriteString(strings.TrimPrefix(l, prefix) + "\n")
					}
				}
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.Bytes()
}

// TestCanaryJudgePrometheus runs `gatewatch canary judge` against a real
// Prometheus holding 20 minutes of backfilled traffic of two gateways:
// one whose canary behaves like its baseline, one whose canary fails ten
// times as often and is three times slower.
func TestCanaryJudgePrometheus(t *testing.T) {
	for _, bin := range []string{promtest.Bin, promtest.PromtoolBin} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install prometheus): %v", bin, err)
		}
	}
	end := time.Now().Add(-time.Hour).Truncate(time.Minute)
	start := end.Add(-20 * time.Minute)
	same := trackTraffic{rps: 20, errorShare: 0.01, median: 40 * time.Millisecond}
	eps := []endpointTraffic{
		{"shop-healthy", "/v1/users/{id}", "GET", map[string]trackTraffic{"canary": same, "baseline": same}},
		{"shop-healthy", "/v1/reports", "POST", map[string]trackTraffic{"canary": {rps: 0.05, median: time.Second}, "baseline": same}},
		{"shop-degraded", "/v1/users/{id}", "GET", map[string]trackTraffic{
			"canary": {rps: 20, errorShare: 0.10, median: 120 * time.Millisecond}, "baseline": same,
		}},
		// Blue-green: green is only slower.
		{"shop-bluegreen", "/v1/users/{id}", "GET", map[string]trackTraffic{
			"green": {rps: 20, errorShare: 0.01, median: 120 * time.Millisecond}, "blue": same,
		}},
	}
	dir := t.TempDir()
	promtest.Backfill(t, dir, canarySeries(eps, start, end))
	base := promtest.Start(t, dir, map[string][]byte{"prometheus.yml": []byte("global:\n  scrape_interval: 1m\n")})
	endArg := end.UTC().Format(time.RFC3339)
	promtest.WaitFor(t, 30*time.Second, func() bool {
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape("count("+schema.RequestsTotal.Name+")") + "&time=" + strconv.FormatInt(end.Unix(), 10))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		return json.NewDecoder(resp.Body).Decode(&r) == nil && len(r.Data.Result) == 1
	}, func() string { return "Prometheus did not load the backfilled blocks" })
	judge := func(args ...string) (int, string, string) {
		return gw(t, append([]string{"canary", "judge", "--prometheus", base, "--end", endArg, "--window", "10m"}, args...)...)
	}

	t.Run("healthy canary passes", func(t *testing.T) {
		code, out, errOut := judge("--gateway", "shop-healthy")
		t.Log(out)
		require.Equal(t, 0, code, out+errOut)
		require.Regexp(t, `/v1/users/\{id\}\s+GET\s+error_ratio\s+Pass\s`, out)
		require.Regexp(t, `/v1/users/\{id\}\s+GET\s+latency_p99\s+Pass\s`, out)
		require.Contains(t, out, "not judged (too little traffic):")
		require.Regexp(t, `/v1/reports\s+POST\s+canary \d+ requests`, out)
		require.Contains(t, out, "score 100: pass")
	})
	t.Run("degraded canary fails", func(t *testing.T) {
		code, out, errOut := judge("--gateway", "shop-degraded")
		t.Log(out)
		require.Equal(t, 1, code, out+errOut)
		require.Regexp(t, `/v1/users/\{id\}\s+GET\s+error_ratio\s+High\s`, out)
		require.Regexp(t, `/v1/users/\{id\}\s+GET\s+latency_p99\s+High\s`, out)
		require.Contains(t, out, "score 0: fail")
	})
	t.Run("blue-green", func(t *testing.T) {
		code, out, errOut := judge("--gateway", "shop-bluegreen", "--track", "green", "--baseline", "blue")
		require.Equal(t, 1, code, out+errOut)
		require.Contains(t, out, "green against blue")
		require.Regexp(t, `error_ratio\s+Pass\s`, out)
		require.Regexp(t, `latency_p99\s+High\s`, out)
		require.Contains(t, out, "score 50: fail")
		// The default tracks find no canary there.
		code, _, _ = judge("--gateway", "shop-bluegreen")
		require.Equal(t, 2, code)
	})
	t.Run("json", func(t *testing.T) {
		code, out, errOut := judge("--gateway", "shop-degraded", "-o", "json")
		require.Equal(t, 1, code, errOut)
		var rep canary.Report
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.Len(t, rep.Results, 2)
		for _, r := range rep.Results {
			require.Equal(t, canary.High, r.Classification, r.Metric)
			require.Equal(t, 21, r.CanarySamples, "10m of samples every 30s, both ends included")
			require.Greater(t, float64(r.CanaryMean), float64(r.BaselineMean))
		}
		require.Equal(t, canary.VerdictFail, rep.Score.Verdict)
	})
	t.Run("a critical metric and a metric from gatewatch.yaml", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "gatewatch.yaml")
		require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `gateway: {name: shop-degraded}
canary:
  group_weights: {errors: 50, latency: 50}
  error_ratio: {critical: true}
  metrics:
    - name: request_rate
      query: 'sum by (track) (rate(%s{ {{ .Selector }} }[{{ .Rate }}]))'
`, schema.RequestsTotal.Name), 0o644))
		code, out, errOut := judge("-c", cfg)
		t.Log(out)
		require.Equal(t, 1, code, out+errOut)
		require.Regexp(t, `error_ratio\s+High \(critical\)`, out)
		require.Regexp(t, `\*\s+-\s+request_rate\s+\w+`, out, "a query without the endpoint label is judged gateway-wide")
		require.Contains(t, out, "(canary failed: the canary is higher")
	})
	t.Run("not enough data", func(t *testing.T) {
		code, out, _ := judge("--gateway", "no-such-gateway")
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "not enough data")
		code, out, _ = judge("--gateway", "shop-healthy", "--min-requests", "1e9")
		require.Equal(t, 2, code, out)
	})
}

func TestCanaryJudgeErrors(t *testing.T) {
	code, _, errOut := gw(t, "canary", "judge", "--prometheus", "http://127.0.0.1:1", "--gateway", "g", "--window", "1m")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "window 1m must hold at least 3 steps of 30s")
	code, _, errOut = gw(t, "canary", "judge", "--prometheus", "http://127.0.0.1:1")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no gateway name: pass --gateway NAME")
	code, _, errOut = gw(t, "canary", "judge", "--prometheus", "http://127.0.0.1:1", "--gateway", "g", "--end", "yesterday")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `--end "yesterday" is neither an RFC 3339 time`)
	code, _, errOut = gw(t, "canary", "judge", "--prometheus", "http://127.0.0.1:1", "--gateway", "g", "--timeout", "2s")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "querying Prometheus")
}

// TestCanaryAbort removes a target through the command line from a strict
// Kong stand-in with an admin token read from a file.
func TestCanaryAbort(t *testing.T) {
	const token = "kong-rbac-token-123"
	targets := map[string]bool{"/upstreams/orders/targets/10.0.0.6:8080": true}
	kong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get(canary.KongTokenHeader) != token:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Invalid credentials"}`))
		case r.Method != http.MethodDelete || !targets[r.URL.EscapedPath()]:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not found"}`))
		default:
			delete(targets, r.URL.EscapedPath())
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer kong.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	args := []string{"canary", "abort", "--kong-admin-url", kong.URL, "--upstream", "orders", "--target", "10.0.0.6:8080", "--admin-token-file", tokenFile}
	code, out, errOut := gw(t, args...)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "removed target 10.0.0.6:8080 from Kong upstream orders\n", out)
	require.Empty(t, targets)

	code, out, errOut = gw(t, args...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `Kong has no upstream "orders" or no target "10.0.0.6:8080" in it (404`)
	require.NotContains(t, out+errOut, token)

	t.Setenv("KONG_TOKEN", "wrong")
	code, out, errOut = gw(t, "canary", "abort", "--kong-admin-url", kong.URL, "--upstream", "orders", "--target", "x:1", "--admin-token-env", "KONG_TOKEN")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "(401; check the admin token)")
	require.NotContains(t, out+errOut, token)

	code, _, errOut = gw(t, "canary", "abort", "--kong-admin-url", kong.URL, "--upstream", "orders", "--target", "x:1", "--admin-token-env", "NO_SUCH_VARIABLE_GW")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "Kong admin token: environment variable NO_SUCH_VARIABLE_GW is not set")
}

// TestGenerateCanary: generate canary writes the three files of
// canary.GenerateChecks for the contract's gateway, and generate all
// writes the same.
func TestGenerateCanary(t *testing.T) {
	one, all := t.TempDir(), t.TempDir()
	code, out, errOut := gw(t, "generate", "canary", "--contract", "../../examples/krakend.json", "-o", one)
	require.Equal(t, 0, code, errOut)
	for _, name := range []string{canary.FlaggerTemplatesFile, canary.FlaggerAnalysisFile, canary.ArgoTemplateFile} {
		require.Contains(t, out, filepath.Join(one, name))
	}
	code, _, errOut = gw(t, "generate", "all", "--contract", "../../examples/krakend.json", "-o", all)
	require.Equal(t, 0, code, errOut)
	for _, name := range []string{canary.FlaggerTemplatesFile, canary.FlaggerAnalysisFile, canary.ArgoTemplateFile} {
		a, err := os.ReadFile(filepath.Join(one, name))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(all, name))
		require.NoError(t, err)
		require.Equal(t, string(a), string(b))
	}
	b, err := os.ReadFile(filepath.Join(one, canary.ArgoTemplateFile))
	require.NoError(t, err)
	require.Contains(t, string(b), schema.LabelGateway+`="shop-gateway"`, "queries select the gateway of rules.GatewayName")
	code, _, errOut = gw(t, "generate", "canary", "--output-dir", one)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no contract")
}

// FuzzParseTime: --end is an RFC 3339 time or Unix seconds; anything
// else is an error naming the flag, never a panic.
func FuzzParseTime(f *testing.F) {
	f.Add("2026-12-04T20:00:00Z")
	f.Add("1780000000.5")
	f.Add("yesterday")
	f.Add("NaN")
	f.Add("1e300")
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := parseTime(s)
		if err != nil {
			require.Contains(t, err.Error(), "--end ")
			return
		}
		if r, err := time.Parse(time.RFC3339, s); err == nil {
			require.True(t, r.Equal(ts))
		}
	})
}
