package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/dashboards"
)

// TestGenerateDashboards: `generate dashboards` writes the four dashboards
// and the provisioning files, and `generate all` the same bytes under
// grafana/.
func TestGenerateDashboards(t *testing.T) {
	one, all := t.TempDir(), t.TempDir()
	code, out, errOut := gw(t, "generate", "dashboards", "--contract", "../../examples/krakend.json", "-o", one)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = gw(t, "generate", "all", "--contract", "../../examples/krakend.json", "-o", all)
	require.Equal(t, 0, code, errOut)
	var jsons int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		path, _, _ := strings.Cut(strings.TrimPrefix(line, "wrote "), "\t")
		rel, err := filepath.Rel(one, path)
		require.NoError(t, err)
		a, err := os.ReadFile(path)
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(all, grafanaDir, rel))
		require.NoError(t, err, "generate all did not write %s", rel)
		require.Equal(t, string(a), string(b), rel)
		if strings.HasSuffix(rel, ".json") {
			require.True(t, json.Valid(a), rel)
			jsons++
		}
	}
	require.Equal(t, 4, jsons)
	require.Contains(t, out, dashboards.DashboardsProvisionFile)
	require.Contains(t, out, dashboards.DatasourceProvisionFile)
}

// TestDashboardsPush pushes to a small stand-in for Grafana (the strict
// one is in the dashboards package): the token comes from a file or the
// environment, goes only into the Authorization header, and is printed
// nowhere.
func TestDashboardsPush(t *testing.T) {
	const token = "glsa_cmd_test_token_42"
	var (
		mu     sync.Mutex
		writes int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"invalid API key"}`))
			return
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/folders":
			_, _ = w.Write([]byte(`[]`))
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"not found"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/api/folders":
			writes++
			_, _ = w.Write([]byte(`{"uid":"x","title":"Gatewatch"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db":
			writes++
			_, _ = w.Write([]byte(`{"status":"success","version":1,"url":"/d/x/y"}`))
		}
	}))
	t.Cleanup(srv.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	base := []string{"dashboards", "push", "--contract", "../../examples/krakend.json", "--grafana-url", srv.URL}

	code, out, errOut := gw(t, append(base, "--token-file", tokenFile, "--dry-run")...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "create overview")
	require.Contains(t, out, "(dry run)")
	require.Zero(t, writes)

	t.Setenv("GW_TEST_TOKEN", token)
	code, out, errOut = gw(t, append(base, "--token-env", "GW_TEST_TOKEN", "-o", "json")...)
	require.Equal(t, 0, code, errOut)
	var rs []dashboards.PushResult
	require.NoError(t, json.Unmarshal([]byte(out), &rs))
	require.Len(t, rs, 4)
	require.Equal(t, 5, writes)
	require.NotContains(t, out+errOut, token)

	t.Setenv("GW_TEST_TOKEN", "glsa_wrong")
	code, out, errOut = gw(t, append(base, "--token-env", "GW_TEST_TOKEN")...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "Grafana answered 401")
	require.NotContains(t, out+errOut, "glsa_wrong")
}

func TestDashboardsPushErrors(t *testing.T) {
	base := []string{"dashboards", "push", "--contract", "../../examples/krakend.json"}
	code, _, errOut := gw(t, base...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no Grafana: pass --grafana-url URL, or set grafana.url in gatewatch.yaml")

	t.Setenv(defaultTokenEnv, "")
	os.Unsetenv(defaultTokenEnv)
	code, _, errOut = gw(t, append(base, "--grafana-url", "http://127.0.0.1:1")...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "reading the Grafana token (the default "+defaultTokenEnv+"): environment variable "+defaultTokenEnv+" is not set")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	t.Setenv(defaultTokenEnv, "glsa_secret_value")
	code, out, errOut := gw(t, append(base, "--grafana-url", "http://"+addr, "--dry-run")...)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "cannot reach Grafana at http://"+addr)
	require.NotContains(t, out+errOut, "glsa_secret_value")
}
