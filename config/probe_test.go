package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProbeDefaults(t *testing.T) {
	c, err := Load("gw.yaml", []byte("probe:\n  targets:\n    - {name: health, url: 'https://api.example.com/__health'}\n"))
	require.NoError(t, err)
	p := c.Probe
	require.Equal(t, 30*time.Second, p.Interval.Std())
	require.Equal(t, 5*time.Second, p.Timeout.Std())
	require.Equal(t, 3, p.TriggerAfter)
	require.Equal(t, 2, p.ResolveAfter)
	require.Equal(t, ":9117", p.Listen)
	require.Equal(t, "https://events.pagerduty.com", p.PagerDuty.URL)
	require.Equal(t, "critical", p.PagerDuty.Severity)
	require.Equal(t, "GET", p.Targets[0].Method)
	require.False(t, p.PagerDuty.RoutingKey().IsSet())
}

func TestProbeLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`
probe:
  interval: 10s
  timeout: 2s
  trigger_after: 2
  resolve_after: 1
  location: eu-west
  outbox_dir: outbox
  base_url: https://api.example.com
  targets:
    - name: user-42
      url: /v1/users/42
      method: get
      headers: {Accept: application/json}
      expect_status: 200
      expect_body: '"id":\s*42'
      timeout: 1s
    - name: created
      url: http://other.example.com/x
      expect_status: [200, 201]
  pagerduty:
    url: https://events.eu.pagerduty.com
    routing_key_file: pd.key
    severity: error
`), 0o644))
	c, err := LoadFile(path)
	require.NoError(t, err)
	p := c.Probe
	require.Equal(t, filepath.Join(dir, "outbox"), p.OutboxDir)
	require.Equal(t, filepath.Join(dir, "pd.key"), p.PagerDuty.RoutingKeyFile)
	require.Equal(t, StatusCodes{200}, p.Targets[0].ExpectStatus)
	require.Equal(t, StatusCodes{200, 201}, p.Targets[1].ExpectStatus)
	require.Equal(t, "GET", p.Targets[0].Method)
	require.Equal(t, time.Second, p.Targets[0].Timeout.Std())
	require.Equal(t, "error", p.PagerDuty.Severity)
}

func TestProbeErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown key", "probe:\n  intervall: 5s\n", `gw.yaml:2:3: unknown key "intervall" in probe; expected one of: base_url, interval, listen, location, outbox_dir, pagerduty, resolve_after, targets, timeout, trigger_after`},
		{"unknown target key", "probe:\n  targets:\n    - name: a\n      url: https://x/\n      expect: 200\n", `gw.yaml:5:7: unknown key "expect" in probe.targets[0]`},
		{"unknown pagerduty key", "probe:\n  pagerduty:\n    routing_key: abc\n", `gw.yaml:3:5: unknown key "routing_key" in probe.pagerduty; expected one of: routing_key_env, routing_key_file, severity, url`},
		{"timeout above interval", "probe:\n  interval: 5s\n  timeout: 10s\n", "gw.yaml:3:3: probe.timeout: 10s is longer than probe.interval 5s"},
		{"no name", "probe:\n  targets:\n    - url: https://x/\n", "gw.yaml:3:7: probe.targets[0]: name is required"},
		{"bad name", "probe:\n  targets:\n    - {name: 'a b', url: 'https://x/'}\n", `gw.yaml:3:8: probe.targets[0].name: "a b" may hold only`},
		{"duplicate name", "probe:\n  targets:\n    - {name: a, url: 'https://x/'}\n    - {name: a, url: 'https://y/'}\n", `gw.yaml:4:8: probe.targets[1].name: "a" is also the name of probe.targets[0]`},
		{"path without base", "probe:\n  targets:\n    - {name: a, url: /v1/x}\n", `gw.yaml:3:17: probe.targets[0].url: "/v1/x" is a path; set probe.base_url`},
		{"ftp url", "probe:\n  targets:\n    - {name: a, url: 'ftp://x/'}\n", `gw.yaml:3:17: probe.targets[0].url: "ftp://x/" is neither`},
		{"credentials in url", "probe:\n  targets:\n    - {name: a, url: 'https://u:p@x/'}\n", "gw.yaml:3:17: probe.targets[0].url: credentials in the URL"},
		{"bad status", "probe:\n  targets:\n    - {name: a, url: 'https://x/', expect_status: 700}\n", "gw.yaml:3:36: probe.targets[0].expect_status: 700 is not an HTTP status code"},
		{"status not a number", "probe:\n  targets:\n    - {name: a, url: 'https://x/', expect_status: ok}\n", "gw.yaml: line 3: expected a status code"},
		{"bad regexp", "probe:\n  targets:\n    - {name: a, url: 'https://x/', expect_body: '('}\n", "gw.yaml:3:36: probe.targets[0].expect_body: not a regular expression"},
		{"key file and env", "probe:\n  outbox_dir: o\n  pagerduty:\n    routing_key_file: f\n    routing_key_env: E\n", "gw.yaml:3:3: probe.pagerduty: at most one of routing_key_file and routing_key_env"},
		{"key without outbox", "probe:\n  pagerduty:\n    routing_key_env: E\n", "gw.yaml:2:3: probe.pagerduty: a routing key is set but probe.outbox_dir is not"},
		{"full api path", "probe:\n  pagerduty:\n    url: https://events.pagerduty.com/v2/enqueue\n", `gw.yaml:3:5: probe.pagerduty.url: "https://events.pagerduty.com/v2/enqueue" ends in the API path`},
		{"bad severity", "probe:\n  pagerduty:\n    severity: page\n", `gw.yaml:3:5: probe.pagerduty.severity: unknown severity "page"`},
		{"bad trigger_after", "probe:\n  trigger_after: -1\n", "gw.yaml:2:3: probe.trigger_after: must be at least 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want prefix %q", err.Error(), tc.want)
		})
	}
}

// FuzzLoadProbe checks that no probe section makes Load panic.
func FuzzLoadProbe(f *testing.F) {
	f.Add("probe:\n  interval: 10s\n  base_url: https://api.example.com\n  targets:\n    - {name: a, url: /x, expect_status: [200], expect_body: ok, headers: {A: b}}\n  pagerduty: {routing_key_env: K, severity: info}\n  outbox_dir: o\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = Load("gw.yaml", []byte(in))
	})
}
