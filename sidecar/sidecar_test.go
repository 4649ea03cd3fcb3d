package sidecar

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/tail"
)

func testContract() *contract.Contract {
	return &contract.Contract{
		Gateway: contract.Kong,
		Name:    "shop",
		Hash:    "0123abcd",
		Endpoints: []contract.Endpoint{
			{Name: "users", Path: "/v1/users", Match: contract.MatchPrefix, Methods: []string{"GET"}, Timeout: 2 * time.Second},
			{Name: "orders", Path: "/v1/orders", Match: contract.MatchPrefix},
		},
	}
}

// testConfig returns a sidecar configuration reading path from the
// beginning, with fast polling and a checkpoint in a temporary folder.
func testConfig(t *testing.T, dir string, paths ...string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Sidecar.Logs = nil
	for _, p := range paths {
		cfg.Sidecar.Logs = append(cfg.Sidecar.Logs, config.LogConfig{Path: p, Envelope: "none"})
	}
	cfg.Sidecar.Listen = "127.0.0.1:0"
	cfg.Sidecar.CheckpointDir = dir
	cfg.Sidecar.Start = config.StartBeginning
	cfg.Sidecar.PollInterval = config.Duration(20 * time.Millisecond)
	cfg.Sidecar.CheckpointInterval = config.Duration(200 * time.Millisecond)
	return cfg
}

// start runs s in the background; the returned function stops it and
// returns Run's error.
func start(t *testing.T, s *Sidecar) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	var err error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the sidecar did not stop within 20s of cancellation")
			}
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// sum adds every sample of the family name in g.
func sum(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return total
}

// value sums the samples of family name whose label has the given value.
func value(t *testing.T, g prometheus.Gatherer, name, label, val string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	total, found := 0.0, false
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == val {
					total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
					found = true
				}
			}
		}
	}
	if !found {
		t.Fatalf("no %s{%s=%q}", name, label, val)
	}
	return total
}

// waitFor polls cond until it holds or 30s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 30s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeLines(t *testing.T, path, format string, rnd *rand.Rand, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	for range n {
		w.Write(loggen.Line(format, rnd, loggen.Request{}))
		w.WriteByte('\n')
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

// TestRotationEndToEnd writes N lines while rotating the file — by rename
// and create (logrotate's default, kubelet), and by copytruncate with a glob
// that also matches the copies — and requires exactly N requests counted:
// none lost, none doubled.
func TestRotationEndToEnd(t *testing.T) {
	cases := []struct {
		name   string
		glob   bool
		rotate func(t *testing.T, log string, i int)
	}{
		{"rename and create", false, func(t *testing.T, log string, i int) {
			require.NoError(t, os.Rename(log, fmt.Sprintf("%s.%d", log, i)))
		}},
		{"copytruncate", true, func(t *testing.T, log string, i int) {
			b, err := os.ReadFile(log)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(fmt.Sprintf("%s.%d", log, i), b, 0o644))
			require.NoError(t, os.Truncate(log, 0))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "access.log")
			follow := log
			if tc.glob {
				follow = log + "*"
			}
			reg := prometheus.NewRegistry()
			s, err := New(testConfig(t, filepath.Join(dir, "state"), follow), testContract(), nil, reg, Options{})
			require.NoError(t, err)
			stop := start(t, s)

			rnd := rand.New(rand.NewPCG(1, 2))
			const rotations, perFile = 6, 700
			for i := range rotations {
				writeLines(t, log, "kong", rnd, perFile/2)
				time.Sleep(30 * time.Millisecond) // let the reader catch up in the middle of a file
				writeLines(t, log, "kong", rnd, perFile-perFile/2)
				if i%2 == 1 {
					// sometimes let the reader finish the file first
					waitFor(t, "the reader to catch up", func() bool {
						return sum(t, reg, schema.RequestsTotal.Name) == float64((i+1)*perFile)
					})
				}
				tc.rotate(t, log, i+1)
			}
			writeLines(t, log, "kong", rnd, 123)
			const want = rotations*perFile + 123

			waitFor(t, fmt.Sprintf("%d requests", want), func() bool {
				return sum(t, reg, schema.RequestsTotal.Name) >= want
			})
			time.Sleep(300 * time.Millisecond) // a doubled line would show up now
			require.NoError(t, stop())
			require.Equal(t, float64(want), sum(t, reg, schema.RequestsTotal.Name))
			require.Equal(t, 0.0, sum(t, reg, schema.DecodeErrors.Name))
			require.Equal(t, float64(want), sum(t, reg, schema.LinesRead.Name))

			// The file metrics saw the rotations, and nothing lost.
			rotated, truncated := sum(t, reg, schema.Rotations.Name), sum(t, reg, schema.Truncations.Name)
			if tc.glob {
				require.Equal(t, 0.0, rotated)
				require.InDelta(t, 3.5, truncated, 2.5, "1 to 6 truncations seen")
			} else {
				require.InDelta(t, 3.5, rotated, 2.5, "1 to 6 rotations seen")
				require.Equal(t, 0.0, truncated)
			}
			if !tc.glob {
				require.Equal(t, 0.0, value(t, reg, schema.SkippedBytes.Name, "reason", schema.SkippedLost))
			} // with copytruncate, "lost" is an upper bound: a partial line pending at the truncation, which the copy delivered
			require.Equal(t, 0.0, value(t, reg, schema.SkippedBytes.Name, "reason", schema.SkippedTooLong))
		})
	}
}

