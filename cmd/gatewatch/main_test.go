package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gw runs the command line in-process and returns its exit status and
// output.
func gw(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &out, &errOut
	defer func() { stdout, stderr = oldOut, oldErr }()
	code := run(args)
	return code, out.String(), errOut.String()
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := gw(t, "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "gatewatch, version dev")

	code, out, _ = gw(t, "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "contract")

	code, out, _ = gw(t, "contract", "lint", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "--max-timeout")

	code, _, errOut := gw(t, "no-such-command")
	require.Equal(t, 2, code, "bad arguments exit 2")
	require.Contains(t, errOut, "gatewatch: error:")
}

func TestContractShow(t *testing.T) {
	code, out, errOut := gw(t, "contract", "show", "../../examples/krakend.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `krakend contract "shop-gateway"`)
	require.Contains(t, out, "/v1/orders/{id}")
	require.Contains(t, out, "DELETE")

	code, out, errOut = gw(t, "contract", "show", "-o", "json", "../../examples/krakend.json")
	require.Equal(t, 0, code, errOut)
	var c struct {
		Gateway   string
		Endpoints []struct{ Name string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	require.Equal(t, "krakend", c.Gateway)
	require.Len(t, c.Endpoints, 10)
}

func TestContractErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "krakend.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\n  \"version\": 3,\n  \"endpoints\": [\n    {\"endpoint\": \"/a\",}\n  ]\n}\n"), 0o644))
	code, _, errOut := gw(t, "contract", "show", bad)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, bad+":4:")

	code, _, errOut = gw(t, "contract", "show", filepath.Join(dir, "missing.json"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "missing.json")
}

func TestLintExitStatus(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.json")
	require.NoError(t, os.WriteFile(clean, []byte(`{"version": 3, "timeout": "2s", "endpoints": [
  {"endpoint": "/v1/things/{id}", "backend": [{"host": ["http://things.svc"], "url_pattern": "/things/{id}"}],
   "extra_config": {"auth/validator": {"alg": "RS256", "jwk_url": "https://auth.example/jwks"}, "qos/ratelimit/router": {"max_rate": 10}}}
]}`), 0o644))
	code, out, errOut := gw(t, "contract", "lint", clean)
	require.Equal(t, 0, code, out+errOut)

	dup := filepath.Join(dir, "dup.json")
	require.NoError(t, os.WriteFile(dup, []byte(`{"version": 3, "endpoints": [
  {"endpoint": "/v1/a", "backend": [{"host": ["http://a.svc"], "url_pattern": "/a"}]},
  {"endpoint": "/v1/a", "backend": [{"host": ["http://a.svc"], "url_pattern": "/a"}]}
]}`), 0o644))
	code, out, _ = gw(t, "contract", "lint", "-o", "json", dup)
	require.Equal(t, 1, code, "a duplicate route is an error finding")
	require.True(t, json.Valid([]byte(out)), out)
	require.Contains(t, strings.ToLower(out), "duplicate")
}

func TestDiffExitStatus(t *testing.T) {
	code, out, errOut := gw(t, "contract", "diff", "../../examples/krakend.json", "../../examples/krakend.json")
	require.Equal(t, 0, code, out+errOut)

	code, out, _ = gw(t, "contract", "diff", "../../examples/krakend.json", "../../examples/krakend-next.json")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "/v1/orders/{id}")
}
