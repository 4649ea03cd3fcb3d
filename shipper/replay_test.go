package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/shipper/estest"
)

func TestReplay(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(3, 3))
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	a, b := filepath.Join(dir, "old-1.log"), filepath.Join(dir, "old-2.log")
	writeLines(t, a, rnd, start, 300)
	writeLines(t, b, rnd, start.Add(300*time.Minute), 200)
	f, err := os.OpenFile(b, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"request":{"method":"GET","uri":"/last"},"response":{"status":200},"started_at":1795000000000}`) // no final newline
	require.NoError(t, err)
	require.NoError(t, f.Close())

	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	var last ReplayProgress
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{a, b}, func(p ReplayProgress) { last = p }))
	require.True(t, last.Done)
	require.EqualValues(t, 501, last.Documents)
	require.Equal(t, last.Total, last.Bytes)
	require.Equal(t, 501, srv.Count("logs-gateway"))

	// Again: idempotent.
	s, err = New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{a, b}, nil))
	require.Equal(t, 501, srv.Count("logs-gateway"))
	require.Equal(t, 501, srv.Stats().Conflicts)

	var out bytes.Buffer
	pp := NewProgressPrinter(&out, false)
	pp.Update(last)
	require.True(t, strings.HasPrefix(out.String(), "100% "), out.String())
	require.Contains(t, out.String(), "501 documents")
}

func TestFormatProgress(t *testing.T) {
	p := ReplayProgress{Bytes: 50 << 20, Total: 200 << 20, Documents: 100000, Elapsed: 10 * time.Second}
	require.Equal(t, "[=======>                      ]  25% 50.0 MiB / 200.0 MiB, 100000 documents, 10000 docs/s, 30s left", FormatProgress(p, true))
	require.Equal(t, "  0% 0 B / 1.0 KiB, 0 documents, 0 docs/s, ? left", FormatProgress(ReplayProgress{Total: 1024}, false))
}

// TestReplayExtraFields: fields named in logs[].extra reach the documents
// as labels, like mapping.extra's.
func TestReplayExtraFields(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	require.NoError(t, os.WriteFile(log, []byte(
		`{"request":{"method":"GET","uri":"\/v1\/users\/1","headers":{"host":"shop","x-ab-variant":"B"}},"response":{"status":200},"started_at":1795000000000}`+"\n"+
			`{"request":{"method":"GET","uri":"\/v1\/users\/2","headers":{"host":"shop"}},"response":{"status":200},"started_at":1795000000001}`+"\n"), 0o644))
	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	cfg.Sidecar.Logs[0].Extra = map[string]string{"variant": "request.headers.x-ab-variant"}
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{log}, nil))
	docs := srv.Docs("logs-gateway")
	require.Len(t, docs, 2)
	var variants []any
	for _, d := range docs {
		var doc struct {
			Labels map[string]any `json:"labels"`
			URL    struct {
				Path string `json:"path"`
			} `json:"url"`
		}
		require.NoError(t, json.Unmarshal(d.Source, &doc), "%s", d.Source)
		variants = append(variants, doc.Labels["variant"])
	}
	require.ElementsMatch(t, []any{"B", nil}, variants)
}

// TestReplaySameFirstLine: two files that begin with the same line (a
// health check, as two gateway pods log it at start) are two files: every
// line of both is stored, and a second replay stores nothing twice.
func TestReplaySameFirstLine(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	var files []string
	for i := range 2 {
		var b strings.Builder
		b.WriteString(`[GIN] 2026/11/20 - 12:00:00 | 200 |       1.1ms |  10.0.0.9 | GET      "/__health"` + "\n")
		for j := range 50 {
			fmt.Fprintf(&b, "[GIN] 2026/11/20 - 12:%02d:%02d | 200 |    1.%03dms |  10.0.0.%d | GET      \"/v1/users/%d\"\n", j, i, j, i+1, 1000+100*i+j)
		}
		f := filepath.Join(dir, fmt.Sprintf("pod-%d.log", i))
		require.NoError(t, os.WriteFile(f, []byte(b.String()), 0o644))
		files = append(files, f)
	}
	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	cfg.Sidecar.Logs[0].Format = "krakend"
	for round := range 2 {
		s, err := New(cfg, nil, nil, nil)
		require.NoError(t, err)
		require.NoError(t, s.Replay(context.Background(), files, nil))
		require.Equal(t, 102, srv.Count("logs-gateway*"), "round %d: %v", round, srv.Indices())
	}
	require.Equal(t, 102, srv.Stats().Conflicts)

	// KrakenD's own log in the same stream is skipped, not stored nor
	// dead-lettered.
	f := filepath.Join(dir, "pod-2.log")
	require.NoError(t, os.WriteFile(f, []byte("Parsing configuration file: /etc/krakend/krakend.json\n"+
		"[KRAKEND] 2026/11/20 - 12:00:00.000 ▶ INFO Starting KrakenD v2.13.8\n"+
		`[GIN] 2026/11/20 - 12:00:01 | 200 |       1.1ms |  10.0.0.9 | GET      "/v1/users/7"`+"\n"), 0o644))
	reg := prometheus.NewPedanticRegistry()
	s, err := New(cfg, nil, nil, reg)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{f}, nil))
	require.Equal(t, 103, srv.Count("logs-gateway*"))
	require.EqualValues(t, 2, testutil.ToFloat64(s.m.skipped))
}

// TestReplayIdentity: the reader's identity ($POD_NAME, else the host name)
// is part of every _id, so two pods' files with the same device and inode
// numbers (on two nodes) never share ids, while one reader's replays do.
func TestReplayIdentity(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, rand.New(rand.NewPCG(5, 5)), time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), 20)
	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	for _, tc := range []struct {
		pod  string
		want int
	}{{"gateway-7f9c-abcde", 20}, {"gateway-7f9c-abcde", 20}, {"gateway-7f9c-fghij", 40}} {
		t.Setenv("POD_NAME", tc.pod)
		s, err := New(cfg, testContract(), nil, nil)
		require.NoError(t, err)
		require.NoError(t, s.Replay(context.Background(), []string{log}, nil))
		require.Equal(t, tc.want, srv.Count("logs-gateway"), tc.pod)
	}
}

// TestReplayExtraFieldsFromSecrets: extra labels taken from sensitive
// places are redacted by where they come from, whatever their own name.
func TestReplayExtraFieldsFromSecrets(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	require.NoError(t, os.WriteFile(log, []byte(
		`{"request":{"method":"GET","uri":"\/v1\/users\/1","querystring":{"token":"qs3cr3t"},"headers":{"host":"shop","authorization":"Bearer hs3cr3t","cookie":"sid=cs3cr3t","x-ab-variant":"B"}},"response":{"status":200},"started_at":1795000000000}`+"\n"), 0o644))
	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	cfg.Sidecar.Logs[0].Extra = map[string]string{
		"who": "request.headers.authorization", "jar": "request.headers.cookie",
		"tok": "request.querystring.token", "variant": "request.headers.x-ab-variant",
	}
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{log}, nil))
	docs := srv.Docs("logs-gateway")
	require.Len(t, docs, 1)
	for _, secret := range []string{"qs3cr3t", "hs3cr3t", "cs3cr3t"} {
		require.NotContains(t, string(docs[0].Source), secret)
	}
	var doc struct {
		Labels map[string]any `json:"labels"`
	}
	require.NoError(t, json.Unmarshal(docs[0].Source, &doc))
	require.Equal(t, map[string]any{"who": "REDACTED", "jar": "REDACTED", "tok": "REDACTED", "variant": "B"}, doc.Labels)
}

// TestReplayMaxLineBytes: replay honours sidecar.max_line_bytes as the
// sidecar does (it used the 1 MiB default whatever the configuration).
func TestReplayMaxLineBytes(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	log := filepath.Join(t.TempDir(), "access.log")
	long := `{"request":{"method":"GET","uri":"/v1/users/1?q=` + strings.Repeat("a", 1500<<10) + `"},"response":{"status":200},"started_at":1795000000000}` + "\n"
	require.NoError(t, os.WriteFile(log, []byte(long), 0o644))
	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	cfg.Sidecar.MaxLineBytes = 2 << 20
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{log}, nil))
	require.Equal(t, 1, srv.Count("logs-gateway"), "stored whole, not cut into a dead letter")
	require.Zero(t, srv.Count("logs-gateway-dlq"))
}

// TestReplayLongQuery: a long query string is in message whole and in
// url.query cut to maxQueryBytes (its keyword mapping indexes 1,024 bytes),
// so a huge line is not copied twice into its document.
func TestReplayLongQuery(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	log := filepath.Join(t.TempDir(), "access.log")
	q := "q=" + strings.Repeat("é", 50<<10) // two bytes a rune: the cut keeps whole runes
	require.NoError(t, os.WriteFile(log, []byte(`{"request":{"method":"GET","uri":"/v1/users/1?`+q+`"},"response":{"status":200},"started_at":1795000000000}`+"\n"), 0o644))
	cfg := testConfig(t, t.TempDir(), srv.URL, "index")
	cfg.Sidecar.MaxLineBytes = 1 << 20
	s, err := New(cfg, testContract(), nil, nil)
	require.NoError(t, err)
	require.NoError(t, s.Replay(context.Background(), []string{log}, nil))
	docs := srv.Docs("logs-gateway")
	require.Len(t, docs, 1)
	var doc struct {
		URL struct {
			Query string `json:"query"`
		} `json:"url"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(docs[0].Source, &doc))
	require.Contains(t, doc.Message, q)
	require.Equal(t, q[:maxQueryBytes], doc.URL.Query)
}