// TestRestartResumesAtCheckpoint stops the sidecar (as on SIGTERM), writes
// more lines, and requires a new sidecar resuming from the checkpoint to
// count exactly the new lines.
func TestRestartResumesAtCheckpoint(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(3, 4))
	writeLines(t, log, "kong", rnd, 500)

	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.Start = config.StartCheckpoint
	cfg.Sidecar.CheckpointInterval = config.Duration(time.Hour) // only the final write counts
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{})
	require.NoError(t, err)
	stop := start(t, s)
	waitFor(t, "500 requests", func() bool { return sum(t, reg, schema.RequestsTotal.Name) == 500 })
	require.NoError(t, stop())

	ck, ok, err := tail.LoadCheckpoint(filepath.Join(dir, "state", CheckpointFile))
	require.NoError(t, err)
	require.True(t, ok, "no checkpoint written on shutdown")
	fi, err := os.Stat(log)
	require.NoError(t, err)
	require.Len(t, ck.Files, 1)
	require.Equal(t, fi.Size(), ck.Files[0].Offset)

	writeLines(t, log, "kong", rnd, 77)
	reg2 := prometheus.NewRegistry()
	s2, err := New(cfg, testContract(), nil, reg2, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s2.Run(context.Background()))
	require.Equal(t, 77.0, sum(t, reg2, schema.RequestsTotal.Name))
}

