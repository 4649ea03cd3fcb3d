package config

import (
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/contract"
)

// SidecarConfig is the sidecar section of gatewatch.yaml: which access logs
// `gatewatch sidecar` follows and how it serves its metrics.
type SidecarConfig struct {
	// Logs are the access logs to follow (default: one file,
	// /var/log/gateway/access.log, in the contract's format).
	Logs []LogConfig `yaml:"logs"`
	// Listen is the address of the metrics server (default ":9145").
	Listen string `yaml:"listen"`
	// CheckpointDir holds the metrics reader's checkpoint (default
	// /var/lib/gatewatch), relative to the directory of gatewatch.yaml.
	CheckpointDir string `yaml:"checkpoint_dir"`
	// Start is where reading begins: checkpoint (default: where the last
	// run stopped, else the beginning of the file), beginning or end.
	Start string `yaml:"start"`
	// MaxLineBytes bounds one line; a longer one is counted as a decode
	// error "too_long" and skipped (default 65536).
	MaxLineBytes int `yaml:"max_line_bytes"`
	// PollInterval is how often files are checked for new data and
	// rotation (default 250ms).
	PollInterval Duration `yaml:"poll_interval"`
	// CheckpointInterval is how often the checkpoint is written (default
	// 5s); it is always written on shutdown.
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
	// MaxBackends bounds the backend label (default 100; further upstream
	// hosts are counted as "other").
	MaxBackends int `yaml:"max_backends"`
	// ForgetFilesAfter is how long the per-file series of a file no
	// longer followed (rotated away and drained, deleted) stay on /metrics
	// before they are removed (default 10m, at least 1m): dated rotated
	// names (kubelet, logrotate dateext) would otherwise add series
	// without end.
	ForgetFilesAfter Duration `yaml:"forget_files_after"`
	// ScrapeGateway, when set, serves the gateway's own metrics beside
	// the sidecar's.
	ScrapeGateway *ScrapeGatewayConfig `yaml:"scrape_gateway"`
	// ExtraLabels count requests by allow-listed values of access-log
	// fields that a log extracts (logs[].extra, or mapping.extra for the
	// json format).
	ExtraLabels []ExtraLabelConfig `yaml:"extra_labels"`
}

// ExtraLabelConfig is one access-log field counted by value in
// gatewatch_http_requests_by_field_total.
type ExtraLabelConfig struct {
	// Field is a name of a log's extra or mapping.extra.
	Field string `yaml:"field"`
	// Values are counted as themselves; others as "other", a missing
	// field as "none".
	Values []string `yaml:"values"`
}

// MaxExtraLabelValues bounds the allow-list of one extra label.
const MaxExtraLabelValues = 100

// LogConfig is one followed access log.
type LogConfig struct {
	// Path of the file, a glob over rotated names
	// ("/var/log/gateway/access.log*"), or "-" for standard input.
	Path string `yaml:"path"`
	// Format is one of accesslog.Formats; empty means the contract's own
	// (krakend → krakend, kong → kong, envoy → auto).
	Format string `yaml:"format"`
	// Mapping reads a generic JSON log (format json, or the fallback of
	// format auto).
	Mapping *accesslog.Mapping `yaml:"mapping"`
	// Envelope is none (default), cri (Kubernetes /var/log/pods files) or
	// docker (json-file driver).
	Envelope string `yaml:"envelope"`
	// Extra names more fields of the built-in JSON formats (kong, envoy,
	// krakend-json, auto) to extract for extra_labels: name → dotted JSON
	// path, such as variant: request.headers.x-ab-variant (Kong) or
	// variant: x_variant (an Envoy json_format key). See
	// accesslog.WithExtra.
	Extra map[string]string `yaml:"extra"`
}

// ScrapeGatewayConfig points at the gateway's own metrics endpoint.
type ScrapeGatewayConfig struct {
	// URL of the gateway's Prometheus endpoint.
	URL string `yaml:"url"`
	// Timeout bounds one scrape of the gateway (default 2s).
	Timeout Duration `yaml:"timeout"`
}

