package config

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestShipperDefaults(t *testing.T) {
	c, err := Load("gw.yaml", []byte("shipper:\n  enabled: true\n"))
	require.NoError(t, err)
	s := c.Shipper
	require.Equal(t, []string{DefaultShipperURL}, s.URLs)
	require.Equal(t, ShipperModeIndex, s.Mode)
	require.Equal(t, ShipperIndexConfig{Prefix: "logs-gateway", DatePattern: "yyyy.MM.dd", Alias: "logs-gateway"}, s.Index)
	require.Equal(t, "logs-gateway-default", s.DataStream)
	require.Equal(t, "logs-gateway-dlq", s.DLQIndex)
	require.Equal(t, Duration(30*24*time.Hour), s.Retention)
	require.Equal(t, ByteSize(5<<20), s.BatchBytes)
	require.True(t, *s.Bootstrap)
	require.Equal(t, "/var/lib/gatewatch/shipper.checkpoint.json", c.ShipperCheckpointPath())
	require.Contains(t, s.RedactNames(), "authorization")
	require.Contains(t, s.RedactNames(), "access_token")
}

func TestShipperFull(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`
shipper:
  enabled: true
  urls: [https://es-1:9200, https://es-2:9200]
  mode: data_stream
  data_stream: logs-gateway-prod
  retention: 7d
  rollover: {max_size: 10gb, max_age: 12h}
  batch_size: 500
  batch_bytes: 2MiB
  flush_interval: 500ms
  backoff: {initial: 50ms, max: 10s}
  checkpoint: state/shipper.json
  tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem}
  auth:
    api_key: {file: /run/secrets/es-api-key}
  redact:
    headers: [x-session]
    query_params: [sig]
`))
	require.NoError(t, err)
	s := c.Shipper
	require.Equal(t, ShipperModeDataStream, s.Mode)
	require.Equal(t, ByteSize(2<<20), s.BatchBytes)
	require.Equal(t, "/run/secrets/es-api-key", s.Auth.APIKey.File)
	require.Contains(t, s.RedactNames(), "x-session")
	require.Contains(t, s.RedactNames(), "sig")
	require.Equal(t, "state/shipper.json", c.ShipperCheckpointPath())
}

func TestShipperErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"mode", "shipper:\n  mode: stream\n", `gw.yaml:2:3: shipper.mode: unknown mode "stream"`},
		{"url", "shipper:\n  urls: [es:9200]\n", `gw.yaml:2:10: shipper.urls[0]: "es:9200" is not an Elasticsearch URL`},
		{"url with password", "shipper:\n  urls:\n    - https://u:p@es:9200\n", `gw.yaml:3:7: shipper.urls[0]: credentials must not be written in the URL`},
		{"upper-case prefix", "shipper:\n  index: {prefix: Logs}\n", `gw.yaml:2:11: shipper.index.prefix: "Logs" must be lower case`},
		{"date pattern", "shipper:\n  index:\n    date_pattern: YYYY.mm\n", `gw.yaml:3:5: shipper.index.date_pattern: "YYYY.mm": unexpected`},
		{"inline password", "shipper:\n  auth:\n    username: u\n    password: hunter2\n", "gw.yaml:4:15: shipper.auth.password: expected {file: PATH} or {env: NAME}; a secret is never written inline (the value is not repeated here)"},
		{"redact name with a dot", "shipper:\n  redact:\n    headers: [x-ok, a.b]\n", `gw.yaml:3:21: shipper.redact.headers[1]: "a.b" can never match`},
		{"redact name with brackets", "shipper:\n  redact:\n    query_params:\n      - p[x]\n", `gw.yaml:4:9: shipper.redact.query_params[0]: "p[x]" can never match`},
		{"password without user", "shipper:\n  auth:\n    password: {file: /p}\n", `gw.yaml:2:3: shipper.auth: username and password must be set together`},
		{"both auths", "shipper:\n  auth:\n    api_key: {env: K}\n    username: u\n    password: {env: P}\n", `gw.yaml:2:3: shipper.auth: use either api_key or username and password`},
		{"secret from two places", "shipper:\n  auth:\n    api_key: {env: K, file: /k}\n", `gw.yaml:3:5: shipper.auth.api_key: at most one of file and env`},
		{"cert without key", "shipper:\n  tls: {cert_file: c.pem}\n", `gw.yaml:2:3: shipper.tls: cert_file and key_file must be set together`},
		{"batch bytes", "shipper:\n  batch_bytes: 1GiB\n", `gw.yaml:2:3: shipper.batch_bytes: batch_bytes 1073741824 out of range`},
		{"bad size", "shipper:\n  batch_bytes: lots\n", `gw.yaml:2:16: shipper.batch_bytes: "lots" is not a size`},
		{"unknown key", "shipper:\n  index_name: x\n", `gw.yaml:2:3: unknown key "index_name" in shipper; expected one of:`},
		{"backoff", "shipper:\n  backoff: {initial: 10s, max: 1s}\n", `gw.yaml:2:3: shipper.backoff: expected 0 < initial`},
		{"retention", "shipper:\n  retention: 10m\n", `gw.yaml:2:3: shipper.retention: retention 10m is too short`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q\nwant prefix %q", err.Error(), tc.want)
		})
	}
}

// TestShipperErrorsHideSecrets: a secret written where it does not belong
// never reaches the error message.
func TestShipperErrorsHideSecrets(t *testing.T) {
	for _, in := range []string{
		"shipper:\n  auth:\n    password: hunter2-s3cr3t\n",
		"shipper:\n  auth:\n    api_key: [hunter2-s3cr3t]\n",
		"shipper:\n  auth:\n    api_key: {file: [hunter2-s3cr3t]}\n",
		"shipper:\n  urls: ['http://elastic:hunter2-s3cr3t@es:9200/%zz']\n",
		"shipper:\n  urls: ['https://elastic:hunter2-s3cr3t@es :9200']\n",
	} {
		_, err := Load("gw.yaml", []byte(in))
		require.Error(t, err, in)
		require.NotContains(t, err.Error(), "hunter2", in)
	}
	require.Equal(t, "http://elastic:<secret>@es:9200/a@b", RedactURL("http://elastic:pw@es:9200/a@b"))
	require.Equal(t, "es:9200", RedactURL("es:9200"))
	require.Equal(t, "user@es", RedactURL("user@es"))
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "5MiB": 5 << 20, "5mb": 5 << 20, "512 KiB": 512 << 10, "50gb": 50 << 30} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "mb", "5 parsecs", "-1", "9999999999pb"} {
		_, err := ParseByteSize(in)
		require.Error(t, err, in)
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"1024", "5MiB", "50gb", "", "x", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseByteSize(s)
		if err == nil {
			require.GreaterOrEqual(t, n, int64(0), s)
		}
	})
}

// FuzzRedactURL checks that RedactURL never panics and that the password
// of a URL that parses never survives it.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"http://elastic:pw@es:9200/a@b", "es:9200", "https://u:p@@h", "://:@", "http://a:b@c d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := RedactURL(s)
		if u, err := url.Parse(s); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && len(p) > 3 && strings.Count(s, p) == 1 {
				require.NotContains(t, got, p, "%q", s)
			}
		}
	})
}