func TestDecodeErrorsCounted(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(5, 6))
	writeLines(t, log, "kong", rnd, 10)
	long := strings.Repeat("x", 5000)
	require.NoError(t, appendFile(log, "not json at all\n{\"request\":\n"+`{"started_at":1,"latencies":{}}`+"\n"+long+"\n"))

	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.MaxLineBytes = 4096
	reg := prometheus.NewRegistry()
	var logs strings.Builder
	s, err := New(cfg, testContract(), slog.New(slog.NewTextHandler(&logs, nil)), reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	require.Equal(t, Summary{Lines: 14, DecodeErrors: 4}, s.Summary())
	require.Equal(t, 10.0, sum(t, reg, schema.RequestsTotal.Name))
	require.Equal(t, 4.0, sum(t, reg, schema.DecodeErrors.Name))
	require.Equal(t, 1.0, value(t, reg, schema.DecodeErrors.Name, "reason", "too_long"))
	require.Equal(t, 2.0, value(t, reg, schema.DecodeErrors.Name, "reason", "json"))
	require.Equal(t, 1.0, value(t, reg, schema.DecodeErrors.Name, "reason", "missing_field"))

	// Each reason is logged once (rate-limited), with its place, and the
	// line itself never is.
	out := logs.String()
	require.Equal(t, 1, strings.Count(out, "reason=json"), out)
	require.Equal(t, 1, strings.Count(out, "reason=too_long"), out)
	require.Contains(t, out, "file="+log)
	require.NotContains(t, out, "not json at all")
	require.NotContains(t, out, "xxxxxxxx")
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func TestHTTPEndpoints(t *testing.T) {
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "# HELP kong_nginx_connections_total Connections.\n# TYPE kong_nginx_connections_total gauge\nkong_nginx_connections_total{state=\"active\"} 7\n"+
			"# TYPE go_goroutines gauge\ngo_goroutines 12345\n")
	}))
	defer gw.Close()

	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, "kong", rand.New(rand.NewPCG(7, 8)), 3)
	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.ScrapeGateway = &config.ScrapeGatewayConfig{URL: gw.URL + "/metrics", Timeout: config.Duration(time.Second)}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{})
	require.NoError(t, err)
	base := "http://" + s.Addr().String()

	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "ready before the reader started")

	start(t, s)
	waitFor(t, "3 requests", func() bool { return sum(t, reg, schema.RequestsTotal.Name) == 3 })
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + p)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
	}

	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, resp.Header.Get("Content-Type"), "application/openmetrics-text")
	text := string(body)
	for _, want := range []string{
		`kong_nginx_connections_total{state="active"} 7.0`, // the gateway's own metrics beside ours
		`gatewatch_contract_info{gateway="shop",hash="0123abcd",kind="kong",track="stable",version=""} 1.0`,
		`,le="` + schema.LE(1) + `"}`, // OpenMetrics le labels, as the rules generator writes them
		"\ngo_goroutines{gateway=\"shop\"} ",
		"\nprocess_cpu_seconds_total{gateway=\"shop\"} ",
	} {
		require.True(t, strings.Contains(text, want), "/metrics lacks %s", want)
	}
	require.False(t, strings.Contains(text, "go_goroutines 12345"), "the gateway's go_ metrics collide with ours and are left out")
	require.True(t, strings.HasSuffix(text, "# EOF\n"))

	// A gateway that fails does not take our metrics down.
	gw.Close()
	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.Contains(string(body), schema.RequestsTotal.Name), "our metrics are gone when the gateway fails")
}

func TestStdin(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 25 {
		b.Write(loggen.Line("envoy", rnd, loggen.Request{}))
		b.WriteByte('\n')
	}
	cfg := testConfig(t, dir, "-")
	cfg.Sidecar.Logs[0].Format = "envoy"
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{Once: true, Stdin: strings.NewReader(b.String())})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	require.Equal(t, 25.0, sum(t, reg, schema.RequestsTotal.Name))
}

func TestBadDecoderConfig(t *testing.T) {
	cfg := testConfig(t, t.TempDir(), "x.log")
	cfg.Sidecar.Logs[0].Format = "json" // without a mapping
	_, err := New(cfg, testContract(), nil, prometheus.NewRegistry(), Options{Once: true})
	require.ErrorContains(t, err, "logs[0] (x.log): access-log format json")
}

func FuzzParseExposition(f *testing.F) {
	f.Add("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n")
	f.Add("# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n# EOF\n")
	f.Add("x{a=\"\\\"\"} NaN 123\n")
	f.Add("garbage {{{\n")
	f.Fuzz(func(t *testing.T, s string) {
		mfs, err := parseExposition(strings.NewReader(s))
		if err == nil {
			for _, mf := range mfs {
				require.NotEmpty(t, mf.GetName())
			}
		}
	})
}

