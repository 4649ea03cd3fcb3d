// Package alerting generates alertmanager.yml for the alerts of package
// rules: a route tree that groups by alert name and endpoint, sends pages
// to a high-urgency PagerDuty service and tickets to a low-urgency one
// (per owning team where gatewatch.yaml names the team's services), and
// inhibit rules so that one cause pages once.
//
// Only Alertmanager 0.25 fields are written, and routing keys only as
// routing_key_file paths: a key never appears in the generated file.
package alerting

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/rules"
)

// Config is alertmanager.yml as gatewatch writes it.
type Config struct {
	Global       Global        `yaml:"global"`
	Route        Route         `yaml:"route"`
	InhibitRules []InhibitRule `yaml:"inhibit_rules"`
	Receivers    []Receiver    `yaml:"receivers"`
}

// Global holds the global settings.
type Global struct {
	ResolveTimeout string `yaml:"resolve_timeout"`
	PagerdutyURL   string `yaml:"pagerduty_url,omitempty"`
}

// Route is a node of the route tree.
type Route struct {
	Receiver       string   `yaml:"receiver,omitempty"`
	GroupBy        []string `yaml:"group_by,omitempty"`
	Matchers       []string `yaml:"matchers,omitempty"`
	GroupWait      string   `yaml:"group_wait,omitempty"`
	GroupInterval  string   `yaml:"group_interval,omitempty"`
	RepeatInterval string   `yaml:"repeat_interval,omitempty"`
	Routes         []Route  `yaml:"routes,omitempty"`
}

// InhibitRule mutes target alerts while a source alert fires.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// Receiver is a named notification target.
type Receiver struct {
	Name             string      `yaml:"name"`
	PagerdutyConfigs []PagerDuty `yaml:"pagerduty_configs,omitempty"`
}

// PagerDuty is an Events API v2 integration. Details values are strings,
// as Alertmanager 0.25 requires.
type PagerDuty struct {
	RoutingKeyFile string            `yaml:"routing_key_file"`
	Severity       string            `yaml:"severity"`
	Description    string            `yaml:"description"`
	Details        map[string]string `yaml:"details"`
	Links          []Link            `yaml:"links,omitempty"`
}

// Link is a pagerduty_configs link; href and text are templates.
type Link struct {
	Href string `yaml:"href"`
	Text string `yaml:"text"`
}

// annotationLink links to an annotation's URL, or to Alertmanager when an
// alert lacks it: PagerDuty refuses a link without href (400), which
// would lose the page.
func annotationLink(annotation, text string) Link {
	return Link{Href: `{{ with ` + first + `.Annotations.` + annotation + ` }}{{ . }}{{ else }}{{ .ExternalURL }}{{ end }}`, Text: text}
}

// Receiver names.
const (
	ReceiverPage   = "pagerduty-page"
	ReceiverTicket = "pagerduty-ticket"
)

// PagerDutySeverity maps the severity label to PagerDuty's event severity.
var PagerDutySeverity = map[string]string{
	rules.SeverityPage:   "critical",
	rules.SeverityTicket: "warning",
}

// GroupBy are the labels alerts are grouped by into one notification.
var GroupBy = []string{model.AlertNameLabel, schema.LabelEndpoint}

const (
	first       = "(index .Alerts 0)"
	description = `{{ ` + first + `.Annotations.summary }}{{ if gt (len .Alerts) 1 }} ({{ len .Alerts }} alerts){{ end }}`
)

