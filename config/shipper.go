package config

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ShipperConfig is the shipper section of gatewatch.yaml: shipping every
// access-log line to Elasticsearch, exactly once.
type ShipperConfig struct {
	// Enabled turns shipping on in `gatewatch sidecar`.
	Enabled bool `yaml:"enabled"`
	// URLs of Elasticsearch nodes (default http://localhost:9200).
	URLs []string `yaml:"urls"`
	// urlsDefaulted reports that URLs is the default, not configured.
	urlsDefaulted bool
	// Mode is index (default: daily indices named from each line's
	// @timestamp, behind an alias) or data_stream.
	Mode string `yaml:"mode"`
	// Index configures index mode.
	Index ShipperIndexConfig `yaml:"index"`
	// DataStream is the data stream of data_stream mode (default
	// logs-gateway-default).
	DataStream string `yaml:"data_stream"`
	// DLQIndex receives lines Elasticsearch refused or that could not be
	// decoded, raw, with the error (default logs-gateway-dlq).
	DLQIndex string `yaml:"dlq_index"`
	// Retention is how long documents are kept: the ILM delete phase
	// (default 30d).
	Retention Duration `yaml:"retention"`
	// Rollover is when a data stream rolls over to a new backing index
	// (data_stream mode only).
	Rollover RolloverConfig `yaml:"rollover"`
	// BatchSize is the most documents in one bulk request (default 1000).
	BatchSize int `yaml:"batch_size"`
	// BatchBytes is the largest bulk request body (default 5MiB).
	BatchBytes ByteSize `yaml:"batch_bytes"`
	// FlushInterval sends a partial batch after this long (default 1s).
	FlushInterval Duration `yaml:"flush_interval"`
	// Timeout bounds one bulk request (default 30s).
	Timeout Duration `yaml:"timeout"`
	// Backoff paces retries of refused or failed requests.
	Backoff BackoffConfig `yaml:"backoff"`
	// Checkpoint is the shipper's own checkpoint file (default
	// shipper.checkpoint.json in sidecar.checkpoint_dir).
	Checkpoint string `yaml:"checkpoint"`
	// Bootstrap installs the index templates and ILM policy at start
	// (default true).
	Bootstrap *bool `yaml:"bootstrap"`
	// TLS configures the connection to Elasticsearch.
	TLS TLSConfig `yaml:"tls"`
	// Auth holds the credentials: an API key, or a user name and password.
	Auth ShipperAuth `yaml:"auth"`
	// Redact names headers, cookies and query parameters whose values are
	// replaced by REDACTED before anything leaves the pod, in addition to
	// the defaults.
	Redact RedactConfig `yaml:"redact"`
}

// ShipperIndexConfig names the time-based indices of index mode.
type ShipperIndexConfig struct {
	// Prefix of every index name (default logs-gateway).
	Prefix string `yaml:"prefix"`
	// DatePattern formats the line's @timestamp, in UTC, after the prefix
	// and a dash: yyyy, MM, dd and HH with the separators . - _ (default
	// yyyy.MM.dd, daily indices such as logs-gateway-2026.11.22).
	DatePattern string `yaml:"date_pattern"`
	// Alias groups the indices for Kibana and queries (default
	// logs-gateway).
	Alias string `yaml:"alias"`
}

// RolloverConfig bounds a data stream's write index.
type RolloverConfig struct {
	// MaxSize is the primary shard size that triggers a rollover, in
	// Elasticsearch notation (default 50gb).
	MaxSize string `yaml:"max_size"`
	// MaxAge is the age that triggers a rollover (default 1d).
	MaxAge Duration `yaml:"max_age"`
}

// BackoffConfig is an exponential backoff with jitter.
type BackoffConfig struct {
	// Initial is the first wait (default 100ms); each retry doubles it.
	Initial Duration `yaml:"initial"`
	// Max caps the wait (default 30s).
	Max Duration `yaml:"max"`
}