// TestExtraLabels counts a generic JSON log by the allow-listed values of
// a field its mapping extracts.
func TestExtraLabels(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(13, 14))
	f, err := os.Create(log)
	require.NoError(t, err)
	for _, c := range []string{"mobile-app", "web-frontend", "partner-acme", "mobile-app"} {
		f.Write(loggen.Line("json", rnd, loggen.Request{Consumer: c}))
		f.WriteString("\n")
	}
	require.NoError(t, f.Close())

	var m accesslog.Mapping
	require.NoError(t, yaml.Unmarshal([]byte(loggen.JSONMapping), &m))
	m.Extra = map[string]string{"consumer": "auth.subject"}
	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.Logs[0].Format = "json"
	cfg.Sidecar.Logs[0].Mapping = &m
	cfg.Sidecar.ExtraLabels = []config.ExtraLabelConfig{{Field: "consumer", Values: []string{"mobile-app", "web-frontend"}}}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	require.Equal(t, Summary{Lines: 4}, s.Summary())
	require.Equal(t, 2.0, value(t, reg, schema.RequestsByField.Name, "value", "mobile-app"))
	require.Equal(t, 1.0, value(t, reg, schema.RequestsByField.Name, "value", "web-frontend"))
	require.Equal(t, 1.0, value(t, reg, schema.RequestsByField.Name, "value", "other"))
}

// TestExtraLabelsBuiltinFormats counts Kong and Envoy JSON logs by a field
// named in logs[].extra: a Kong request header and an Envoy json_format key.
func TestExtraLabelsBuiltinFormats(t *testing.T) {
	dir := t.TempDir()
	kong, envoy := filepath.Join(dir, "kong.log"), filepath.Join(dir, "envoy.log")
	var kb, eb strings.Builder
	for i, v := range []string{"A", "B", "A", "C", ""} {
		header := ""
		if v != "" {
			header = fmt.Sprintf(`,"x-ab-variant":%q`, v)
		}
		fmt.Fprintf(&kb, `{"request":{"method":"GET","uri":"\/v1\/users\/%d","headers":{"host":"shop"%s}},"response":{"status":200},"latencies":{"request":5},"started_at":1700000000000}`+"\n", i, header)
		envoyVariant := "null"
		if v != "" {
			envoyVariant = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&eb, `{"start_time":"2026-11-22T10:00:00.000Z","method":"POST","path":"/v1/orders","response_code":201,"duration":3,"x_variant":%s}`+"\n", envoyVariant)
	}
	require.NoError(t, os.WriteFile(kong, []byte(kb.String()), 0o644))
	require.NoError(t, os.WriteFile(envoy, []byte(eb.String()), 0o644))

	cfg := testConfig(t, filepath.Join(dir, "state"), kong, envoy)
	cfg.Sidecar.Logs[0].Format = "kong"
	cfg.Sidecar.Logs[0].Extra = map[string]string{"variant": "request.headers.x-ab-variant"}
	cfg.Sidecar.Logs[1].Format = "envoy"
	cfg.Sidecar.Logs[1].Extra = map[string]string{"variant": "x_variant"}
	cfg.Sidecar.ExtraLabels = []config.ExtraLabelConfig{{Field: "variant", Values: []string{"A", "B"}}}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	require.Equal(t, Summary{Lines: 10}, s.Summary())
	for _, tc := range []struct {
		endpoint, value string
		want            float64
	}{
		{"users", "A", 2}, {"users", "B", 1}, {"users", "other", 1}, {"users", "none", 1},
		{"orders", "A", 2}, {"orders", "B", 1}, {"orders", "other", 1}, {"orders", "none", 1},
	} {
		got := 0.0
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != schema.RequestsByField.Name {
				continue
			}
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				if l["endpoint"] == tc.endpoint && l["value"] == tc.value && l["field"] == "variant" {
					got += m.GetCounter().GetValue()
				}
			}
		}
		require.Equal(t, tc.want, got, "%s %s", tc.endpoint, tc.value)
	}
}

