package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
)

const cmdTestKey = "0123456789abcdef0123456789abcdef"

func TestChangeEventCommand(t *testing.T) {
	s := pdtest.NewServer(map[string]string{cmdTestKey: "platform"})
	defer s.Close()
	s.Inject(pdtest.Fault{Status: 503, Count: 1})
	key := filepath.Join(t.TempDir(), "pd.key")
	require.NoError(t, os.WriteFile(key, []byte(cmdTestKey+"\n"), 0o600))
	code, out, errOut := gw(t, "pagerduty", "change-event", "--url", s.URL, "--routing-key-file", key,
		"--summary", "contract 4087caa deployed to canary", "--source", "ci",
		"--link", "commit=https://git.example.com/shop/commit/4087caa", "--link", "https://ci.example.com/run/1?x=y",
		"--detail", "track=canary", "--contract", "../../examples/krakend.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "accepted")
	require.NotContains(t, out+errOut, cmdTestKey)
	ev := s.Events()
	require.Len(t, ev, 1, "the 503 was retried")
	require.Equal(t, "change", ev[0].Kind)
	require.Equal(t, "platform", ev[0].Team)
	require.Equal(t, []pdtest.Link{{Href: "https://git.example.com/shop/commit/4087caa", Text: "commit"}, {Href: "https://ci.example.com/run/1?x=y"}}, ev[0].Links)
	require.Equal(t, "canary", ev[0].Details["track"])
	require.Equal(t, "shop-gateway", ev[0].Details["gateway"])
	require.Len(t, ev[0].Details["contract_hash"], 64)

	wrong := filepath.Join(t.TempDir(), "wrong.key")
	require.NoError(t, os.WriteFile(wrong, []byte("fedcba9876543210fedcba9876543210"), 0o600))
	code, _, errOut = gw(t, "pagerduty", "change-event", "--url", s.URL, "--routing-key-file", wrong, "--summary", "x")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "PagerDuty answered 400")
	require.NotContains(t, errOut, "fedcba9876543210fedcba9876543210")

	code, _, errOut = gw(t, "pagerduty", "change-event", "--summary", "x")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no routing key")

	code, out, _ = gw(t, "pagerduty", "change-event", "--summary", "x", "--dry-run", "--routing-key-file", key)
	require.Equal(t, 0, code)
	require.Contains(t, out, `"routing_key": "<secret>"`)
	require.NotContains(t, out, cmdTestKey)
}

func TestProbeOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	write := func(paths ...string) string {
		cfg := "gateway: {name: shop}\nprobe:\n  base_url: " + srv.URL + "\n  targets:\n"
		for i, p := range paths {
			cfg += fmt.Sprintf("    - {name: c%d, url: %s}\n", i, p)
		}
		f := filepath.Join(dir, "gatewatch.yaml")
		require.NoError(t, os.WriteFile(f, []byte(cfg), 0o644))
		return f
	}
	code, out, errOut := gw(t, "probe", "-c", write("/up", "/health"), "--once")
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "c1     ok")
	code, out, _ = gw(t, "probe", "-c", write("/up", "/down"), "--once")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "FAIL: status 503, expected 2xx")
	require.Contains(t, out, "1 of 2 checks failed")
	code, out, _ = gw(t, "probe", "-c", write("/up", "/down"), "--once", "-o", "json")
	require.Equal(t, 1, code, out)
	var res []struct {
		Check   string
		Success bool
		Status  int
		Error   string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Len(t, res, 2)
	require.True(t, res[0].Success)
	require.Equal(t, 503, res[1].Status)
	require.Equal(t, "status 503, expected 2xx", res[1].Error)
}

func TestGenerateProbes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("contract: {path: "+filepath.Join("..", "..", "examples", "krakend.json")+"}\nprobe: {base_url: 'https://api.example.com'}\n"), 0o644))
	abs, err := filepath.Abs("../../examples/krakend.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, []byte("contract: {path: "+abs+"}\nprobe: {base_url: 'https://api.example.com'}\n"), 0o644))
	code, out, errOut := gw(t, "generate", "probes", "-c", cfg, "--output-dir", dir, "--blackbox-address", "blackbox:9115")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "blackbox.yml\t(3 checks)")
	b, err := os.ReadFile(filepath.Join(dir, "probe-scrape.yml"))
	require.NoError(t, err)
	require.Contains(t, string(b), "replacement: blackbox:9115")
	require.Contains(t, string(b), "gateway: shop-gateway")
	require.Contains(t, string(b), "https://api.example.com/__health")
}
