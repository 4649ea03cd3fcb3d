package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExitStatusDocumented: the help of every command says what its exit
// status means.
func TestExitStatusDocumented(t *testing.T) {
	for _, c := range allCommands(newApp().Model().Commands) {
		if len(c.Commands) > 0 {
			continue
		}
		args := append(strings.Fields(c.FullCommand), "--help")
		code, out, _ := gw(t, args...)
		require.Equal(t, 0, code)
		require.Contains(t, out, "Exit status: 0", c.FullCommand)
	}
}

// TestExitStatusUnreadableInput: a file that does not exist is a failure
// (2), not a finding (1), for every command that reads one.
func TestExitStatusUnreadableInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	for _, args := range [][]string{
		{"contract", "show", missing},
		{"contract", "lint", missing},
		{"contract", "diff", missing, "../../examples/krakend.json"},
		{"contract", "diff", "../../examples/krakend.json", missing},
		{"generate", "rules", "--output-dir", t.TempDir(), "--contract", missing},
		{"generate", "all", "--output-dir", t.TempDir(), "-c", missing},
	} {
		code, _, errOut := gw(t, args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
		require.Contains(t, errOut, "missing.json", args)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := gw(t, args...)
		require.Equal(t, 0, code)
		for _, want := range []string{"gatewatch, version dev (branch: ", "revision: ", "build user:", "build date:", "go version:       go1."} {
			require.Contains(t, out, want, args)
		}
	}
}

// TestBadDurationNamesItsFlag: the error says which flag and what form.
func TestBadDurationNamesItsFlag(t *testing.T) {
	code, _, errOut := gw(t, "contract", "lint", "--max-timeout", "abc", "../../examples/krakend.json")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `--max-timeout: "abc" is not a duration: expected a number and a unit, such as 1.5s`)
}

// TestOutputDir: generate writes into --output-dir; the old -o DIR still
// works, with a warning.
func TestOutputDir(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := gw(t, "generate", "alertmanager", "--output-dir", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, filepath.Join(dir, "alertmanager.yml"))
	require.Empty(t, errOut)

	old := t.TempDir()
	code, out, errOut = gw(t, "generate", "alertmanager", "-o", old)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, filepath.Join(old, "alertmanager.yml"))
	require.Contains(t, errOut, "deprecated")
	require.Contains(t, errOut, "--output-dir "+old)
}
