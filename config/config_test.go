package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"unknown top key", "contract:\n  path: k.json\nslos: {}\n", `gw.yaml:3:1: unknown key "slos" in the top level; expected one of:`},
		{"unknown nested key", "slo:\n  availability: 99.9\n  latncy: {}\n", `gw.yaml:3:3: unknown key "latncy" in slo; expected one of: availability, endpoints, latency, min_requests_per_hour, period`},
		{"unknown key in list", "slo:\n  endpoints:\n    - endpoint: /a\n      availabilty: 99\n", `gw.yaml:4:7: unknown key "availabilty" in slo.endpoints[0]`},
		{"bad type", "slo:\n  availability: high\n", `gw.yaml:2:17: slo.availability: expected a number, got "high"`},
		{"bad percent", "slo:\n  availability: 100\n", "gw.yaml:2:3: slo.availability: 100 is not a percentage"},
		{"bad track", "gateway:\n  track: purple\n", `gw.yaml:2:3: gateway.track: unknown track "purple"`},
		{"bad format", "contract:\n  format: nginx\n", `gw.yaml:2:3: contract.format: unknown format "nginx"`},
		{"bad duration", "slo:\n  period: 30x\n", `gw.yaml:2:11: slo.period: "30x" is not a duration; expected a number with a unit`},
		{"bad line size", "sidecar:\n  max_line_bytes: huge\n", `gw.yaml:2:19: sidecar.max_line_bytes: "huge" is not a size; expected bytes such as 65536, 64KiB or 1MiB`},
		{"zero period", "slo:\n  period: 0s\n", "gw.yaml:2:3: slo.period: period 0s is too short; expected at least 1h"},
		{"tiny period", "slo:\n  period: 1ms\n", "gw.yaml:2:3: slo.period: period 1ms is too short; expected at least 1h"},
		{"list for a mapping", "slo:\n  latency: [1s]\n", "gw.yaml:2:12: slo.latency: expected a mapping with the keys target, threshold, got a list"},
		{"mapping for a string", "gateway:\n  name: {a: b}\n", "gw.yaml:2:9: gateway.name: expected a single value (a string), got a mapping"},
		{"missing endpoint", "slo:\n  endpoints:\n    - availability: 99\n", "gw.yaml:3:7: slo.endpoints[0]: endpoint must be set"},
		{"syntax", "slo: [\n", "gw.yaml: "},
		{"stdin with shipper", "sidecar:\n  logs:\n    - path: \"-\"\nshipper:\n  enabled: true\n", "gw.yaml:3:7: sidecar.logs[0].path: standard input cannot feed both"},
		{"secret inline", "owners:\n  default: a\n  password: x\n", `gw.yaml:3:3: unknown key "password" in owners`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want prefix %q", err.Error(), tc.want)
		})
	}
}

func TestSLOFor(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`
slo:
  availability: 99.5
  latency: {target: 95}
  endpoints:
    - endpoint: /v1/orders*
      method: POST
      availability: 99.95
      latency: {threshold: 300ms}
    - endpoint: /internal/*
      disabled: true
owners:
  default: core
  teams:
    - name: payments
      endpoints: [/v1/orders*]
`))
	require.NoError(t, err)
	orders := &contract.Endpoint{Name: "/v1/orders/{id}", Methods: []string{"POST"}, Timeout: 4 * time.Second}
	s := c.SLOFor(orders)
	require.Equal(t, 99.95, s.Availability)
	require.Equal(t, 0.0005, s.ErrorBudget)
	require.Equal(t, 300*time.Millisecond, s.LatencyThreshold)
	require.Equal(t, 95.0, s.LatencyTarget)
	require.Equal(t, 30*24*time.Hour, s.Period)

	get := &contract.Endpoint{Name: "/v1/orders/{id}", Methods: []string{"GET"}, Timeout: 4 * time.Second}
	s = c.SLOFor(get)
	require.Equal(t, 99.5, s.Availability)
	require.Equal(t, 2*time.Second, s.LatencyThreshold, "half the timeout")
	require.Equal(t, 0.005, s.ErrorBudget)

	require.True(t, c.SLOFor(&contract.Endpoint{Name: "/internal/x"}).Disabled)
	require.Equal(t, "payments", c.OwnerOf(orders))
	require.Equal(t, "core", c.OwnerOf(&contract.Endpoint{Name: "/v2/x"}))
	require.Equal(t, []string{"payments", "core"}, c.TeamNames())
}

func TestDefaultsAndEnv(t *testing.T) {
	t.Setenv("GATEWATCH_TRACK", "canary")
	c, err := Load("gw.yaml", nil)
	require.NoError(t, err)
	require.Equal(t, "canary", c.Gateway.Track)
	require.Equal(t, "auto", c.Contract.Format)
	require.Equal(t, 99.9, c.SLO.Availability)
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	for _, out := range []string{s.String(), s.GoString()} {
		require.NotContains(t, out, "hunter2")
	}
	b, _ := s.MarshalJSON()
	require.NotContains(t, string(b), "hunter2")
	require.Equal(t, "hunter2", s.Reveal())
	t.Setenv("GW_TEST_SECRET", " k3y \n")
	got, err := SecretRef{Env: "GW_TEST_SECRET"}.Read()
	require.NoError(t, err)
	require.Equal(t, "k3y", got.Reveal())
	_, err = SecretRef{Env: "GW_TEST_UNSET_XYZ"}.Read()
	require.ErrorContains(t, err, "GW_TEST_UNSET_XYZ is not set")
}

// TestSizesTakeUnits: max_line_bytes takes the units of every other size.
func TestSizesTakeUnits(t *testing.T) {
	for in, want := range map[string]int{"65536": 65536, "64KiB": 64 << 10, "1MiB": 1 << 20, "2mb": 2 << 20} {
		c, err := Load("gw.yaml", []byte("sidecar:\n  max_line_bytes: "+in+"\n"))
		require.NoError(t, err, in)
		require.Equal(t, want, c.Sidecar.MaxLineBytes, in)
	}
	_, err := Load("gw.yaml", []byte("sidecar:\n  max_line_bytes: 1GiB\n"))
	require.ErrorContains(t, err, "sidecar.max_line_bytes: 1073741824 is out of range")
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte("slo:\n  availability: 99.9\n"))
	f.Add([]byte("owners:\n  teams:\n    - name: a\n      endpoints: ['[']\n"))
	f.Add([]byte("contract: {path: x, format: kong}\ngateway: {track: blue}\n"))
	f.Add([]byte("lint:\n  severity: {GW004: info}\n  exceptions:\n    - {rule: GW004, endpoints: [/v1/*]}\nslo: {period: 0s, latency: [1]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Load("fuzz.yaml", b)
	})
}