// TLSConfig configures a TLS client.
type TLSConfig struct {
	// CAFile verifies the server's certificate (default: system roots).
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate, both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// InsecureSkipVerify disables verification (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// ShipperAuth holds Elasticsearch credentials, read from files or the
// environment at send time.
type ShipperAuth struct {
	// APIKey is the encoded API key (base64 of id:key, as Elasticsearch
	// returns it in "encoded").
	APIKey SecretRef `yaml:"api_key"`
	// Username and Password are for basic authentication.
	Username string    `yaml:"username"`
	Password SecretRef `yaml:"password"`
}

// RedactConfig lists further names to redact.
type RedactConfig struct {
	// Headers are header and cookie names.
	Headers []string `yaml:"headers"`
	// QueryParams are query parameter names.
	QueryParams []string `yaml:"query_params"`
}

// ByteSize is a size in bytes, written as a number or with a unit
// (1024, 512KiB, 5MiB, 5mb, 1GiB).
type ByteSize int64

// UnmarshalYAML reads a size and names the line of a bad one.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: %q is not a size; expected bytes such as 1048576, 512KiB or 5MiB", n.Line, n.Value)
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses a size with an optional unit: b, kb/KiB, mb/MiB,
// gb/GiB (all powers of 1024, as Elasticsearch reads them).
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q has no number", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	unit := strings.ToLower(strings.TrimSpace(s[i:]))
	mult := map[string]int64{"": 1, "b": 1, "kb": 1 << 10, "kib": 1 << 10, "k": 1 << 10,
		"mb": 1 << 20, "mib": 1 << 20, "m": 1 << 20, "gb": 1 << 30, "gib": 1 << 30, "g": 1 << 30,
		"tb": 1 << 40, "tib": 1 << 40, "pb": 1 << 50}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}

// Shipper defaults.
const (
	ShipperModeIndex      = "index"
	ShipperModeDataStream = "data_stream"

	DefaultShipperURL       = "http://localhost:9200"
	DefaultIndexPrefix      = "logs-gateway"
	DefaultDatePattern      = "yyyy.MM.dd"
	DefaultIndexAlias       = "logs-gateway"
	DefaultDataStream       = "logs-gateway-default"
	DefaultDLQIndex         = "logs-gateway-dlq"
	DefaultRetention        = 30 * 24 * time.Hour
	DefaultRolloverSize     = "50gb"
	DefaultRolloverAge      = 24 * time.Hour
	DefaultBatchSize        = 1000
	DefaultBatchBytes       = 5 << 20
	DefaultFlushInterval    = time.Second
	DefaultShipperTimeout   = 30 * time.Second
	DefaultBackoffInitial   = 100 * time.Millisecond
	DefaultBackoffMax       = 30 * time.Second
	ShipperCheckpointFile   = "shipper.checkpoint.json"
	maxBulkBytes            = 100 << 20 // Elasticsearch's http.max_content_length
	maxShipperBatchDocument = 100000
)

// DefaultRedactHeaders and DefaultRedactQueryParams are always redacted.
var (
	DefaultRedactHeaders     = []string{"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
	DefaultRedactQueryParams = []string{"apikey", "api_key", "token", "access_token", "password", "secret"}
)

func (c *ShipperConfig) applyDefaults() {
	if len(c.URLs) == 0 {
		c.URLs = []string{DefaultShipperURL}
		c.urlsDefaulted = true
	}
	if c.Mode == "" {
		c.Mode = ShipperModeIndex
	}
	if c.Index.Prefix == "" {
		c.Index.Prefix = DefaultIndexPrefix
	}
	if c.Index.DatePattern == "" {
		c.Index.DatePattern = DefaultDatePattern
	}
	if c.Index.Alias == "" {
		c.Index.Alias = DefaultIndexAlias
	}
	if c.DataStream == "" {
		c.DataStream = DefaultDataStream
	}
	if c.DLQIndex == "" {
		c.DLQIndex = DefaultDLQIndex
	}
	if c.Retention == 0 {
		c.Retention = Duration(DefaultRetention)
	}
	if c.Rollover.MaxSize == "" {
		c.Rollover.MaxSize = DefaultRolloverSize
	}
	if c.Rollover.MaxAge == 0 {
		c.Rollover.MaxAge = Duration(DefaultRolloverAge)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = Duration(DefaultFlushInterval)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultShipperTimeout)
	}
	if c.Backoff.Initial == 0 {
		c.Backoff.Initial = Duration(DefaultBackoffInitial)
	}
	if c.Backoff.Max == 0 {
		c.Backoff.Max = Duration(DefaultBackoffMax)
	}
	if c.Bootstrap == nil {
		t := true
		c.Bootstrap = &t
	}
}