// Sidecar defaults.
const (
	DefaultSidecarListen        = ":9145"
	DefaultSidecarLog           = "/var/log/gateway/access.log"
	DefaultCheckpointDir        = "/var/lib/gatewatch"
	DefaultMaxLineBytes         = 64 << 10
	DefaultPollInterval         = 250 * time.Millisecond
	DefaultCheckpointInterval   = 5 * time.Second
	DefaultGatewayScrapeTimeout = 2 * time.Second
	DefaultMaxBackends          = 100
	DefaultForgetFilesAfter     = 10 * time.Minute
	// MinForgetFilesAfter keeps a file's last values on /metrics for
	// several scrapes after its last line.
	MinForgetFilesAfter = time.Minute
)

// Start positions of the sidecar's reader.
const (
	StartCheckpoint = "checkpoint"
	StartBeginning  = "beginning"
	StartEnd        = "end"
)

// Log envelopes.
var envelopes = []string{"none", "cri", "docker"}

func (c *SidecarConfig) applyDefaults() {
	if len(c.Logs) == 0 {
		c.Logs = []LogConfig{{Path: DefaultSidecarLog}}
	}
	for i := range c.Logs {
		if c.Logs[i].Envelope == "" {
			c.Logs[i].Envelope = "none"
		}
	}
	if c.Listen == "" {
		c.Listen = DefaultSidecarListen
	}
	if c.CheckpointDir == "" {
		c.CheckpointDir = DefaultCheckpointDir
	}
	if c.Start == "" {
		c.Start = StartCheckpoint
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.PollInterval == 0 {
		c.PollInterval = Duration(DefaultPollInterval)
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = Duration(DefaultCheckpointInterval)
	}
	if c.MaxBackends == 0 {
		c.MaxBackends = DefaultMaxBackends
	}
	if c.ForgetFilesAfter == 0 {
		c.ForgetFilesAfter = Duration(DefaultForgetFilesAfter)
	}
	if c.ScrapeGateway != nil && c.ScrapeGateway.Timeout == 0 {
		c.ScrapeGateway.Timeout = Duration(DefaultGatewayScrapeTimeout)
	}
}

func (c *SidecarConfig) validate(v *validator) {
	at := []any{"sidecar"}
	stdin := 0
	seen := map[string]bool{}
	for i, l := range c.Logs {
		la := append(slices.Clone(at), "logs", i)
		switch {
		case l.Path == "":
			v.errorf(append(la, "path"), "path must be set (a file, a glob such as /var/log/gateway/access.log*, or - for standard input)")
		case l.Path == "-":
			stdin++
		case seen[l.Path]:
			v.errorf(append(la, "path"), "%q is listed twice", l.Path)
		default:
			if _, err := filepath.Match(l.Path, ""); err != nil {
				v.errorf(append(la, "path"), "%q is not a valid glob (%v); expected a file or a pattern such as /var/log/gateway/access.log*", l.Path, err)
			}
		}
		seen[l.Path] = true
		if l.Format != "" && !slices.Contains(accesslog.Formats, l.Format) {
			v.errorf(append(la, "format"), "unknown format %q; expected one of %s (or leave it out to use the contract's)", l.Format, strings.Join(accesslog.Formats, ", "))
		}
		if l.Format == "json" && l.Mapping == nil {
			v.errorf(append(la, "format"), "format json needs a mapping (method, path and status at least)")
		}
		if l.Mapping != nil {
			if err := l.Mapping.Validate(); err != nil {
				v.errorf(append(la, "mapping"), "%v", err)
			}
		}
		if !slices.Contains(envelopes, l.Envelope) {
			v.errorf(append(la, "envelope"), "unknown envelope %q; expected none, cri or docker", l.Envelope)
		}
		if len(l.Extra) > 0 {
			validateLogExtra(v, la, l)
		}
	}
	if stdin > 1 {
		v.errorf(append(at, "logs"), "standard input (-) can be read only once")
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		v.errorf(append(at, "listen"), "%q is not a listen address; expected host:port or :port such as :9145", c.Listen)
	}
	switch c.Start {
	case StartCheckpoint, StartBeginning, StartEnd:
	default:
		v.errorf(append(at, "start"), "unknown start %q; expected checkpoint, beginning or end", c.Start)
	}
	if c.MaxLineBytes < 256 || c.MaxLineBytes > 64<<20 {
		v.errorf(append(at, "max_line_bytes"), "%d is out of range; expected 256 to 67108864 (default 65536)", c.MaxLineBytes)
	}
	if c.PollInterval.Std() < 10*time.Millisecond || c.PollInterval.Std() > time.Minute {
		v.errorf(append(at, "poll_interval"), "%s is out of range; expected 10ms to 1m (default 250ms)", c.PollInterval)
	}
	if c.CheckpointInterval.Std() < 100*time.Millisecond {
		v.errorf(append(at, "checkpoint_interval"), "%s is too short; expected at least 100ms (default 5s)", c.CheckpointInterval)
	}
	if c.MaxBackends < 1 {
		v.errorf(append(at, "max_backends"), "must be at least 1 (default 100)")
	}
	if c.ForgetFilesAfter.Std() < MinForgetFilesAfter {
		v.errorf(append(at, "forget_files_after"), "%s is too short; expected at least 1m, longer than twice the scrape interval (default 10m)", c.ForgetFilesAfter)
	}
	extracted := map[string]bool{}
	for _, l := range c.Logs {
		if l.Mapping != nil {
			for name := range l.Mapping.Extra {
				extracted[name] = true
			}
		}
		for name := range l.Extra {
			extracted[name] = true
		}
	}
	fields := map[string]bool{}
	for i, x := range c.ExtraLabels {
		xa := append(slices.Clone(at), "extra_labels", i)
		switch {
		case x.Field == "":
			v.errorf(append(xa, "field"), "field must be set (a name of a log's extra or mapping.extra)")
		case fields[x.Field]:
			v.errorf(append(xa, "field"), "field %q is listed twice", x.Field)
		case !extracted[x.Field]:
			v.errorf(append(xa, "field"), "field %q is not extracted by any log; add it to a log's extra (formats %s) or mapping.extra (format json)", x.Field, strings.Join(accesslog.ExtraFormats, ", "))
		}
		fields[x.Field] = true
		if len(x.Values) == 0 || len(x.Values) > MaxExtraLabelValues {
			v.errorf(append(xa, "values"), "%d values; expected 1 to %d allowed values (others are counted as \"other\")", len(x.Values), MaxExtraLabelValues)
		}
	}
	if s := c.ScrapeGateway; s != nil {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(append(at, "scrape_gateway", "url"), "%q is not an http(s) URL such as http://localhost:8080/metrics", s.URL)
		}
		if s.Timeout.Std() <= 0 || s.Timeout.Std() > time.Minute {
			v.errorf(append(at, "scrape_gateway", "timeout"), "%s is out of range; expected more than 0 and at most 1m", s.Timeout)
		}
	}
}

