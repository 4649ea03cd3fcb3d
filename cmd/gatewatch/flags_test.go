package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogFlagsNamedApart: the gateway's access-log format and the
// command's own log format are told apart by name, the same in sidecar
// and replay.
func TestLogFlagsNamedApart(t *testing.T) {
	for _, cmd := range []string{"sidecar", "replay"} {
		code, out, _ := gw(t, cmd, "--help")
		require.Equal(t, 0, code)
		require.Contains(t, out, "--access-log.format", cmd)
		require.Contains(t, out, "--log.format", cmd)
		require.NotContains(t, out, "--access-log-format", cmd)
		require.NotContains(t, out, "--log-format", cmd)
	}
	code, _, errOut := gw(t, "replay", "--log.format", "yaml", "flags_test.go")
	require.Equal(t, 2, code, "a bad value is a bad argument")
	require.Contains(t, errOut, "text,json")
}

// TestOwnLogger: --log.format json writes JSON objects, text key=value
// pairs, from the level given up.
func TestOwnLogger(t *testing.T) {
	var b strings.Builder
	ownLogger(&b, "json", slog.LevelWarn).Warn("slow", "file", "a.log")
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(b.String()), &m), b.String())
	require.Equal(t, "a.log", m["file"])
	b.Reset()
	l := ownLogger(&b, "text", slog.LevelWarn)
	l.Info("hidden")
	l.Warn("slow", "file", "a.log")
	require.Equal(t, "level=WARN msg=slow file=a.log", strings.TrimSpace(regexp.MustCompile(`^time=\S+ `).ReplaceAllString(b.String(), "")))
}

// TestShowDurationsAsPeopleWriteThem: 300s is "5m", not "5m0s".
func TestShowDurationsAsPeopleWriteThem(t *testing.T) {
	f := "../../../shared/corpus/envoy/09-Ekant2008-ssl-gateway.yaml"
	if _, err := os.Stat(f); err != nil {
		t.Skipf("corpus not found at %s (it lives in shared/ beside the checkout): %v", f, err)
	}
	code, out, errOut := gw(t, "contract", "show", f)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, " 5m ")
	require.NotContains(t, out, "5m0s")
	require.Contains(t, out, `envoy contract "09-Ekant2008-ssl-gateway"`, "named by the file without its extension")
}
