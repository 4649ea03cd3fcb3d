// Package config reads gatewatch.yaml, the one configuration file every
// gatewatch command uses: where the contract is, the SLOs, the owners, and
// the settings of the sidecar, the shipper and the generators.
//
// Decoding is strict: an unknown key is an error that names its line and
// the keys that were expected. Secrets are never written in the file; they
// are read from files (`*_file`) or the environment (`*_env`).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the whole of gatewatch.yaml.
type Config struct {
	// Contract says where the gateway configuration is.
	Contract ContractConfig `yaml:"contract"`
	// Gateway describes this deployment of the gateway.
	Gateway GatewayConfig `yaml:"gateway"`
	// SLO holds the objectives, with defaults and per-endpoint overrides.
	SLO SLOConfig `yaml:"slo"`
	// Owners maps endpoints to the teams that answer for them.
	Owners OwnersConfig `yaml:"owners"`
	// Sidecar configures `gatewatch sidecar`.
	Sidecar SidecarConfig `yaml:"sidecar"`
	// Shipper configures shipping to Elasticsearch.
	Shipper ShipperConfig `yaml:"shipper"`
	// Alerting configures the generated rules and Alertmanager routing.
	Alerting AlertingConfig `yaml:"alerting"`
	// Grafana configures the dashboards and their links.
	Grafana GrafanaConfig `yaml:"grafana"`
	// Canary configures `gatewatch canary judge` and `generate canary`.
	Canary CanaryConfig `yaml:"canary"`
	// Kubernetes configures `gatewatch generate kubernetes`.
	Kubernetes KubernetesConfig `yaml:"kubernetes"`
	// Probe configures `gatewatch probe` and the generated probes.
	Probe ProbeConfig `yaml:"probe"`
	// Lint configures `gatewatch contract lint -c gatewatch.yaml`.
	Lint LintConfig `yaml:"lint"`

	// File is the path the configuration was read from ("" for defaults).
	File string `yaml:"-"`
	// root is the parsed file, for the places of later findings.
	root *yaml.Node
}

// ContractConfig locates the gateway contract.
type ContractConfig struct {
	// Path of krakend.json, kong.yaml or envoy.yaml, relative to the
	// directory of gatewatch.yaml.
	Path string `yaml:"path"`
	// Format is auto (detected from content), krakend, kong or envoy.
	Format string `yaml:"format"`
	// Settings, Partials and Templates are KrakenD flexible-configuration
	// folders (FC_SETTINGS, FC_PARTIALS, FC_TEMPLATES), relative to the
	// directory of gatewatch.yaml.
	Settings  string `yaml:"settings"`
	Partials  string `yaml:"partials"`
	Templates string `yaml:"templates"`
}

// GatewayConfig describes the running deployment.
type GatewayConfig struct {
	// Name overrides the contract's gateway name in labels.
	Name string `yaml:"name"`
	// Track is stable, canary, baseline, blue or green; the environment
	// variable GATEWATCH_TRACK (e.g. from a pod label through the downward
	// API) overrides it.
	Track string `yaml:"track"`
	// Version of the deployed gateway; GATEWATCH_VERSION overrides it.
	Version string `yaml:"version"`
}

// Tracks are the allowed values of the track label.
var Tracks = []string{"stable", "canary", "baseline", "blue", "green"}

// Default returns the configuration used when there is no gatewatch.yaml.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.Contract.Format == "" {
		c.Contract.Format = "auto"
	}
	if c.Gateway.Track == "" {
		c.Gateway.Track = "stable"
	}
	c.SLO.applyDefaults()
	c.Sidecar.applyDefaults()
	c.Shipper.applyDefaults()
	c.Alerting.applyDefaults()
	c.Grafana.applyDefaults()
	c.Canary.applyDefaults()
	c.Kubernetes.applyDefaults()
	c.Probe.applyDefaults()
}

// LoadFile reads and validates gatewatch.yaml. Relative paths in it are
// resolved against the file's directory. Environment overrides
// (GATEWATCH_TRACK, GATEWATCH_VERSION) are applied.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	c, err := Load(path, b)
	if err != nil {
		return nil, err
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Load parses gatewatch.yaml from b; name is used in error messages.
func Load(name string, b []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yamlMessage(err))
	}
	c := &Config{File: name, root: &root}
	if len(root.Content) == 0 { // empty file: all defaults
		c.applyDefaults()
		c.applyEnv()
		return c, c.validate(name, &root)
	}
	doc := root.Content[0]
	if err := sizesToBytes(name, doc); err != nil {
		return nil, err
	}
	if err := checkKeys(name, doc, c, ""); err != nil {
		return nil, err
	}
	if err := doc.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %s", name, yamlMessage(err))
	}
	c.File, c.root = name, &root
	c.applyDefaults()
	c.applyEnv()
	if err := c.validate(name, &root); err != nil {
		return nil, err
	}
	return c, nil
}

// sizeKeys are the integer byte counts that are also written with units
// (64KiB, 1MiB), as ByteSize values are; the fields stay plain ints for
// their users.
var sizeKeys = [][]string{{"sidecar", "max_line_bytes"}}