// checkRedactName refuses a redaction name that can never match: names
// are found as whole words of letters, digits, '-' and '_' (headers,
// cookies, query parameters, JSON members), so "a.b" or "p[x]" would
// silently redact nothing.
func checkRedactName(v *validator, at []any, name string) {
	n := strings.TrimSpace(name)
	ok := n != ""
	for _, c := range []byte(n) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			ok = false
		}
	}
	if !ok {
		v.errorf(at, "%q can never match: a header, cookie or query parameter name to redact is letters, digits, '-' and '_' (a JSON member of that name is redacted at any depth; name its last part)", name)
	}
}

// URLsConfigured reports whether urls was configured rather than left to
// its default: a one-off command (replay) refuses to guess.
func (c *ShipperConfig) URLsConfigured() bool { return !c.urlsDefaulted }

// RedactNames returns every name to redact: the defaults and the
// configured headers and query parameters.
func (c *ShipperConfig) RedactNames() []string {
	var ns []string
	ns = append(ns, DefaultRedactHeaders...)
	ns = append(ns, DefaultRedactQueryParams...)
	ns = append(ns, c.Redact.Headers...)
	return append(ns, c.Redact.QueryParams...)
}

// ShipperCheckpointPath returns the shipper's checkpoint file: Checkpoint, or
// shipper.checkpoint.json in the sidecar's checkpoint directory.
func (c *Config) ShipperCheckpointPath() string {
	if c.Shipper.Checkpoint != "" {
		return c.Shipper.Checkpoint
	}
	dir := c.Sidecar.CheckpointDir
	if dir == "" {
		dir = DefaultCheckpointDir
	}
	return strings.TrimSuffix(dir, "/") + "/" + ShipperCheckpointFile
}

