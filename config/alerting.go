package config

import (
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"
)

// AlertingConfig is the alerting section of gatewatch.yaml: links put into
// every alert, the PagerDuty services alerts are routed to and the timing
// of Alertmanager's notifications.
type AlertingConfig struct {
	// RunbookURL is a Go template for the runbook_url annotation of every
	// alert, with the fields of LinkData ("https://runbooks.example.com/
	// gatewatch/{{ .Alert }}"). The default points at docs/alerts.md.
	RunbookURL string `yaml:"runbook_url"`
	// DashboardURL is a Go template for the dashboard annotation, with the
	// fields of LinkData ("https://grafana.example.com/d/{{ .UID }}");
	// empty means alerts carry no dashboard link.
	DashboardURL string `yaml:"dashboard_url"`
	// PagerDuty names the routing key files of the PagerDuty services.
	PagerDuty PagerDutyConfig `yaml:"pagerduty"`
	// GroupWait, GroupInterval and RepeatInterval are the Alertmanager
	// route timings (30s, 5m, 4h).
	GroupWait      Duration `yaml:"group_wait"`
	GroupInterval  Duration `yaml:"group_interval"`
	RepeatInterval Duration `yaml:"repeat_interval"`
	// Job is the Prometheus scrape job of the sidecars ("gatewatch"); the
	// sidecar-down alerts select up{job="<Job>"}.
	Job string `yaml:"job"`
	// ShippingLag is the Elasticsearch shipping lag above which, when it
	// keeps growing, a ticket is raised (10m).
	ShippingLag Duration `yaml:"shipping_lag"`
}

// PagerDutyConfig says where Alertmanager finds the PagerDuty Events API v2
// routing keys. Only file paths are written into alertmanager.yml, never a
// key; the paths are as the Alertmanager process sees them.
type PagerDutyConfig struct {
	// Page is the high-urgency service that pages the on-call engineer.
	Page PagerDutyService `yaml:"page"`
	// Ticket is the low-urgency service for problems that can wait until
	// working hours.
	Ticket PagerDutyService `yaml:"ticket"`
	// Teams give teams of owners their own services; a team without an
	// entry uses Page and Ticket.
	Teams map[string]TeamPagerDuty `yaml:"teams"`
	// URL overrides the Events API v2 URL (full path, for tests).
	URL string `yaml:"url"`
}

// PagerDutyService is one PagerDuty service.
type PagerDutyService struct {
	// RoutingKeyFile is the path of a file holding the integration's
	// routing key.
	RoutingKeyFile string `yaml:"routing_key_file"`
}

// TeamPagerDuty are the services of one team.
type TeamPagerDuty struct {
	PageRoutingKeyFile   string `yaml:"page_routing_key_file"`
	TicketRoutingKeyFile string `yaml:"ticket_routing_key_file"`
}

// LinkData is what the runbook_url and dashboard_url templates see.
type LinkData struct {
	// Alert is the alert's name, e.g. GatewatchAvailabilityBudgetBurn.
	Alert string
	// Gateway is the gateway's name.
	Gateway string
	// UID is the uid of the gateway's Grafana dashboard.
	UID string
}

// Defaults of the alerting section.
const (
	DefaultRunbookURL         = "https://github.com/gatewatch/gatewatch/blob/main/docs/alerts.md#{{ .Alert | lower }}"
	DefaultPageRoutingKeyFile = "/etc/alertmanager/secrets/pagerduty-page"
	DefaultTicketRoutingKey   = "/etc/alertmanager/secrets/pagerduty-ticket"
	DefaultJob                = "gatewatch"
)

func (c *AlertingConfig) applyDefaults() {
	if c.RunbookURL == "" {
		c.RunbookURL = DefaultRunbookURL
	}
	if c.PagerDuty.Page.RoutingKeyFile == "" {
		c.PagerDuty.Page.RoutingKeyFile = DefaultPageRoutingKeyFile
	}
	if c.PagerDuty.Ticket.RoutingKeyFile == "" {
		c.PagerDuty.Ticket.RoutingKeyFile = DefaultTicketRoutingKey
	}
	if c.GroupWait == 0 {
		c.GroupWait = Duration(30 * time.Second)
	}
	if c.GroupInterval == 0 {
		c.GroupInterval = Duration(5 * time.Minute)
	}
	if c.RepeatInterval == 0 {
		c.RepeatInterval = Duration(4 * time.Hour)
	}
	if c.Job == "" {
		c.Job = DefaultJob
	}
	if c.ShippingLag == 0 {
		c.ShippingLag = Duration(10 * time.Minute)
	}
}

