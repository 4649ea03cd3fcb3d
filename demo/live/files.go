package live

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/schema"
)

// Demo timings: Prometheus scrapes and evaluates every 2s (production
// uses 15s to 1m) and Alertmanager notifies 5s after an alert fires, so
// that the generated page alert (1h and 5m windows, for: 2m) reaches the
// PagerDuty stand-in about 2.5 minutes after an error burst starts. The
// rules themselves are the generated ones, unchanged.
const (
	scrapeInterval = "2s"
	groupWait      = "5s"
	groupInterval  = "15s"
	repeatInterval = "1h"
)

// demoConfig writes the demo's gatewatch.yaml from the example's: the same
// contract, SLOs and owners, plus what a run on one machine needs (the
// sidecar on loopback with its state under out, Alertmanager's PagerDuty
// URL pointed at the stand-in, routing key files under out, short
// notification timings). Comments of the example are kept.
func demoConfig(example, out, contractPath, sidecarAddr, pdURL, pageKeyFile, ticketKeyFile string) ([]byte, error) {
	src, err := os.ReadFile(example)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", example, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: expected a mapping at the top", example)
	}
	root := doc.Content[0]
	set(root, contractPath, "contract", "path")
	set(root, sidecarAddr, "sidecar", "listen")
	// Absolute, as a path in a pod must be: generate all also writes the
	// Kubernetes manifests, which refuse a relative checkpoint folder.
	state, err := filepath.Abs(filepath.Join(out, "state"))
	if err != nil {
		return nil, err
	}
	set(root, state, "sidecar", "checkpoint_dir")
	set(root, pdURL, "alerting", "pagerduty", "url")
	set(root, pageKeyFile, "alerting", "pagerduty", "page", "routing_key_file")
	set(root, ticketKeyFile, "alerting", "pagerduty", "ticket", "routing_key_file")
	set(root, groupWait, "alerting", "group_wait")
	set(root, groupInterval, "alerting", "group_interval")
	set(root, repeatInterval, "alerting", "repeat_interval")
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The demo's gatewatch.yaml, written by make demo from %s: the same contract,\n", rel(example))
	b.WriteString("# SLOs and owners, with the sidecar on loopback, its state in this folder, and\n")
	b.WriteString("# Alertmanager paging the demo's PagerDuty stand-in after short waits.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// set sets the value at path below m, creating mappings on the way.
func set(m *yaml.Node, value string, path ...string) {
	for i, key := range path {
		var v *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == key {
				v = m.Content[j+1]
				break
			}
		}
		last := i == len(path)-1
		if v == nil {
			v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if last {
				v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str"}
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
		}
		if last {
			*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, LineComment: "demo"}
			return
		}
		if v.Kind != yaml.MappingNode {
			*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		m = v
	}
}

// prometheusConfig is the demo's prometheus.yml: the generated rules, the
// sidecar scraped as the generated configuration and the decision in
// docs/dev/demo.md say (job from gatewatch.yaml, honor_labels, the gateway
// target label), Alertmanager on loopback.
func prometheusConfig(rulesFile, job, sidecarAddr, gateway, alertmanagerAddr string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# The demo's prometheus.yml, written by make demo. Demo timings: scrape and
# evaluate every %[1]s so that the generated page alert fires within minutes.
global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
rule_files:
  - %[2]s
`, scrapeInterval, strconv.Quote(rulesFile))
	if alertmanagerAddr != "" {
		fmt.Fprintf(&b, `alerting:
  alertmanagers:
    - static_configs:
        - targets: [%s]
`, strconv.Quote(alertmanagerAddr))
	}
	fmt.Fprintf(&b, `scrape_configs:
  - job_name: %s
    honor_labels: true
    static_configs:
      - targets: [%s]
        labels:
          %s: %s
`, strconv.Quote(job), strconv.Quote(sidecarAddr), schema.LabelGateway, strconv.Quote(gateway))
	return b.Bytes()
}

// writeFile writes b to dir/name and returns the path.
func writeFile(dir, name string, b []byte, perm os.FileMode) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, b, perm)
}