// TestRouteNameWins: a Kong line names the route Kong chose; the endpoint
// of that name is used even where the path alone would match another one
// (or none).
func TestRouteNameWins(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(15, 16))
	f, err := os.Create(log)
	require.NoError(t, err)
	for _, r := range []loggen.Request{
		{Method: "GET", Path: "/somewhere/else", Route: "orders"},    // route wins over the path
		{Method: "GET", Path: "/v1/users/7", Route: "unknown-route"}, // unknown route: the path decides
		{Method: "GET", Path: "/nowhere", Route: "not-in-contract"},  // neither: unmatched
	} {
		f.Write(loggen.Line("kong", rnd, r))
		f.WriteString("\n")
	}
	require.NoError(t, f.Close())
	reg := prometheus.NewRegistry()
	s, err := New(testConfig(t, filepath.Join(dir, "state"), log), testContract(), nil, reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	require.Equal(t, 1.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "orders"))
	require.Equal(t, 1.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "users"))
	require.Equal(t, 1.0, value(t, reg, schema.RequestsTotal.Name, "endpoint", "unmatched"))
}

// TestOnceCancelled: a --once run whose context is cancelled (SIGTERM)
// returns without error and writes its checkpoint.
func TestOnceCancelled(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, "kong", rand.New(rand.NewPCG(19, 20)), 20)
	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	s, err := New(cfg, testContract(), nil, prometheus.NewRegistry(), Options{Once: true})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, s.Run(ctx))
	_, ok, err := tail.LoadCheckpoint(filepath.Join(dir, "state", CheckpointFile))
	require.NoError(t, err)
	require.True(t, ok)
}

// TestShipperRunner: with shipper.enabled the factory's Runner runs beside
// the metrics reader and is stopped with it; without a factory New says so.
func TestShipperRunner(t *testing.T) {
	old := ShipperFactory
	t.Cleanup(func() { ShipperFactory = old })
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, "kong", rand.New(rand.NewPCG(21, 22)), 5)
	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.Start = config.StartBeginning
	cfg.Shipper.Enabled = true

	ShipperFactory = nil
	_, err := New(cfg, testContract(), nil, prometheus.NewRegistry(), Options{})
	require.ErrorContains(t, err, "shipper.enabled is set but this gatewatch has no shipper")

	started, stopped := make(chan struct{}), make(chan struct{})
	ShipperFactory = func(c *config.Config, _ *contract.Contract, _ *slog.Logger, _ prometheus.Registerer) (Runner, error) {
		require.True(t, c.Shipper.Enabled)
		return RunnerFunc(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			close(stopped)
			return nil
		}), nil
	}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{})
	require.NoError(t, err)
	stop := start(t, s)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the shipper runner did not start")
	}
	waitFor(t, "5 requests", func() bool { return sum(t, reg, schema.RequestsTotal.Name) == 5 })
	require.NoError(t, stop())
	select {
	case <-stopped:
	default:
		t.Fatal("the shipper runner was not stopped with the sidecar")
	}
}

// TestGatewayLabelOnEverySeries: every series the sidecar serves (request
// metrics, self-metrics, runtime metrics and what the shipper registers)
// carries gateway="<gateway.name>", so that several gateways share one
// Prometheus; the contract's own name is used without gateway.name.
func TestGatewayLabelOnEverySeries(t *testing.T) {
	old := ShipperFactory
	t.Cleanup(func() { ShipperFactory = old })
	for _, tc := range []struct{ name, want string }{{"edge-eu", "edge-eu"}, {"", "shop"}} {
		t.Run(tc.want, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "access.log")
			writeLines(t, log, "kong", rand.New(rand.NewPCG(31, 32)), 5)
			cfg := testConfig(t, filepath.Join(dir, "state"), log)
			cfg.Gateway.Name = tc.name
			cfg.Shipper.Enabled = true
			ShipperFactory = func(_ *config.Config, _ *contract.Contract, _ *slog.Logger, reg prometheus.Registerer) (Runner, error) {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: schema.ShipperErrors.Name, Help: schema.ShipperErrors.Help})
				reg.MustRegister(c)
				return RunnerFunc(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
			}
			reg := prometheus.NewRegistry()
			s, err := New(cfg, testContract(), nil, reg, Options{})
			require.NoError(t, err)
			stop := start(t, s)
			waitFor(t, "5 requests", func() bool { return sum(t, reg, schema.RequestsTotal.Name) == 5 })
			mfs, err := reg.Gather()
			require.NoError(t, err)
			names := map[string]bool{}
			for _, mf := range mfs {
				names[mf.GetName()] = true
				for _, m := range mf.GetMetric() {
					got := ""
					for _, l := range m.GetLabel() {
						if l.GetName() == schema.LabelGateway {
							got = l.GetValue()
						}
					}
					require.Equal(t, tc.want, got, "%s %v", mf.GetName(), m.GetLabel())
				}
			}
			for _, n := range []string{schema.RequestsTotal.Name, schema.LinesRead.Name, schema.Rotations.Name, schema.ShipperErrors.Name, "go_goroutines"} {
				require.True(t, names[n], "%s is not served", n)
			}
			require.NoError(t, stop())
		})
	}
}