// Alertmanager returns the Alertmanager configuration for cfg's owners and
// PagerDuty services.
func Alertmanager(cfg *config.Config) (*Config, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	a := &cfg.Alerting
	teams := cfg.TeamNames()
	for _, t := range sortedKeys(a.PagerDuty.Teams) {
		if !slices.Contains(teams, t) {
			return nil, fmt.Errorf("%s: alerting.pagerduty.teams.%s: unknown team %q; expected one of the owners' teams: %s",
				fileName(cfg), t, t, strings.Join(teams, ", "))
		}
	}
	c := &Config{
		Global: Global{ResolveTimeout: "5m", PagerdutyURL: a.PagerDuty.URL},
		Route: Route{
			Receiver:       ReceiverTicket,
			GroupBy:        GroupBy,
			GroupWait:      duration(a.GroupWait),
			GroupInterval:  duration(a.GroupInterval),
			RepeatInterval: duration(a.RepeatInterval),
		},
	}
	c.Receivers = append(c.Receivers,
		receiver(ReceiverPage, a.PagerDuty.Page.RoutingKeyFile, rules.SeverityPage),
		receiver(ReceiverTicket, a.PagerDuty.Ticket.RoutingKeyFile, rules.SeverityTicket))
	for _, team := range teams {
		tp := a.PagerDuty.Teams[team]
		for _, sev := range []struct {
			name, file, fallback string
		}{
			{rules.SeverityPage, tp.PageRoutingKeyFile, ReceiverPage},
			{rules.SeverityTicket, tp.TicketRoutingKeyFile, ReceiverTicket},
		} {
			recv := sev.fallback
			if sev.file != "" {
				recv = "team-" + team + "-" + sev.name
				c.Receivers = append(c.Receivers, receiver(recv, sev.file, sev.name))
			}
			c.Route.Routes = append(c.Route.Routes, Route{
				Receiver: recv,
				Matchers: []string{matcher(rules.LabelTeam, "=", team), matcher(rules.LabelSeverity, "=", sev.name)},
			})
		}
	}
	c.Route.Routes = append(c.Route.Routes,
		Route{Receiver: ReceiverPage, Matchers: []string{matcher(rules.LabelSeverity, "=", rules.SeverityPage)}},
		Route{Receiver: ReceiverTicket, Matchers: []string{matcher(rules.LabelSeverity, "=", rules.SeverityTicket)}},
	)
	for i := range c.Receivers {
		for j := range c.Receivers[i].PagerdutyConfigs {
			links := []Link{annotationLink(rules.AnnotationRunbook, "Runbook")}
			if a.DashboardURL != "" {
				links = append(links, annotationLink(rules.AnnotationDashboard, "Dashboard"))
			}
			c.Receivers[i].PagerdutyConfigs[j].Links = links
		}
	}
	c.InhibitRules = []InhibitRule{
		{
			// The gateway or its sidecar is down: per-endpoint alerts
			// add nothing.
			SourceMatchers: []string{matcher(model.AlertNameLabel, "=~", strings.Join(rules.GatewayDownAlerts, "|"))},
			TargetMatchers: []string{matcher(schema.LabelEndpoint, "=~", ".+")},
			Equal:          []string{schema.LabelGateway},
		},
		{
			// The gateway's external probes all fail (rules/probe.go):
			// its endpoints' alerts add nothing.
			SourceMatchers: []string{matcher(model.AlertNameLabel, "=", rules.AlertGatewayDown)},
			TargetMatchers: []string{matcher(schema.LabelEndpoint, "=~", ".+")},
			Equal:          []string{schema.LabelGateway},
		},
		{
			SourceMatchers: []string{matcher(model.AlertNameLabel, "=", rules.AlertGatewayDown)},
			TargetMatchers: []string{matcher(model.AlertNameLabel, "=", rules.AlertProbeFailing)},
			Equal:          []string{schema.LabelGateway},
		},
		{
			// A page about an endpoint's SLO silences the ticket about
			// the same SLO of the same endpoint.
			SourceMatchers: []string{matcher(rules.LabelSeverity, "=", rules.SeverityPage), matcher(rules.LabelSLO, "=~", ".+")},
			TargetMatchers: []string{matcher(rules.LabelSeverity, "=", rules.SeverityTicket), matcher(rules.LabelSLO, "=~", ".+")},
			Equal:          []string{schema.LabelGateway, schema.LabelEndpoint, schema.LabelMethod, rules.LabelSLO},
		},
	}
	return c, nil
}

// YAML returns alertmanager.yml.
func (c *Config) YAML() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Generated by gatewatch generate alertmanager; do not edit.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("writing alertmanager.yml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing alertmanager.yml: %w", err)
	}
	return b.Bytes(), nil
}

func receiver(name, keyFile, severity string) Receiver {
	return Receiver{Name: name, PagerdutyConfigs: []PagerDuty{{
		RoutingKeyFile: keyFile,
		Severity:       PagerDutySeverity[severity],
		Description:    description,
		Details: map[string]string{
			"summary":     `{{ ` + first + `.Annotations.summary }}`,
			"description": `{{ ` + first + `.Annotations.description }}`,
			"runbook":     `{{ ` + first + `.Annotations.runbook_url }}`,
			"dashboard":   `{{ ` + first + `.Annotations.dashboard_url }}`,
			"gateway":     `{{ .CommonLabels.gateway }}`,
			"endpoint":    `{{ .CommonLabels.method }} {{ .CommonLabels.endpoint }}`,
			"team":        `{{ .CommonLabels.team }}`,
		},
	}}}
}

func matcher(label, op, value string) string { return label + op + strconv.Quote(value) }

func duration(d config.Duration) string { return model.Duration(time.Duration(d)).String() }

func fileName(cfg *config.Config) string {
	if cfg.File == "" {
		return "gatewatch.yaml"
	}
	return cfg.File
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
