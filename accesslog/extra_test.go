package accesslog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
)

// kongExtra and envoyExtra are the extra fields of the tests.
var (
	kongExtra = map[string]string{
		"variant":  "request.headers.x-ab-variant",
		"agent":    "request.headers.user-agent", // a header the decoder reads itself
		"upstream": "upstream_uri",               // a top-level key it skips
		"ctype":    "response.headers.content-type",
		"route_id": "route.id",
		"paths":    "route.paths", // an array: its JSON text
		"tls":      "request.tls.version",
	}
	envoyExtra = map[string]string{
		"variant":  "x_variant",
		"protocol": "protocol",
		"code":     "response_code", // a key the decoder reads itself
		"tenant":   "meta.tenant",   // a nested json_format struct
		"tags":     "tags",          // an object: its JSON text
	}
	krakendExtra = map[string]string{
		"variant": "x_variant",
		"method":  "method", // a key the decoder reads itself
		"tenant":  "meta.tenant",
		"meta":    "meta",
	}
)

func TestExtraFields(t *testing.T) {
	cases := []struct {
		name, format string
		extra        map[string]string
		line         string
		want         map[string]string
	}{
		{
			name: "kong reference example", format: "kong", extra: kongExtra,
			line: strings.Replace(kongExample, `"authorization":"REDACTED"`, `"authorization":"REDACTED","x-ab-variant":"B"`, 1),
			want: map[string]string{"variant": "B", "agent": "curl/8.5.0", "upstream": "/users/42?expand=true",
				"ctype": "application/json", "route_id": "1a2b3c4d-0000-4000-8000-000000000001", "paths": `["~/v1/users/(?<id>\\d+)$"]`},
		},
		{
			name: "kong: repeated header, escapes, null, number, missing objects", format: "kong", extra: kongExtra,
			line: `{"request":{"method":"GET","uri":"\/x","headers":{"x-ab-variant":["A\/1","B"],"user-agent":null},"tls":{"version":1.3}},"response":{"status":200},"upstream_uri":"\/u\u00e9","route":{"id":7}}`,
			want: map[string]string{"variant": "A/1", "upstream": "/ué", "route_id": "7", "tls": "1.3"},
		},
		{
			name: "kong without any extra field", format: "kong", extra: kongExtra,
			line: `{"request":{"method":"GET","uri":"/x"},"response":{"status":200}}`,
			want: map[string]string{},
		},
		{
			name: "envoy json_format with extra keys", format: "envoy", extra: envoyExtra,
			line: strings.Replace(envoyExample, `"route_name":"orders-create"`, `"route_name":"orders-create","x_variant":"B","meta":{"tenant":"acme","n":[1,2]},"tags":{"a":[1,2]}`, 1),
			want: map[string]string{"variant": "B", "protocol": "HTTP/1.1", "code": "503", "tenant": "acme", "tags": `{"a":[1,2]}`},
		},
		{
			name: "envoy: dash and null, meta not an object", format: "envoy", extra: envoyExtra,
			line: `{"method":"GET","path":"/x","response_code":200,"x_variant":"-","protocol":null,"meta":"flat","tags":"flat"}`,
			want: map[string]string{"variant": "-", "code": "200", "tags": "flat"},
		},
		{
			name: "cri+envoy", format: "cri+envoy", extra: envoyExtra,
			line: `2024-05-02T10:11:12.345678901Z stdout F {"method":"GET","path":"/x","response_code":200,"x_variant":"A"}`,
			want: map[string]string{"variant": "A", "code": "200"},
		},
		{
			name: "krakend-json", format: "krakend-json", extra: krakendExtra,
			line: `{"time":"2024-05-02T10:11:12Z","status_code":200,"latency":"0.003s","method":"get","path":"/x","x_variant":"B","meta":{"tenant":"acme","x":[1]}}`,
			want: map[string]string{"variant": "B", "method": "get", "tenant": "acme", "meta": `{"tenant":"acme","x":[1]}`},
		},
		{
			name: "auto picks envoy", format: "auto", extra: envoyExtra,
			line: `{"start_time":"2024-05-02T10:11:12.345Z","method":"GET","path":"/x","response_code":200,"x_variant":"C"}`,
			want: map[string]string{"variant": "C", "code": "200"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := accesslog.NewDecoder(tc.format, nil, accesslog.WithExtra(tc.extra))
			require.NoError(t, err)
			var e accesslog.Event
			// Twice: the second time through the learned template.
			for range 2 {
				require.NoError(t, d.Decode([]byte(tc.line), &e))
				require.Equal(t, tc.want, e.Clone().Fields)
			}
			// The other fields are those of a decoder without extras.
			plain, err := accesslog.NewDecoder(tc.format, nil)
			require.NoError(t, err)
			var p accesslog.Event
			require.NoError(t, plain.Decode([]byte(tc.line), &p))
			got := e.Clone()
			got.Fields = nil
			require.Equal(t, p.Clone(), got)
		})
	}
}

