package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

func TestSidecarDefaults(t *testing.T) {
	c, err := Load("gw.yaml", []byte("sidecar: {}\n"))
	require.NoError(t, err)
	s := c.Sidecar
	require.Equal(t, []LogConfig{{Path: DefaultSidecarLog, Envelope: "none"}}, s.Logs)
	require.Equal(t, ":9145", s.Listen)
	require.Equal(t, StartCheckpoint, s.Start)
	require.Equal(t, 65536, s.MaxLineBytes)
	require.Equal(t, 250*time.Millisecond, s.PollInterval.Std())
	require.Equal(t, 5*time.Second, s.CheckpointInterval.Std())
	require.Equal(t, 100, s.MaxBackends)
	require.Equal(t, 10*time.Minute, s.ForgetFilesAfter.Std())
	require.Nil(t, s.ScrapeGateway)
}

func TestSidecarFull(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
sidecar:
  logs:
    - path: logs/access.log*
      format: json
      envelope: cri
      mapping: {method: req.m, path: req.p, status: code, duration: took, duration_unit: ms, extra: {tenant: req.tenant}}
    - path: "-"
      format: kong
  listen: 127.0.0.1:9999
  checkpoint_dir: state
  start: end
  max_line_bytes: 1024
  poll_interval: 50ms
  forget_files_after: 2h
  scrape_gateway: {url: "http://localhost:8080/metrics"}
  extra_labels:
    - field: tenant
      values: [acme, globex]
`), 0o644))
	c, err := LoadFile(p)
	require.NoError(t, err)
	s := c.Sidecar
	require.Equal(t, filepath.Join(dir, "logs/access.log*"), s.Logs[0].Path)
	require.Equal(t, "-", s.Logs[1].Path)
	require.Equal(t, filepath.Join(dir, "state"), s.CheckpointDir)
	require.Equal(t, "req.m", s.Logs[0].Mapping.Method)
	require.Equal(t, "cri+json", s.Logs[0].DecoderFormat(contract.KrakenD))
	require.Equal(t, "kong", s.Logs[1].DecoderFormat(contract.Envoy))
	require.Equal(t, 2*time.Second, s.ScrapeGateway.Timeout.Std())
	require.Equal(t, 2*time.Hour, s.ForgetFilesAfter.Std())
	require.Equal(t, []ExtraLabelConfig{{Field: "tenant", Values: []string{"acme", "globex"}}}, s.ExtraLabels)
}

// TestSidecarExtra: logs[].extra of a built-in JSON format feeds
// extra_labels.
func TestSidecarExtra(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`
sidecar:
  logs:
    - path: kong.log
      format: kong
      extra: {variant: request.headers.x-ab-variant}
    - path: envoy.log
      extra: {variant: x_variant, tenant: meta.tenant}
  extra_labels:
    - {field: variant, values: [A, B]}
    - {field: tenant, values: [acme]}
`))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"variant": "request.headers.x-ab-variant"}, c.Sidecar.Logs[0].Extra)
	require.Equal(t, map[string]string{"variant": "x_variant", "tenant": "meta.tenant"}, c.Sidecar.Logs[1].Extra)
}

func TestSidecarDecoderFormatFromContract(t *testing.T) {
	l := LogConfig{Envelope: "none"}
	require.Equal(t, "krakend", l.DecoderFormat(contract.KrakenD))
	require.Equal(t, "kong", l.DecoderFormat(contract.Kong))
	require.Equal(t, "auto", l.DecoderFormat(contract.Envoy))
	l.Envelope = "docker"
	require.Equal(t, "docker+krakend", l.DecoderFormat(contract.KrakenD))
}

func TestSidecarErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown key", "sidecar:\n  listn: :1\n", `gw.yaml:2:3: unknown key "listn" in sidecar; expected one of:`},
		{"unknown log key", "sidecar:\n  logs:\n    - path: a\n      fromat: kong\n", `gw.yaml:4:7: unknown key "fromat" in sidecar.logs[0]`},
		{"unknown mapping key", "sidecar:\n  logs:\n    - path: a\n      format: json\n      mapping: {methd: m}\n", `gw.yaml:5:17: unknown key "methd" in sidecar.logs[0].mapping`},
		{"no path", "sidecar:\n  logs:\n    - format: kong\n", "gw.yaml:3:7: sidecar.logs[0].path: path must be set"},
		{"bad format", "sidecar:\n  logs:\n    - path: a\n      format: nginx\n", `gw.yaml:4:7: sidecar.logs[0].format: unknown format "nginx"`},
		{"json without mapping", "sidecar:\n  logs:\n    - path: a\n      format: json\n", "gw.yaml:4:7: sidecar.logs[0].format: format json needs a mapping"},
		{"bad mapping", "sidecar:\n  logs:\n    - path: a\n      format: json\n      mapping: {method: m}\n", "gw.yaml:5:7: sidecar.logs[0].mapping: mapping: path must be set"},
		{"bad envelope", "sidecar:\n  logs:\n    - path: a\n      envelope: gzip\n", `gw.yaml:4:7: sidecar.logs[0].envelope: unknown envelope "gzip"`},
		{"bad glob", "sidecar:\n  logs:\n    - path: /var/log/[access.log\n", `gw.yaml:3:7: sidecar.logs[0].path: "/var/log/[access.log" is not a valid glob`},
		{"twice", "sidecar:\n  logs:\n    - path: a\n    - path: a\n", `gw.yaml:4:7: sidecar.logs[1].path: "a" is listed twice`},
		{"stdin twice", "sidecar:\n  logs:\n    - path: '-'\n    - path: '-'\n", "gw.yaml:2:3: sidecar.logs: standard input (-) can be read only once"},
		{"bad listen", "sidecar:\n  listen: 9145\n", `gw.yaml:2:3: sidecar.listen: "9145" is not a listen address`},
		{"bad start", "sidecar:\n  start: middle\n", `gw.yaml:2:3: sidecar.start: unknown start "middle"`},
		{"bad max line", "sidecar:\n  max_line_bytes: 10\n", "gw.yaml:2:3: sidecar.max_line_bytes: 10 is out of range"},
		{"bad poll", "sidecar:\n  poll_interval: 1ms\n", "gw.yaml:2:3: sidecar.poll_interval: 1ms is out of range"},
		{"bad poll type", "sidecar:\n  poll_interval: soon\n", `gw.yaml:2:18: sidecar.poll_interval: "soon" is not a duration`},
		{"bad url", "sidecar:\n  scrape_gateway: {url: localhost:8080}\n", `gw.yaml:2:20: sidecar.scrape_gateway.url: "localhost:8080" is not an http(s) URL`},
		{"forget too soon", "sidecar:\n  forget_files_after: 30s\n", "gw.yaml:2:3: sidecar.forget_files_after: 30s is too short; expected at least 1m"},
		{"bad forget type", "sidecar:\n  forget_files_after: [1m]\n", "gw.yaml:2:23: sidecar.forget_files_after: expected a duration"},
		{"bad backends", "sidecar:\n  max_backends: -1\n", "gw.yaml:2:3: sidecar.max_backends: must be at least 1"},
		{"extra label not extracted", "sidecar:\n  extra_labels:\n    - {field: tenant, values: [a]}\n", `gw.yaml:3:8: sidecar.extra_labels[0].field: field "tenant" is not extracted by any log`},
		{"extra label without values", "sidecar:\n  logs:\n    - path: a\n      format: json\n      mapping: {method: m, path: p, status: s, extra: {tenant: t}}\n  extra_labels:\n    - field: tenant\n", "gw.yaml:7:7: sidecar.extra_labels[0].values: 0 values; expected 1 to 100"},
		{"extra for a text format", "sidecar:\n  logs:\n    - path: a\n      format: envoy-text\n      extra: {variant: x}\n", "gw.yaml:5:7: sidecar.logs[0].extra: format envoy-text cannot extract extra fields; extra needs format kong, envoy, krakend-json, auto"},
		{"extra for json", "sidecar:\n  logs:\n    - path: a\n      format: json\n      mapping: {method: m, path: p, status: s}\n      extra: {variant: x}\n", "gw.yaml:6:7: sidecar.logs[0].extra: format json takes its extra fields from mapping.extra"},
		{"extra name not a label", "sidecar:\n  logs:\n    - path: a\n      format: kong\n      extra:\n        ab-variant: request.headers.x-ab-variant\n", `gw.yaml:6:9: sidecar.logs[0].extra.ab-variant: extra field name "ab-variant" must match [a-zA-Z_][a-zA-Z0-9_]*`},
		{"extra path with an empty segment", "sidecar:\n  logs:\n    - path: a\n      format: envoy\n      extra:\n        variant: request..x\n", `gw.yaml:6:9: sidecar.logs[0].extra.variant: extra variant: JSON path "request..x" has an empty segment`},
		{"extra not a map", "sidecar:\n  logs:\n    - path: a\n      format: kong\n      extra: [a]\n", "gw.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want prefix %q", err.Error(), tc.want)
		})
	}
}

// FuzzSidecarSection loads arbitrary sidecar sections: never a panic, and
// every error names the file.
func FuzzSidecarSection(f *testing.F) {
	f.Add("sidecar: {}\n")
	f.Add("sidecar:\n  logs:\n    - {path: a.log*, format: kong, envelope: cri}\n  listen: :9145\n  start: end\n")
	f.Add("sidecar:\n  logs:\n    - path: a\n      format: json\n      mapping: {method: m, path: p, status: s, extra: {tenant: t}}\n  extra_labels: [{field: tenant, values: [x]}]\n")
	f.Add("sidecar:\n  scrape_gateway: {url: 'http://[::1]:8001/metrics', timeout: 1s}\n  poll_interval: 5d\n")
	f.Add("sidecar:\n  forget_files_after: 1h30m\n")
	f.Add("sidecar:\n  logs: [{path: '-'}, {path: '-'}]\n  max_line_bytes: -1\n")
	f.Add("sidecar:\n  logs:\n    - {path: a, format: kong, extra: {variant: request.headers.x-ab-variant, 'b-c': '.'}}\n  extra_labels: [{field: variant, values: [A, B]}]\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Load("gw.yaml", []byte(in))
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "gw.yaml"), "error without the file name: %v", err)
			return
		}
		require.NotEmpty(t, c.Sidecar.Logs)
		require.NotEmpty(t, c.Sidecar.Listen)
	})
}
