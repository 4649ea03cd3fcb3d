package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract/krakend"
)

const corpusDir = "../../../shared/corpus"

func runTool(t testing.TB, dir, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(bin), strings.Join(args, " "), out)
}

func TestGenerateErrors(t *testing.T) {
	code, _, errOut := gw(t, "generate", "rules", "--output-dir", t.TempDir())
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no contract: pass --contract FILE")

	bad := filepath.Join(t.TempDir(), "gatewatch.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("alerting:\n  pagerduty:\n    page: {routing_key_file: keys/page}\n"), 0o644))
	code, _, errOut = gw(t, "generate", "alertmanager", "-c", bad, "--output-dir", t.TempDir())
	require.Equal(t, 2, code)
	require.Contains(t, errOut, bad+":3:12: alerting.pagerduty.page.routing_key_file: \"keys/page\" is not an absolute path")
}

func TestGenerateAlertmanagerWithoutContract(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := gw(t, "generate", "alertmanager", "--output-dir", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, filepath.Join(dir, alertmanagerFile))
	b, err := os.ReadFile(filepath.Join(dir, alertmanagerFile))
	require.NoError(t, err)
	require.Contains(t, string(b), "routing_key_file: /etc/alertmanager/secrets/pagerduty-page")
}

// TestGenerateAllElasticsearch checks that `generate all` writes, under
// elasticsearch/, the same files as `generate elasticsearch` with the same
// gatewatch.yaml, that each is valid JSON (NDJSON for the saved objects),
// and that two runs write the same bytes. Without gateway.name the saved
// objects are titled after the contract's name, as the shipper stamps
// documents.
func TestGenerateAllElasticsearch(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "gatewatch.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("gateway:\n  name: edge\nshipper:\n  enabled: true\n  mode: data_stream\n  data_stream: logs-edge-prod\n  retention: 14d\n"), 0o644))
	all, all2, es := t.TempDir(), t.TempDir(), t.TempDir()
	for _, args := range [][]string{
		{"generate", "all", "-c", cfgFile, "--contract", "../../examples/krakend.json", "--output-dir", all},
		{"generate", "all", "-c", cfgFile, "--contract", "../../examples/krakend.json", "--output-dir", all2},
		{"generate", "elasticsearch", "-c", cfgFile, "--output-dir", es},
	} {
		code, out, errOut := gw(t, args...)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "(PUT /_index_template/")
	}
	names, err := os.ReadDir(es)
	require.NoError(t, err)
	require.Len(t, names, 5)
	for _, e := range names {
		want, err := os.ReadFile(filepath.Join(es, e.Name()))
		require.NoError(t, err)
		for _, dir := range []string{all, all2} {
			got, err := os.ReadFile(filepath.Join(dir, elasticsearchDir, e.Name()))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), e.Name())
		}
		if strings.HasSuffix(e.Name(), ".ndjson") {
			for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				require.True(t, json.Valid([]byte(l)), "%s: %s", e.Name(), l)
			}
			continue
		}
		require.True(t, json.Valid(want), e.Name())
	}
	b, err := os.ReadFile(filepath.Join(all, elasticsearchDir, "index-template.json"))
	require.NoError(t, err)
	require.Contains(t, string(b), "logs-edge-prod")

	// No gatewatch.yaml: default settings, the contract's name in titles.
	dir := t.TempDir()
	code, _, errOut := gw(t, "generate", "all", "--contract", "../../examples/krakend.json", "--output-dir", dir)
	require.Equal(t, 0, code, errOut)
	so, err := os.ReadFile(filepath.Join(dir, elasticsearchDir, "kibana-saved-objects.ndjson"))
	require.NoError(t, err)
	ct, err := loadContract("../../examples/krakend.json", "", krakend.Options{})
	require.NoError(t, err)
	require.NotEmpty(t, ct.Name)
	require.Contains(t, string(so), ct.Name+" access logs")
}

// BenchmarkGenerateAll runs `gatewatch generate all` on generated KrakenD
// contracts of 1,000 and 10,000 endpoints: loading, rules, unit tests,
// PrometheusRule, scrape job, alertmanager.yml, the Elasticsearch
// templates and the writes. The command must stay linear in the
// endpoints: 10,000 within 12x of 1,000 (docs/benchmarks.md).
func BenchmarkGenerateAll(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchmarkGenerateAll(b, n) })
	}
}

func benchmarkGenerateAll(b *testing.B, n int) {
	dir := b.TempDir()
	path := writeBigKrakenD(b, dir, n)
	in := &inputs{contractFile: path}
	old := stdout
	stdout = io.Discard
	defer func() { stdout = old }()
	b.ReportAllocs()
	for b.Loop() {
		if err := generate(in, filepath.Join(dir, "out"), []string{"rules", "alertmanager", "elasticsearch"}); err != nil {
			b.Fatal(err)
		}
	}
}

// writeBigKrakenD writes a KrakenD contract of n endpoints (4 methods, 3
// timeouts, 20 backends) into dir and returns its path.
func writeBigKrakenD(tb testing.TB, dir string, n int) string {
	tb.Helper()
	type backend struct {
		Host       []string `json:"host"`
		URLPattern string   `json:"url_pattern"`
	}
	type endpoint struct {
		Endpoint string    `json:"endpoint"`
		Method   string    `json:"method"`
		Timeout  string    `json:"timeout"`
		Backend  []backend `json:"backend"`
	}
	var eps []endpoint
	for i := range n {
		eps = append(eps, endpoint{
			Endpoint: fmt.Sprintf("/v1/res%d/{id}", i),
			Method:   []string{"GET", "POST", "PUT", "DELETE"}[i%4],
			Timeout:  fmt.Sprintf("%ds", 1+i%3),
			Backend:  []backend{{Host: []string{fmt.Sprintf("http://svc%d:8080", i%20)}, URLPattern: "/r/{id}"}},
		})
	}
	b, err := json.Marshal(map[string]any{"version": 3, "name": "big", "timeout": "3s", "endpoints": eps})
	require.NoError(tb, err)
	path := filepath.Join(dir, "krakend.json")
	require.NoError(tb, os.WriteFile(path, b, 0o644))
	return path
}