// TestStopBetweenPartialPieces: a stop while a CRI P piece waits for its F
// leaves the checkpoint before the P, so that after the restart the whole
// line is read again and counted, not its F alone as a decode error.
func TestStopBetweenPartialPieces(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(4, 4))
	line := string(loggen.Line("kong", rnd, loggen.Request{Time: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), Path: "/v1/users/1", Method: "GET"}))
	whole := "2026-11-20T12:00:00.000000000Z stdout F " + line + "\n"
	first := "2026-11-20T12:00:01.000000000Z stdout P " + line[:len(line)/2] + "\n"
	rest := "2026-11-20T12:00:01.000000001Z stdout F " + line[len(line)/2:] + "\n"
	require.NoError(t, os.WriteFile(log, []byte(whole+first), 0o644))
	cfg := testConfig(t, dir, log)
	cfg.Sidecar.Logs[0].Envelope = "cri"
	cfg.Sidecar.Start = config.StartCheckpoint
	run := func(wantLines int) *prometheus.Registry {
		reg := prometheus.NewRegistry()
		s, err := New(cfg, testContract(), nil, reg, Options{})
		require.NoError(t, err)
		stop := start(t, s)
		waitFor(t, "the lines", func() bool { return s.Summary().Lines >= uint64(wantLines) })
		require.NoError(t, stop())
		require.Zero(t, s.Summary().DecodeErrors)
		return reg
	}
	reg := run(2)
	require.EqualValues(t, 1, sum(t, reg, schema.RequestsTotal.Name))
	ck, _, err := tail.LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	require.NoError(t, err)
	require.Len(t, ck.Files, 1)
	require.EqualValues(t, len(whole), ck.Files[0].Offset, "the checkpoint stops before the P piece")

	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(rest)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	reg = run(2)
	require.EqualValues(t, 1, sum(t, reg, schema.RequestsTotal.Name), "the split request is counted after the restart")
	ck, _, err = tail.LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	require.NoError(t, err)
	require.EqualValues(t, len(whole+first+rest), ck.Files[0].Offset)
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnwritableCheckpoint: a checkpoint that cannot be written is logged
// at ERROR (once, not every interval), makes /readyz not ready, ages
// checkpoint_age_seconds from the last successful write, and makes Run
// fail when the final checkpoint cannot be written either.
func TestUnwritableCheckpoint(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, "krakend", rand.New(rand.NewPCG(5, 5)), 10)
	ckdir := filepath.Join(dir, "state")
	cfg := testConfig(t, ckdir, log)
	cfg.Sidecar.CheckpointInterval = config.Duration(50 * time.Millisecond)
	var logs lockedBuffer
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), slog.New(slog.NewTextHandler(&logs, nil)), reg, Options{})
	require.NoError(t, err)
	// Where the checkpoint's folder was, a file: every write fails (the
	// tests run as root, so permissions would not stop them).
	require.NoError(t, os.RemoveAll(ckdir))
	require.NoError(t, os.WriteFile(ckdir, nil, 0o644))
	stop := start(t, s)
	waitFor(t, "the failures", func() bool { return s.tailer.Stats().CheckpointErrors >= 4 })
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "checkpoint cannot be written")
	waitFor(t, "the age", func() bool { return sum(t, reg, schema.CheckpointAge.Name) > 1 })
	require.Equal(t, 1, strings.Count(logs.String(), "Saving the checkpoint failed"), logs.String())
	require.Contains(t, logs.String(), "level=ERROR")
	err = stop()
	require.ErrorContains(t, err, "write checkpoint")
}

