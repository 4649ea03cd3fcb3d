package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogFlagsNamedApart: the gateway's access-log format and the
// sidecar's own log format are told apart by name in sidecar and replay.
func TestLogFlagsNamedApart(t *testing.T) {
	for _, cmd := range []string{"sidecar", "replay"} {
		code, out, _ := gw(t, cmd, "--help")
		require.Equal(t, 0, code)
		require.Contains(t, out, "--access-log.format", cmd)
		require.NotContains(t, out, "--access-log-format", cmd)
		require.NotContains(t, out, "--log-format", cmd)
	}
	code, out, _ := gw(t, "sidecar", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "--log.format")
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
