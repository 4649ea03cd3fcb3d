package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// lintConfig writes a gatewatch.yaml for the example contract with extra
// YAML appended.
func lintConfig(t *testing.T, extra string) string {
	t.Helper()
	abs, err := filepath.Abs("../../examples/krakend.json")
	require.NoError(t, err)
	f := filepath.Join(t.TempDir(), "gatewatch.yaml")
	require.NoError(t, os.WriteFile(f, []byte("contract:\n  path: "+abs+"\n"+extra), 0o644))
	return f
}

func TestLintSummaryAndOptions(t *testing.T) {
	code, out, errOut := gw(t, "contract", "lint", "../../examples/krakend.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "7 findings: 0 errors, 4 warnings, 3 info\n      3  warning  GW004 public-without-auth\n")

	code, out, _ = gw(t, "contract", "lint", "--except", "GW004=/v1/catalog/*", "--severity", "GW001=error", "../../examples/krakend.json")
	require.Equal(t, 1, code, "GW001 raised to error")
	require.Contains(t, out, "1  warning  GW004 public-without-auth")
	require.Contains(t, out, "error GW001/missing-version-prefix")

	for _, args := range [][]string{
		{"--disable", "GW999"}, {"--severity", "GW004"}, {"--severity", "GW004=loud"}, {"--except", "GW004"}, {"--except", "nope=/x"}, {"--disable", "nope"},
	} {
		code, _, errOut := gw(t, append(append([]string{"contract", "lint"}, args...), "../../examples/krakend.json")...)
		require.Equal(t, 2, code, "%v", args)
		bad, _, _ := strings.Cut(args[1], "=")
		if args[0] == "--disable" || strings.Contains(args[1], "=") && args[0] == "--except" && !strings.HasPrefix(args[1], "GW") {
			require.Contains(t, errOut, `"`+bad+`"`, "the error names the bad rule")
		} else {
			require.Contains(t, errOut, args[1], "the error names the bad value")
		}
	}
}

func TestLintConfigSection(t *testing.T) {
	cfg := lintConfig(t, `lint:
  disable: [GW009]
  exceptions:
    - rule: GW004
      endpoints: [/v1/catalog/*]
      reason: the catalogue is public
`)
	code, out, errOut := gw(t, "contract", "lint", "-c", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "3 findings: 0 errors, 2 warnings, 1 info\n")
	require.NotContains(t, out, "GW009")
	require.NotContains(t, out, "/v1/catalog")

	// The flags add to the section.
	code, out, _ = gw(t, "contract", "lint", "-c", cfg, "--disable", "GW001")
	require.Equal(t, 0, code)
	require.Contains(t, out, "2 findings")

	bad := lintConfig(t, "lint:\n  disable: [GW999]\n")
	code, _, errOut = gw(t, "contract", "lint", "-c", bad)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, bad+`:4:13: lint.disable[0]: unknown lint rule "GW999"`)
}

// TestLintStrictPatterns: an owner pattern that matches no endpoint is a
// warning naming its line and the nearest endpoints; --strict makes it an
// error (exit 1).
func TestLintStrictPatterns(t *testing.T) {
	cfg := lintConfig(t, `owners:
  teams:
    - name: payments
      endpoints: [/v1/paymnts/*]
`)
	code, out, errOut := gw(t, "contract", "lint", "-c", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, cfg+`:6:19: warning GW012/pattern-matches-nothing: owners.teams[0].endpoints[0]: pattern "/v1/paymnts/*" matches no endpoint of the contract; nearest endpoints: "/v1/payments/{id}/capture"`)

	code, out, _ = gw(t, "contract", "lint", "-c", cfg, "--strict")
	require.Equal(t, 1, code)
	require.True(t, strings.Contains(out, "error GW012/pattern-matches-nothing"), out)
}

// TestGenerateStrictPatterns: generate warns about an owner pattern that
// matches nothing and writes its files; with --strict it writes nothing
// and exits 1.
func TestGenerateStrictPatterns(t *testing.T) {
	cfg := lintConfig(t, "owners:\n  teams:\n    - name: payments\n      endpoints: [/v1/paymnts/*]\n")
	dir := t.TempDir()
	code, _, errOut := gw(t, "generate", "rules", "-c", cfg, "--output-dir", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, `gatewatch: warning: `+cfg+`:6:19: owners.teams[0].endpoints[0]: pattern "/v1/paymnts/*" matches no endpoint`)
	require.FileExists(t, filepath.Join(dir, "rules.yml"))

	dir = filepath.Join(t.TempDir(), "out")
	code, _, errOut = gw(t, "generate", "all", "-c", cfg, "--output-dir", dir, "--strict")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "nothing written")
	require.NoDirExists(t, dir)

	ok := lintConfig(t, "owners:\n  teams:\n    - name: payments\n      endpoints: [/v1/payments/*]\n")
	code, _, errOut = gw(t, "generate", "rules", "-c", ok, "--output-dir", t.TempDir(), "--strict")
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
}

// TestGenerateSaysDefaultTimeout: a Kong service without read_timeout gets
// Kong's 60s, and the latency threshold half of it; generate says so, and
// stays quiet once the threshold is chosen.
func TestGenerateSaysDefaultTimeout(t *testing.T) {
	dir := t.TempDir()
	kong := filepath.Join(dir, "kong.yaml")
	require.NoError(t, os.WriteFile(kong, []byte("_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://a.svc:80\n    routes: [{name: users, paths: [/v1/users]}]\n  - name: b\n    url: http://b.svc:80\n    read_timeout: 2000\n    routes: [{name: orders, paths: [/v1/orders]}]\n"), 0o644))
	code, _, errOut := gw(t, "generate", "rules", "--contract", kong, "--output-dir", t.TempDir())
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "gatewatch: note: "+kong+": latency threshold 30s for 1 endpoint series (users): half the gateway's default timeout of 1m")

	cfg := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("contract: {path: kong.yaml}\nslo:\n  latency: {threshold: 500ms}\n"), 0o644))
	code, _, errOut = gw(t, "generate", "rules", "-c", cfg, "--output-dir", t.TempDir())
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, errOut, "note:")
}
