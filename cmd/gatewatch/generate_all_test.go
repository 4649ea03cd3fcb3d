package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
)

// bigAll writes a 1,000-endpoint KrakenD contract and the corpus walk's
// gatewatch.yaml into dir, and returns the arguments of `generate all`
// without the output folder.
func bigAll(tb testing.TB, dir string) []string {
	tb.Helper()
	contract := writeBigKrakenD(tb, dir, 1000)
	cfgFile := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(tb, os.WriteFile(cfgFile, fmt.Appendf(nil, corpusConfig, config.AutoscalingAdapter), 0o644))
	return []string{"generate", "all", "-c", cfgFile, "--contract", contract}
}

// generateAllQuiet runs the command line in-process with its output
// discarded, and returns how long it took.
func generateAllQuiet(tb testing.TB, args []string, out string) time.Duration {
	tb.Helper()
	oldOut, oldErr := stdout, stderr
	stdout, stderr = io.Discard, io.Discard
	defer func() { stdout, stderr = oldOut, oldErr }()
	start := time.Now()
	code := run(append(args, "--output-dir", out))
	d := time.Since(start)
	require.Equal(tb, 0, code, "generate all %v", args)
	return d
}

// TestGenerateAllDeterministic runs `generate all` twice on a
// 1,000-endpoint contract into two folders: the same files, byte for byte.
func TestGenerateAllDeterministic(t *testing.T) {
	dir := t.TempDir()
	args := bigAll(t, dir)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	generateAllQuiet(t, args, a)
	generateAllQuiet(t, args, b)
	fa, fb := readTree(t, a), readTree(t, b)
	require.Equal(t, keys(fa), keys(fb))
	require.Greater(t, len(fa), 25, "every generator wrote its files")
	for _, name := range keys(fa) {
		require.Equal(t, string(fa[name]), string(fb[name]), "%s differs between two runs", name)
	}
}

// TestGenerateAllFast: `generate all` (loading, every generator, the
// writes) on a 1,000-endpoint contract in under a second, the best of
// three runs (about 0.3 s on the shared development machine,
// docs/benchmarks.md).
func TestGenerateAllFast(t *testing.T) {
	dir := t.TempDir()
	args := bigAll(t, dir)
	best := time.Hour
	for i := range 3 {
		best = min(best, generateAllQuiet(t, args, filepath.Join(dir, fmt.Sprint("out", i))))
	}
	t.Logf("generate all, 1,000 endpoints: %v (best of 3)", best)
	require.Less(t, best, time.Second)
}

// BenchmarkGenerateAll1000 runs the whole `gatewatch generate all` as a
// user does (command-line parsing, loading, every generator, the writes)
// on a 1,000-endpoint KrakenD contract.
func BenchmarkGenerateAll1000(b *testing.B) {
	dir := b.TempDir()
	args := bigAll(b, dir)
	out := filepath.Join(dir, "out")
	b.ReportAllocs()
	for b.Loop() {
		generateAllQuiet(b, args, out)
	}
}
