package config

import (
	"net/url"
	"strings"
)

// GrafanaConfig is the grafana section of gatewatch.yaml: where the
// generated dashboards live and what they link to.
type GrafanaConfig struct {
	// URL is Grafana's base URL (https://grafana.example.com). When set,
	// alerts without an alerting.dashboard_url link to the endpoint
	// dashboard with their endpoint selected, and `gatewatch dashboards
	// push` uses it when --grafana-url is not given.
	URL string `yaml:"url"`
	// Folder is the title of the Grafana folder the dashboards go into
	// (default Gatewatch).
	Folder string `yaml:"folder"`
	// KibanaURL is Kibana's base URL (https://kibana.example.com); when
	// set, the endpoint dashboard links to the shipper's saved search of
	// the selected endpoint over the dashboard's time range.
	KibanaURL string `yaml:"kibana_url"`
	// PrometheusURL is Prometheus' URL as Grafana reaches it, written into
	// the provisioned datasource (default http://prometheus:9090, the
	// compose stack's).
	PrometheusURL string `yaml:"prometheus_url"`
	// Token names the file or environment variable holding the
	// service-account token `gatewatch dashboards push` sends.
	Token SecretRef `yaml:"token"`
}

// Defaults of the grafana section.
const (
	DefaultGrafanaFolder        = "Gatewatch"
	DefaultGrafanaPrometheusURL = "http://prometheus:9090"
)

func (c *GrafanaConfig) applyDefaults() {
	if c.Folder == "" {
		c.Folder = DefaultGrafanaFolder
	}
	if c.PrometheusURL == "" {
		c.PrometheusURL = DefaultGrafanaPrometheusURL
	}
}

func (c *GrafanaConfig) validate(v *validator) {
	for _, u := range []struct{ key, value, example string }{
		{"url", c.URL, "https://grafana.example.com"},
		{"kibana_url", c.KibanaURL, "https://kibana.example.com"},
		{"prometheus_url", c.PrometheusURL, "http://prometheus:9090"},
	} {
		if u.value == "" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil || strings.Contains(u.value, "{{") {
			shown := u.value
			if err == nil && p.User != nil {
				shown = p.Redacted() // a password in the URL is not repeated
			}
			v.errorf([]any{"grafana", u.key}, "%q is not a base URL; expected an http(s) URL without query, fragment or credentials, such as %s", shown, u.example)
		}
	}
	c.Token.validate(v, []any{"grafana", "token"})
	if strings.ContainsAny(c.Folder, "\n\r") {
		v.errorf([]any{"grafana", "folder"}, "folder title contains a line break")
	}
}