// validateLogExtra checks logs[i].extra: a format that can fill extra
// fields, label-like names, well-formed dotted paths.
func validateLogExtra(v *validator, la []any, l LogConfig) {
	at := append(slices.Clone(la), "extra")
	switch {
	case l.Format == "json":
		v.errorf(at, "format json takes its extra fields from mapping.extra; move them there")
	case l.Format != "" && !slices.Contains(accesslog.ExtraFormats, l.Format):
		v.errorf(at, "format %s cannot extract extra fields; extra needs format %s", l.Format, strings.Join(accesslog.ExtraFormats, ", "))
	}
	if len(l.Extra) > accesslog.MaxExtraFields {
		v.errorf(at, "%d extra fields; at most %d", len(l.Extra), accesslog.MaxExtraFields)
	}
	names := make([]string, 0, len(l.Extra))
	for name := range l.Extra {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := accesslog.ValidateExtra(map[string]string{name: l.Extra[name]}); err != nil {
			v.errorf(append(slices.Clone(at), name), "%v (for example variant: request.headers.x-ab-variant)", err)
		}
	}
}

// paths lists the fields of the section that hold file paths.
func (c *SidecarConfig) paths() []*string {
	ps := []*string{&c.CheckpointDir}
	for i := range c.Logs {
		if c.Logs[i].Path != "-" {
			ps = append(ps, &c.Logs[i].Path)
		}
	}
	return ps
}

// DecoderFormat returns the accesslog.NewDecoder format name of a log: its
// format, or the contract's when it has none, prefixed with its envelope.
func (l *LogConfig) DecoderFormat(kind contract.Kind) string {
	f := l.Format
	if f == "" {
		switch kind {
		case contract.KrakenD:
			f = "krakend"
		case contract.Kong:
			f = "kong"
		default:
			f = "auto"
		}
	}
	if l.Envelope != "" && l.Envelope != "none" {
		f = l.Envelope + "+" + f
	}
	return f
}