// TestExtraFieldsNotConfigured: without WithExtra the built-in decoders
// leave Fields nil.
func TestExtraFieldsNotConfigured(t *testing.T) {
	for format, line := range map[string]string{"kong": kongExample, "envoy": envoyExample} {
		d, err := accesslog.NewDecoder(format, nil)
		require.NoError(t, err)
		var e accesslog.Event
		require.NoError(t, d.Decode([]byte(line), &e))
		require.Nil(t, e.Fields, format)
	}
}

func TestExtraFieldsErrors(t *testing.T) {
	cases := []struct {
		name, format string
		extra        map[string]string
		msg          string
	}{
		{"text format", "krakend", map[string]string{"a": "b"}, "access-log format krakend cannot fill extra fields"},
		{"envoy text", "cri+envoy-text", map[string]string{"a": "b"}, "cannot fill extra fields"},
		{"json has mapping.extra", "json", map[string]string{"a": "b"}, "mapping"},
		{"bad name", "kong", map[string]string{"a-b": "x"}, `extra field name "a-b" must match`},
		{"empty segment", "envoy", map[string]string{"a": "x..y"}, "extra a: JSON path \"x..y\" has an empty segment"},
		{"an object kong reads", "kong", map[string]string{"h": "request.headers"}, "extra h: request.headers is an object the decoder reads key by key"},
		{"through a value", "kong", map[string]string{"m": "request.method.x"}, "extra m: request.method is a value, not an object"},
		{"through an array", "kong", map[string]string{"ip": "tries.ip"}, "extra ip: tries is an array"},
		{"auto: kong's objects too", "auto", map[string]string{"h": "request.headers"}, "request.headers is an object"},
		{"an extra holding another", "envoy", map[string]string{"m": "meta", "t": "meta.tenant"}, "extra t: meta is extra field m"},
		{"an object holding an extra", "envoy", map[string]string{"a": "x.y", "b": "x"}, "extra b: x holds other extra fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := genMapping(t)
			_, err := accesslog.NewDecoder(tc.format, m, accesslog.WithExtra(tc.extra))
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// TestExtraFieldsAllocs: with extra fields configured a warm decoder
// still allocates nothing per line (Fields is reused).
func TestExtraFieldsAllocs(t *testing.T) {
	for _, format := range []string{"kong", "envoy", "krakend-json"} {
		t.Run(format, func(t *testing.T) {
			extra := map[string]string{"agent": "user_agent", "variant": "x_variant", "ua": "request.headers.user-agent", "ip": "client_ip"}
			d, err := accesslog.NewDecoder(format, nil, accesslog.WithExtra(extra))
			require.NoError(t, err)
			lines := genLines(format, 64)
			var e accesslog.Event
			for _, l := range lines {
				require.NoError(t, d.Decode(l, &e))
			}
			require.NotEmpty(t, e.Fields)
			i := 0
			var failed error
			allocs := testing.AllocsPerRun(300, func() {
				if err := d.Decode(lines[i%len(lines)], &e); err != nil {
					failed = err
				}
				i++
			})
			require.NoError(t, failed)
			require.Zero(t, allocs)
		})
	}
}

// FuzzExtraFields: with extra fields, a warm decoder (templates and key
// caches learned from other lines) reads a line as a fresh one does.
func FuzzExtraFields(f *testing.F) {
	f.Add(true, []byte(kongExample), []byte(strings.Replace(kongExample, `"authorization":"REDACTED"`, `"x-ab-variant":"B"`, 1)))
	f.Add(true, []byte(`{"request":{"headers":{"x-ab-variant":"A"}},"upstream_uri":"\/a"}`), []byte(`{"request":{"headers":{"x-ab-variant":["A","B"]}},"upstream_uri":{"a":1}}`))
	f.Add(false, []byte(envoyExample), []byte(strings.Replace(envoyExample, `"route_name"`, `"x_variant":"B","meta":{"tenant":"t"},"route_name"`, 1)))
	f.Add(false, []byte(`{"method":"GET","path":"/x","response_code":200,"meta":{"tenant":"a"}}`), []byte(`{"method":"GET","path":"/x","response_code":200,"meta":{"tenant":{"x":1}}}`))
	f.Fuzz(func(t *testing.T, kong bool, prev, line []byte) {
		format, extra := "envoy", envoyExtra
		if kong {
			format, extra = "kong", kongExtra
		}
		newDec := func() accesslog.Decoder {
			d, err := accesslog.NewDecoder(format, nil, accesslog.WithExtra(extra))
			require.NoError(t, err)
			return d
		}
		once := func(d accesslog.Decoder, l []byte) (accesslog.Event, string) {
			var e accesslog.Event
			if err := d.Decode(l, &e); err != nil {
				return accesslog.Event{}, err.Error()
			}
			c := e.Clone()
			c.Raw = nil
			return c, ""
		}
		warm := newDec()
		once(warm, prev)
		once(warm, line)
		wantE, wantErr := once(newDec(), line)
		gotE, gotErr := once(warm, line)
		require.Equal(t, wantErr, gotErr)
		require.Equal(t, wantE, gotE)
	})
}

// TestExtraFieldsSharedEvent: an Event passed to decoders with different
// extra fields (auto with a fallback mapping does that) holds exactly the
// last line's fields.
func TestExtraFieldsSharedEvent(t *testing.T) {
	envoy, err := accesslog.NewDecoder("envoy", nil, accesslog.WithExtra(map[string]string{"variant": "x_variant"}))
	require.NoError(t, err)
	kong, err := accesslog.NewDecoder("kong", nil, accesslog.WithExtra(map[string]string{"tier": "request.headers.x-tier"}))
	require.NoError(t, err)
	var e accesslog.Event
	envoyLine := `{"method":"GET","path":"/x","response_code":200,"x_variant":"A"}`
	require.NoError(t, envoy.Decode([]byte(envoyLine), &e))
	require.Equal(t, map[string]string{"variant": "A"}, e.Fields)
	require.NoError(t, kong.Decode([]byte(`{"request":{"method":"GET","uri":"/x","headers":{"x-tier":"gold"}},"response":{"status":200}}`), &e))
	require.Equal(t, map[string]string{"tier": "gold"}, e.Fields)
	require.NoError(t, envoy.Decode([]byte(envoyLine), &e))
	require.Equal(t, map[string]string{"variant": "A"}, e.Fields)
	require.Error(t, envoy.Decode([]byte(`{"x_variant":"B"}`), &e))
	require.NoError(t, envoy.Decode([]byte(`{"method":"GET","path":"/x","response_code":200}`), &e))
	require.Empty(t, e.Fields)
	plain, err := accesslog.NewDecoder("envoy", nil)
	require.NoError(t, err)
	require.NoError(t, envoy.Decode([]byte(envoyLine), &e))
	require.NoError(t, plain.Decode([]byte(envoyLine), &e))
	require.Empty(t, e.Fields)
}