// linkFuncs are the functions the link templates may use.
var linkFuncs = template.FuncMap{
	"lower":    strings.ToLower,
	"urlquery": url.QueryEscape,
}

func (c *AlertingConfig) validate(v *validator) {
	for _, l := range []struct {
		key, tmpl string
	}{{"runbook_url", c.RunbookURL}, {"dashboard_url", c.DashboardURL}} {
		if l.tmpl == "" {
			continue
		}
		if _, err := renderLink(l.key, l.tmpl, LinkData{Alert: "GatewatchSidecarDown", Gateway: "gw", UID: "gw-0"}); err != nil {
			v.errorf([]any{"alerting", l.key}, "%v; expected a Go template using .Alert, .Gateway or .UID that gives an http(s) URL", err)
		}
	}
	pd := []any{"alerting", "pagerduty"}
	checkKeyFile(v, append(pd, "page", "routing_key_file"), c.PagerDuty.Page.RoutingKeyFile)
	checkKeyFile(v, append(pd, "ticket", "routing_key_file"), c.PagerDuty.Ticket.RoutingKeyFile)
	for _, team := range sortedKeys(c.PagerDuty.Teams) {
		t := c.PagerDuty.Teams[team]
		checkKeyFile(v, append(pd, "teams", team, "page_routing_key_file"), t.PageRoutingKeyFile)
		checkKeyFile(v, append(pd, "teams", team, "ticket_routing_key_file"), t.TicketRoutingKeyFile)
		if t.PageRoutingKeyFile == "" && t.TicketRoutingKeyFile == "" {
			v.errorf(append(pd, "teams", team), "team %q names no routing key file; set page_routing_key_file, ticket_routing_key_file or both", team)
		}
	}
	if c.PagerDuty.URL != "" {
		if u, err := url.Parse(c.PagerDuty.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(append(pd, "url"), "%q is not an http(s) URL; expected the full Events API v2 URL such as https://events.pagerduty.com/v2/enqueue", c.PagerDuty.URL)
		}
	}
	for _, d := range []struct {
		key string
		d   Duration
	}{{"group_wait", c.GroupWait}, {"group_interval", c.GroupInterval}, {"repeat_interval", c.RepeatInterval}, {"shipping_lag", c.ShippingLag}} {
		if d.d < 0 {
			v.errorf([]any{"alerting", d.key}, "must not be negative")
		}
	}
	if !validLabelValue(c.Job) {
		v.errorf([]any{"alerting", "job"}, "%q is not usable as a job label value", c.Job)
	}
}

func checkKeyFile(v *validator, at []any, path string) {
	if path == "" {
		return
	}
	if !filepath.IsAbs(path) {
		v.errorf(at, "%q is not an absolute path; expected the routing key file's path as the Alertmanager process sees it", path)
	}
	if strings.ContainsAny(path, "\n\r") {
		v.errorf(at, "path contains a line break")
	}
}

func validLabelValue(s string) bool {
	return s != "" && !strings.ContainsAny(s, "\"\\\n")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// RunbookFor renders the runbook link of an alert.
func (c *AlertingConfig) RunbookFor(d LinkData) (string, error) {
	return renderLink("runbook_url", c.RunbookURL, d)
}

// DashboardFor renders the dashboard link of an alert; "" when no
// dashboard_url is configured.
func (c *AlertingConfig) DashboardFor(d LinkData) (string, error) {
	if c.DashboardURL == "" {
		return "", nil
	}
	return renderLink("dashboard_url", c.DashboardURL, d)
}

func renderLink(name, tmpl string, d LinkData) (string, error) {
	t, err := template.New(name).Funcs(linkFuncs).Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("parsing template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("executing template: %w", err)
	}
	s := b.String()
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("template gives %q, which is not an http(s) URL", s)
	}
	if strings.Contains(s, "{{") {
		return "", fmt.Errorf("template gives %q, which contains {{ and would be read as a Prometheus template", s)
	}
	return s, nil
}

// paths lists the fields of the section that hold local file paths. The
// routing key files are paths on the Alertmanager host, not beside
// gatewatch.yaml, so none are resolved.
func (c *AlertingConfig) paths() []*string { return nil }