func (c *ShipperConfig) validate(v *validator) {
	at := func(p ...any) []any { return append([]any{"shipper"}, p...) }
	for i, u := range c.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			v.errorf(at("urls", i), "%q is not an Elasticsearch URL; expected http(s)://host:port", RedactURL(u))
			continue
		}
		if pu.User != nil {
			v.errorf(at("urls", i), "credentials must not be written in the URL; use shipper.auth with a file or environment variable")
		}
	}
	for i, n := range c.Redact.Headers {
		checkRedactName(v, at("redact", "headers", i), n)
	}
	for i, n := range c.Redact.QueryParams {
		checkRedactName(v, at("redact", "query_params", i), n)
	}
	switch c.Mode {
	case ShipperModeIndex, ShipperModeDataStream:
	default:
		v.errorf(at("mode"), "unknown mode %q; expected index or data_stream", c.Mode)
	}
	checkIndexName(v, at("index", "prefix"), c.Index.Prefix)
	checkIndexName(v, at("index", "alias"), c.Index.Alias)
	checkIndexName(v, at("data_stream"), c.DataStream)
	checkIndexName(v, at("dlq_index"), c.DLQIndex)
	if err := checkDatePattern(c.Index.DatePattern); err != nil {
		v.errorf(at("index", "date_pattern"), "%v", err)
	}
	if c.Index.Alias == c.DLQIndex || strings.HasPrefix(c.Index.Alias, c.Index.Prefix+"-") {
		v.errorf(at("index", "alias"), "alias %q must differ from the dead-letter index and from the index names %s-*", c.Index.Alias, c.Index.Prefix)
	}
	if c.Mode == ShipperModeDataStream && c.DLQIndex == c.DataStream {
		v.errorf(at("dlq_index"), "the dead-letter index must differ from the data stream")
	}
	if c.Retention < Duration(time.Hour) {
		v.errorf(at("retention"), "retention %s is too short; expected at least 1h (e.g. 30d)", c.Retention)
	}
	if _, err := ParseByteSize(c.Rollover.MaxSize); err != nil {
		v.errorf(at("rollover", "max_size"), "%q is not a size; expected e.g. 50gb", c.Rollover.MaxSize)
	}
	if c.Rollover.MaxAge < Duration(time.Minute) {
		v.errorf(at("rollover", "max_age"), "max_age %s is too short; expected at least 1m (e.g. 1d)", c.Rollover.MaxAge)
	}
	if c.BatchSize < 1 || c.BatchSize > maxShipperBatchDocument {
		v.errorf(at("batch_size"), "batch_size %d out of range; expected 1 to %d", c.BatchSize, maxShipperBatchDocument)
	}
	if c.BatchBytes < 1<<10 || c.BatchBytes > maxBulkBytes {
		v.errorf(at("batch_bytes"), "batch_bytes %d out of range; expected 1KiB to 100MiB (Elasticsearch's http.max_content_length)", c.BatchBytes)
	}
	if c.FlushInterval <= 0 {
		v.errorf(at("flush_interval"), "must be positive, e.g. 1s")
	}
	if c.Timeout <= 0 {
		v.errorf(at("timeout"), "must be positive, e.g. 30s")
	}
	if c.Backoff.Initial <= 0 || c.Backoff.Max < c.Backoff.Initial {
		v.errorf(at("backoff"), "expected 0 < initial (%s) <= max (%s)", c.Backoff.Initial, c.Backoff.Max)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		v.errorf(at("tls"), "cert_file and key_file must be set together")
	}
	c.Auth.APIKey.validate(v, at("auth", "api_key"))
	c.Auth.Password.validate(v, at("auth", "password"))
	if c.Auth.APIKey.IsSet() && (c.Auth.Username != "" || c.Auth.Password.IsSet()) {
		v.errorf(at("auth"), "use either api_key or username and password, not both")
	}
	if c.Auth.Password.IsSet() != (c.Auth.Username != "") {
		v.errorf(at("auth"), "username and password must be set together")
	}
	for i, h := range c.Redact.Headers {
		if strings.TrimSpace(h) == "" {
			v.errorf(at("redact", "headers", i), "empty name")
		}
	}
	for i, q := range c.Redact.QueryParams {
		if strings.TrimSpace(q) == "" {
			v.errorf(at("redact", "query_params", i), "empty name")
		}
	}
}

// checkIndexName applies Elasticsearch's rules for index, alias and data
// stream names.
func checkIndexName(v *validator, at []any, name string) {
	switch {
	case name == "":
		v.errorf(at, "must be set")
	case strings.ToLower(name) != name:
		v.errorf(at, "%q must be lower case", name)
	case strings.ContainsAny(name, ` "*\<|,>/?#:`):
		v.errorf(at, "%q must not contain space, \", *, \\, <, |, ',', >, /, ?, # or :", name)
	case name[0] == '_' || name[0] == '-' || name[0] == '+' || name[0] == '.':
		v.errorf(at, "%q must not start with _, -, + or .", name)
	case len(name) > 200:
		v.errorf(at, "%q is longer than 200 bytes", name)
	}
}

func checkDatePattern(p string) error {
	if p == "" {
		return fmt.Errorf("empty; expected e.g. yyyy.MM.dd")
	}
	for s := p; s != ""; {
		switch {
		case strings.HasPrefix(s, "yyyy"):
			s = s[4:]
		case strings.HasPrefix(s, "MM"), strings.HasPrefix(s, "dd"), strings.HasPrefix(s, "HH"):
			s = s[2:]
		case s[0] == '.' || s[0] == '-' || s[0] == '_':
			s = s[1:]
		default:
			return fmt.Errorf("%q: unexpected %q; expected yyyy, MM, dd, HH and the separators . - _", p, s)
		}
	}
	return nil
}

// paths lists the fields of the section that hold file paths.
func (c *ShipperConfig) paths() []*string {
	return []*string{&c.Checkpoint, &c.TLS.CAFile, &c.TLS.CertFile, &c.TLS.KeyFile, &c.Auth.APIKey.File, &c.Auth.Password.File}
}
