package shipper

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/shipper/estest"
	"github.com/gatewatch/gatewatch/tail"
)

func testConfig(t testing.TB, dir, url, mode string) *config.Config {
	t.Helper()
	cfg, err := config.Load("gw.yaml", fmt.Appendf(nil, `
gateway: {name: edge}
sidecar:
  logs: [{path: %q, format: kong}]
  checkpoint_dir: %q
  poll_interval: 20ms
  checkpoint_interval: 100ms
shipper:
  enabled: true
  urls: [%q]
  mode: %s
  batch_size: 200
  flush_interval: 50ms
  timeout: 2s
  backoff: {initial: 10ms, max: 200ms}
`, filepath.Join(dir, "access.log*"), dir, url, mode))
	require.NoError(t, err)
	return cfg
}

func testContract() *contract.Contract {
	return &contract.Contract{
		Gateway: contract.Kong, Name: "edge", Hash: "c0ffee",
		Endpoints: []contract.Endpoint{
			{Name: "users-get", Path: "/v1/users", Match: contract.MatchPrefix, Methods: []string{"GET"}, Public: true},
		},
	}
}

// writeLines appends n Kong lines to path, stamped from start one minute
// apart, and returns the requests written.
func writeLines(t testing.TB, path string, rnd *rand.Rand, start time.Time, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	var buf []byte
	for i := range n {
		buf = append(buf, loggen.Line("kong", rnd, loggen.Request{Time: start.Add(time.Duration(i) * time.Minute)})...)
		buf = append(buf, '\n')
	}
	_, err = f.Write(buf)
	require.NoError(t, err)
}