// TestOnceHoldsHalfWrittenLine: sidecar --once on a live file leaves its
// unterminated last line (being written) for the next run, which reads it
// whole, instead of counting half a line now and the rest as a bad line.
func TestOnceHoldsHalfWrittenLine(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(6, 6))
	var lines []string
	for i := range 3 {
		lines = append(lines, string(loggen.Line("kong", rnd, loggen.Request{Time: time.Date(2026, 11, 20, 12, 0, i, 0, time.UTC)})))
	}
	half := len(lines[2]) / 2
	require.NoError(t, os.WriteFile(log, []byte(lines[0]+"\n"+lines[1]+"\n"+lines[2][:half]), 0o644))
	cfg := testConfig(t, dir, log)
	cfg.Sidecar.Start = config.StartCheckpoint
	once := func() Summary {
		s, err := New(cfg, testContract(), nil, prometheus.NewRegistry(), Options{Once: true})
		require.NoError(t, err)
		require.NoError(t, s.Run(context.Background()))
		return s.Summary()
	}
	require.Equal(t, Summary{Lines: 2}, once())
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(lines[2][half:] + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, Summary{Lines: 1}, once(), "the last line, whole, once")
}

// TestKrakenDApplicationLogSkipped: KrakenD's own log lines in the access
// log's stream are counted as skipped lines, not as decode errors (which
// page on quiet gateways).
func TestKrakenDApplicationLogSkipped(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	require.NoError(t, os.WriteFile(log, []byte(strings.Join([]string{
		`Parsing configuration file: /etc/krakend/krakend.json`,
		"\x1b[36m[KRAKEND]\x1b[0m 2026/11/20 - 12:00:00.000 \x1b[32m▶ INFO\x1b[0m Starting KrakenD v2.13.8",
		`[GIN-debug] GET    /__health                 --> handler (3 handlers)`,
		`[GIN] 2026/11/20 - 12:00:01 | 200 |    1.2ms |  10.0.0.1 | GET      "/v1/users/1"`,
		`Error #01: context deadline exceeded`,
		`panic: runtime error`,
	}, "\n")+"\n"), 0o644))
	cfg := testConfig(t, dir, log)
	cfg.Sidecar.Logs[0].Format = "krakend"
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	require.Equal(t, Summary{Lines: 6, DecodeErrors: 1}, s.Summary(), "only the panic line is a decode error")
	require.EqualValues(t, 4, value(t, reg, schema.SkippedLines.Name, schema.LabelReason, accesslog.SkippedOtherLog))
	require.EqualValues(t, 1, value(t, reg, schema.DecodeErrors.Name, schema.LabelReason, accesslog.ReasonNotAccessLog))
}

// TestGlobMatchingNothing: a log glob that matches nothing is logged with
// the glob at start, and its files_matched gauge is 0, beside the count of
// a glob that matches.
func TestGlobMatchingNothing(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, "kong", rand.New(rand.NewPCG(7, 7)), 3)
	typo := filepath.Join(dir, "acess.log*")
	cfg := testConfig(t, dir, log, typo)
	var logs lockedBuffer
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), slog.New(slog.NewTextHandler(&logs, nil)), reg, Options{})
	require.NoError(t, err)
	stop := start(t, s)
	waitFor(t, "the lines", func() bool { return s.Summary().Lines >= 3 })
	require.EqualValues(t, 1, value(t, reg, schema.FilesMatched.Name, schema.LabelGlob, log))
	require.EqualValues(t, 0, value(t, reg, schema.FilesMatched.Name, schema.LabelGlob, typo))
	require.NoError(t, stop())
	require.Contains(t, logs.String(), `level=WARN msg="Log pattern matches no file; nothing is read from it" glob=`+typo)
	require.Equal(t, 1, strings.Count(logs.String(), "matches no file"), "logged once, then every 5 minutes")
}
