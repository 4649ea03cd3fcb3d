package sidecar

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/schema"
)

// families reads the logs of cfg once and returns the metric families the
// sidecar serves then.
func families(t *testing.T, cfg *config.Config) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]bool{}
	for _, mf := range mfs {
		out[mf.GetName()] = len(mf.GetMetric()) > 0
	}
	return out
}

// TestByteFamiliesOnlyWhereLogged: a sidecar reading KrakenD CE's gin
// line, which has no byte counts, serves no request and response size
// families (they would read as zero traffic forever); one reading Kong's
// log, or KrakenD's and Kong's side by side, serves both.
func TestByteFamiliesOnlyWhereLogged(t *testing.T) {
	for _, tc := range []struct {
		name    string
		formats []string
		bytes   bool
	}{
		{"krakend", []string{"krakend"}, false},
		{"kong", []string{"kong"}, true},
		{"krakend and kong", []string{"krakend", "kong"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, f := range tc.formats {
				p := filepath.Join(dir, f+".log")
				writeLines(t, p, f, rand.New(rand.NewPCG(41, uint64(i))), 4)
				paths = append(paths, p)
			}
			cfg := testConfig(t, filepath.Join(dir, "state"), paths...)
			for i, f := range tc.formats {
				cfg.Sidecar.Logs[i].Format = f
			}
			got := families(t, cfg)
			require.True(t, got[schema.RequestsTotal.Name], "the requests are counted")
			require.Equal(t, tc.bytes, got[schema.RequestBytes.Name], schema.RequestBytes.Name)
			require.Equal(t, tc.bytes, got[schema.ResponseBytes.Name], schema.ResponseBytes.Name)
		})
	}
}

// TestByteCountsOfLogs: what the sidecar asks the exporter to leave out,
// from the logs' formats, the contract's format where a log names none,
// and a json mapping's fields.
func TestByteCountsOfLogs(t *testing.T) {
	kong := testContract()
	krakend := testContract()
	krakend.Gateway = "krakend"
	for _, tc := range []struct {
		name    string
		logs    []config.LogConfig
		in, out bool
	}{
		{"the contract's krakend", []config.LogConfig{{Path: "a"}}, false, false},
		{"krakend in CRI files", []config.LogConfig{{Path: "a", Format: "krakend", Envelope: "cri"}}, false, false},
		{"krakend-json", []config.LogConfig{{Path: "a", Format: "krakend-json"}}, false, false},
		{"json with bytes_out only", []config.LogConfig{{Path: "a", Format: "json", Mapping: &accesslog.Mapping{BytesOut: "size"}}}, false, true},
		{"auto", []config.LogConfig{{Path: "a", Format: "auto"}}, true, true},
		{"no logs", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &config.SidecarConfig{Logs: tc.logs}
			in, out := byteCounts(sc, krakend)
			require.Equal(t, [2]bool{tc.in, tc.out}, [2]bool{in, out})
		})
	}
	in, out := byteCounts(&config.SidecarConfig{Logs: []config.LogConfig{{Path: "a"}}}, kong)
	require.True(t, in && out, "the contract's kong")
}