func runShipper(t testing.TB, s *Shipper) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShipIndexMode(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(7, 7))
	day1 := time.Date(2026, 11, 21, 23, 0, 0, 0, time.UTC)
	writeLines(t, log, rnd, day1, 120) // crosses midnight: two daily indices
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("this is not a kong line\n\n" +
		`{"request":{"method":"GET","uri":"/v1/users/42?token=s3cr3t&page=1","headers":{"authorization":"Bearer abc"}},"response":{"status":200,"size":1},"latencies":{"request":3,"proxy":2,"kong":1},"client_ip":"203.0.113.9","started_at":1795000000000}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	cfg := testConfig(t, dir, srv.URL, "index")
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg)
	require.NoError(t, err)
	stop := runShipper(t, s)
	waitFor(t, "122 documents", func() bool { return srv.Count("*") == 122 })
	stop()

	require.Equal(t, []string{"logs-gateway-2026.11.18", "logs-gateway-2026.11.21", "logs-gateway-2026.11.22", "logs-gateway-dlq"}, srv.Indices())
	require.Equal(t, []string{"logs-gateway-2026.11.18", "logs-gateway-2026.11.21", "logs-gateway-2026.11.22"}, srv.Aliases("logs-gateway"))
	_, ok := srv.Policy("gatewatch-logs-gateway")
	require.True(t, ok, "ILM policy installed")
	_, ok = srv.TemplateNamed("gatewatch-logs-gateway-dlq")
	require.True(t, ok, "dead-letter template installed")
	for id, n := range srv.IDs("*") {
		require.Equal(t, 1, n, id)
	}

	// The dead letter keeps the raw line and says why.
	dl := srv.Docs("logs-gateway-dlq")
	require.Len(t, dl, 1)
	require.Contains(t, string(dl[0].Source), `"message":"this is not a kong line"`)
	require.Contains(t, string(dl[0].Source), `"error":{"type":"decode"`)

	// The redacted line, with its ECS fields.
	var found map[string]any
	for _, d := range srv.Docs("logs-gateway") {
		if strings.Contains(string(d.Source), "1795000000000") {
			require.NoError(t, json.Unmarshal(d.Source, &found))
		}
	}
	require.NotNil(t, found)
	require.NotContains(t, found["message"], "s3cr3t")
	require.NotContains(t, found["message"], "Bearer abc")
	require.Equal(t, "token=REDACTED&page=1", found["url"].(map[string]any)["query"])
	require.Equal(t, "users-get", found["gatewatch"].(map[string]any)["endpoint"])
	require.Equal(t, "edge", found["gatewatch"].(map[string]any)["gateway"])
	require.Equal(t, "c0ffee", found["gatewatch"].(map[string]any)["contract_hash"])
	require.Equal(t, "203.0.113.9", found["client"].(map[string]any)["ip"])
	require.EqualValues(t, 3e6, found["event"].(map[string]any)["duration"])

	// The checkpoint covers the whole file.
	ck, ok, err := tail.LoadCheckpoint(cfg.ShipperCheckpointPath())
	require.NoError(t, err)
	require.True(t, ok)
	fi, err := os.Stat(log)
	require.NoError(t, err)
	require.Len(t, ck.Files, 1)
	require.Equal(t, fi.Size(), ck.Files[0].Offset)
	require.Equal(t, 121.0, testutil.ToFloat64(s.m.docs.WithLabelValues(ResultStored)))

	// A second run with the checkpoint removed replays everything: every
	// line answers 409 and nothing is doubled.
	require.NoError(t, os.Remove(cfg.ShipperCheckpointPath()))
	s2, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	stop = runShipper(t, s2)
	waitFor(t, "122 duplicates", func() bool {
		return testutil.ToFloat64(s2.m.docs.WithLabelValues(ResultDuplicate)) == 121
	})
	stop()
	require.Equal(t, 122, srv.Count("*"))
}

func TestShipThroughOutage(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	rnd := rand.New(rand.NewPCG(8, 8))
	cfg := testConfig(t, dir, srv.URL, "index")
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	start := time.Now().Add(-time.Hour).UTC()
	writeLines(t, log, rnd, start, 50)
	stop := runShipper(t, s)
	defer stop()
	waitFor(t, "first 50", func() bool { return srv.Count("logs-gateway") == 50 })

	srv.SetFaults(estest.Faults{Down: true})
	writeLines(t, log, rnd, start.Add(50*time.Minute), 300)
	waitFor(t, "lag to show", func() bool {
		return testutil.ToFloat64(s.m.lagBytes) > 0 && testutil.ToFloat64(s.m.lagSecs) > 0 &&
			testutil.ToFloat64(s.m.errors.WithLabelValues(ReasonNetwork)) > 0
	})
	require.Equal(t, 50, srv.Count("logs-gateway"))

	srv.SetFaults(estest.Faults{Item429: 0.2})
	waitFor(t, "all 350", func() bool { return srv.Count("logs-gateway") == 350 })
	for id, n := range srv.IDs("logs-gateway") {
		require.Equal(t, 1, n, id)
	}
	waitFor(t, "lag back to zero", func() bool { return testutil.ToFloat64(s.m.lagBytes) == 0 })
}

func TestShipTLSAndAPIKey(t *testing.T) {
	srv := estest.NewTLS()
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, srv.CertificatePEM(), 0o600))
	keyFile := filepath.Join(dir, "api-key")
	require.NoError(t, os.WriteFile(keyFile, []byte("a2V5LWlkOnNlY3JldA==\n"), 0o600))
	srv.RequireAuth("ApiKey a2V5LWlkOnNlY3JldA==")

	cfg := testConfig(t, dir, srv.URL, "index")
	cfg.Shipper.TLS.CAFile = ca
	cfg.Shipper.Auth.APIKey.File = keyFile
	writeLines(t, filepath.Join(dir, "access.log"), rand.New(rand.NewPCG(9, 9)), time.Now().Add(-time.Hour), 20)
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	stop := runShipper(t, s)
	waitFor(t, "20 documents over TLS with the API key", func() bool { return srv.Count("logs-gateway") == 20 })

	// A rotated key is read at the next request, without a restart.
	require.NoError(t, os.WriteFile(keyFile, []byte("bmV3LWtleQ=="), 0o600))
	srv.RequireAuth("ApiKey bmV3LWtleQ==")
	writeLines(t, filepath.Join(dir, "access.log"), rand.New(rand.NewPCG(10, 10)), time.Now().Add(-time.Hour), 5)
	waitFor(t, "5 more with the new key", func() bool { return srv.Count("logs-gateway") == 25 })
	stop()

	// Without the CA the server's certificate is refused: nothing is
	// shipped and Run still stops cleanly.
	cfg.Shipper.TLS.CAFile = ""
	require.NoError(t, os.Remove(cfg.ShipperCheckpointPath()))
	s, err = New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	stop = runShipper(t, s)
	time.Sleep(300 * time.Millisecond)
	stop()
	require.Equal(t, 25, srv.Count("logs-gateway"))
	require.Equal(t, 25, srv.Stats().Created, "no request got through")
}

func TestBasicAuth(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	require.NoError(t, os.WriteFile(pw, []byte("hunter2"), 0o600))
	h := authHeader(config.ShipperAuth{Username: "gw", Password: config.SecretRef{File: pw}})
	v, err := h()
	require.NoError(t, err)
	require.Equal(t, "Basic Z3c6aHVudGVyMg==", v)
	require.NoError(t, os.Remove(pw))
	_, err = h()
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

// TestStopDuringOutage stops the shipper while Elasticsearch is down and
// both batches are held: Run must return promptly, acknowledging nothing
// it could not ship.
func TestStopDuringOutage(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	cfg := testConfig(t, dir, srv.URL, "index")
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	stop := runShipper(t, s)
	waitFor(t, "bootstrap", func() bool { _, ok := srv.TemplateNamed("gatewatch-logs-gateway"); return ok })
	srv.SetFaults(estest.Faults{Down: true})
	writeLines(t, filepath.Join(dir, "access.log"), rand.New(rand.NewPCG(11, 11)), time.Now().Add(-time.Hour), 2000)
	waitFor(t, "the reader to block", func() bool { return testutil.ToFloat64(s.m.lagBytes) > 0 })
	time.Sleep(200 * time.Millisecond)
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	require.Zero(t, srv.Count("logs-gateway"))
	ck, _, err := tail.LoadCheckpoint(cfg.ShipperCheckpointPath())
	require.NoError(t, err)
	for _, f := range ck.Files {
		require.Zero(t, f.Offset, "nothing was acknowledged")
	}
}

func TestShipDataStreamMode(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, rand.New(rand.NewPCG(12, 12)), time.Date(2026, 11, 21, 23, 0, 0, 0, time.UTC), 100)
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("garbage\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	cfg := testConfig(t, dir, srv.URL, "data_stream")
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	stop := runShipper(t, s)
	waitFor(t, "101 documents", func() bool { return srv.Count("*") == 101 })
	stop()

	backing := srv.DataStream("logs-gateway-default")
	require.Len(t, backing, 1, "one data stream, created by its template on the first write")
	require.Equal(t, 100, srv.Count("logs-gateway-default"))
	require.Equal(t, 1, srv.Count("logs-gateway-dlq"))
	require.Nil(t, srv.DataStream("logs-gateway-dlq"), "the dead-letter index is a plain index")
	tmpl, ok := srv.TemplateNamed("gatewatch-logs-gateway-default")
	require.True(t, ok)
	require.NotNil(t, tmpl.DataStream)
}

// TestShipCRIPartialLines ships a line the container runtime split into
// pieces: one document, with the id of the first piece, and the
// checkpoint past the last piece only once it is stored.
func TestShipCRIPartialLines(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	line := loggen.Line("kong", rand.New(rand.NewPCG(13, 13)), loggen.Request{Time: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), RequestID: "split0001"})
	half := len(line) / 2
	content := "2026-11-22T10:00:00.100000000Z stdout P " + string(line[:half]) + "\n" +
		"2026-11-22T10:00:00.100000001Z stdout F " + string(line[half:]) + "\n" +
		"2026-11-22T10:00:01.000000000Z stdout F " + string(loggen.Line("kong", rand.New(rand.NewPCG(14, 14)), loggen.Request{Time: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)})) + "\n"
	require.NoError(t, os.WriteFile(log, []byte(content), 0o644))

	cfg := testConfig(t, dir, srv.URL, "index")
	cfg.Sidecar.Logs[0].Envelope = "cri"
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	stop := runShipper(t, s)
	waitFor(t, "2 documents", func() bool { return srv.Count("logs-gateway") == 2 })
	stop()
	require.Zero(t, srv.Count("logs-gateway-dlq"))
	var joined map[string]any
	for _, d := range srv.Docs("logs-gateway") {
		if strings.Contains(string(d.Source), "split0001") {
			require.NoError(t, json.Unmarshal(d.Source, &joined))
			require.Equal(t, "0", strings.Split(d.ID, "-")[1], "the offset of the first piece: %s", d.ID)
		}
	}
	require.NotNil(t, joined)
	require.Equal(t, string(line), joined["message"], "the message is the joined inner line")
	require.EqualValues(t, 0, joined["log"].(map[string]any)["offset"])
	ck, _, err := tail.LoadCheckpoint(cfg.ShipperCheckpointPath())
	require.NoError(t, err)
	require.Len(t, ck.Files, 1)
	require.EqualValues(t, len(content), ck.Files[0].Offset)
}