// sizesToBytes rewrites each sizeKeys value written with a unit into its
// number of bytes before decoding, so that every size of the file takes
// the same units.
func sizesToBytes(file string, doc *yaml.Node) error {
	for _, path := range sizeKeys {
		n := doc
		for _, k := range path {
			var next *yaml.Node
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
					}
				}
			}
			if next == nil {
				n = nil
				break
			}
			n = next
		}
		if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
			continue
		}
		b, err := ParseByteSize(n.Value)
		if err != nil {
			return fmt.Errorf("%s:%d:%d: %s: %q is not a size; expected bytes such as 65536, 64KiB or 1MiB", file, n.Line, n.Column, strings.Join(path, "."), n.Value)
		}
		n.Value, n.Tag, n.Style = strconv.FormatInt(b, 10), "!!int", 0
	}
	return nil
}

func (c *Config) applyEnv() {
	if v := os.Getenv("GATEWATCH_TRACK"); v != "" {
		c.Gateway.Track = v
	}
	if v := os.Getenv("GATEWATCH_VERSION"); v != "" {
		c.Gateway.Version = v
	}
}

// resolvePaths makes file paths relative to dir.
func (c *Config) resolvePaths(dir string) {
	for _, p := range c.paths() {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// paths lists every field that holds a file or folder path.
func (c *Config) paths() []*string {
	ps := []*string{&c.Contract.Path, &c.Contract.Settings, &c.Contract.Partials, &c.Contract.Templates}
	ps = append(ps, c.Sidecar.paths()...)
	ps = append(ps, c.Shipper.paths()...)
	ps = append(ps, c.Alerting.paths()...)
	ps = append(ps, &c.Grafana.Token.File)
	ps = append(ps, c.Probe.paths()...)
	return ps
}

func (c *Config) validate(name string, root *yaml.Node) error {
	v := &validator{file: name, root: root}
	switch c.Contract.Format {
	case "auto", "krakend", "kong", "envoy":
	default:
		v.errorf([]any{"contract", "format"}, "unknown format %q; expected auto, krakend, kong or envoy", c.Contract.Format)
	}
	if !oneOf(c.Gateway.Track, Tracks) {
		v.errorf([]any{"gateway", "track"}, "unknown track %q; expected one of %s", c.Gateway.Track, strings.Join(Tracks, ", "))
	}
	c.SLO.validate(v)
	c.Owners.validate(v)
	c.Sidecar.validate(v)
	c.Shipper.validate(v)
	c.Alerting.validate(v)
	c.Grafana.validate(v)
	c.Canary.validate(v)
	c.Kubernetes.validate(v)
	c.Probe.validate(v)
	c.Lint.validate(v)
	teams := c.TeamNames()
	for _, t := range sortedKeys(c.Alerting.PagerDuty.Teams) {
		if !oneOf(t, teams) {
			v.errorf([]any{"alerting", "pagerduty", "teams", t}, "unknown team %q; expected one of the owners' teams: %s", t, strings.Join(teams, ", "))
		}
	}
	if c.Shipper.Enabled {
		for i, l := range c.Sidecar.Logs {
			if l.Path == "-" {
				v.errorf([]any{"sidecar", "logs", i, "path"}, "standard input cannot feed both the metrics reader and the shipper, which read independently; have the gateway write its access log to a file (a shared emptyDir volume), or disable the shipper")
			}
		}
	}
	return v.err()
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// yamlMessage turns a yaml.v3 error into "line N: message" form without the
// library's prefixes.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// validator collects every problem found in a configuration, each with its
// place in the file.
type validator struct {
	file string
	root *yaml.Node
	errs []error
}

// errorf records a problem at the node found by following path (map keys as
// strings, sequence indexes as ints) from the document root; when the path
// ends early the nearest existing node gives the line.
func (v *validator) errorf(path []any, format string, args ...any) {
	line, col := v.position(path)
	loc := v.file
	if line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", v.file, line, col)
	}
	v.errs = append(v.errs, fmt.Errorf("%s: %s: %s", loc, pathString(path), fmt.Sprintf(format, args...)))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// node returns the value the file writes at path (map keys only), nil
// when the file leaves it out or writes null.
func (v *validator) node(path []any) *yaml.Node {
	if v.root == nil || len(v.root.Content) == 0 {
		return nil
	}
	n := v.root.Content[0]
	for _, p := range path {
		k, ok := p.(string)
		if !ok || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	if isNull(n) {
		return nil
	}
	return n
}

func (v *validator) position(path []any) (int, int) {
	if v.root == nil || len(v.root.Content) == 0 {
		return 0, 0
	}
	n := v.root.Content[0]
	line, col := 0, 0
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						line, col = n.Content[i].Line, n.Content[i].Column
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line, col = next.Line, next.Column
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line, col
}

func pathString(path []any) string {
	var b bytes.Buffer
	for i, p := range path {
		switch k := p.(type) {
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}
