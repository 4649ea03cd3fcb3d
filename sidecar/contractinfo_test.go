package sidecar

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/schema"
)

// TestContractInfoVersion: gatewatch_contract_info carries the version
// from gatewatch.yaml's gateway.version, and GATEWATCH_VERSION (the pod's
// version label, through the downward API) overrides it.
func TestContractInfoVersion(t *testing.T) {
	for _, tc := range []struct{ env, want string }{{"", "2.4.1"}, {"2.5.0-rc1", "2.5.0-rc1"}} {
		t.Run(tc.want, func(t *testing.T) {
			t.Setenv("GATEWATCH_VERSION", tc.env)
			cfg, err := config.Load("gatewatch.yaml", []byte("gateway:\n  version: 2.4.1\n"))
			require.NoError(t, err)
			dir := t.TempDir()
			log := filepath.Join(dir, "access.log")
			writeLines(t, log, "kong", rand.New(rand.NewPCG(43, 44)), 1)
			tc2 := testConfig(t, filepath.Join(dir, "state"), log)
			tc2.Gateway = cfg.Gateway
			reg := prometheus.NewRegistry()
			_, err = New(tc2, testContract(), nil, reg, Options{Once: true})
			require.NoError(t, err)
			require.Equal(t, 1.0, value(t, reg, schema.ContractInfo.Name, schema.LabelVersion, tc.want))
		})
	}
}
