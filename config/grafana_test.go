package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGrafanaSection(t *testing.T) {
	c, err := Load("gw.yaml", []byte("grafana:\n  url: https://grafana.example.com\n  token: {env: GRAFANA_TOKEN}\n"))
	require.NoError(t, err)
	require.Equal(t, "https://grafana.example.com", c.Grafana.URL)
	require.Equal(t, DefaultGrafanaFolder, c.Grafana.Folder)
	require.Equal(t, DefaultGrafanaPrometheusURL, c.Grafana.PrometheusURL)
	require.Equal(t, "GRAFANA_TOKEN", c.Grafana.Token.Env)

	for _, tc := range []struct{ name, in, want string }{
		{"unknown key", "grafana:\n  uri: https://g\n", `gw.yaml:2:3: unknown key "uri" in grafana; expected one of: folder, kibana_url, prometheus_url, token, url`},
		{"not a URL", "grafana:\n  url: grafana.example.com\n", `gw.yaml:2:3: grafana.url: "grafana.example.com" is not a base URL; expected an http(s) URL without query, fragment or credentials, such as https://grafana.example.com`},
		{"credentials", "grafana:\n  kibana_url: https://u:p@kibana\n", `grafana.kibana_url: "https://u:xxxxx@kibana" is not a base URL`},
		{"template", "grafana:\n  url: https://g/{{x}}\n", `grafana.url: "https://g/{{x}}" is not a base URL`},
		{"two token sources", "grafana:\n  token: {file: /t, env: T}\n", `gw.yaml:2:3: grafana.token: at most one of file and env may be set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
