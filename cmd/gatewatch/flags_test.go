package main

import (
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
