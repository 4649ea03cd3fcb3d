package accesslog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

func TestMappingYAML(t *testing.T) {
	var m accesslog.Mapping
	require.NoError(t, yaml.Unmarshal([]byte(loggen.JSONMapping+"extra:\n  level: level\n"), &m))
	require.Equal(t, accesslog.Mapping{
		Time: "ts", TimeFormat: "rfc3339", Method: "http.method", Path: "http.path", Query: "http.query",
		Host: "http.host", Status: "http.status", Duration: "timing.total_ms", Upstream: "timing.upstream_ms",
		DurationUnit: "ms", BytesIn: "http.request_bytes", BytesOut: "http.response_bytes", Client: "client.ip",
		UserAgent: "http.user_agent", RequestID: "trace.request_id", UpstreamHost: "upstream.addr",
		Route: "route", Service: "upstream.name", Consumer: "auth.subject",
		Extra: map[string]string{"level": "level"},
	}, m)
	require.NoError(t, m.Validate())
}

func TestMappingValidate(t *testing.T) {
	ok := accesslog.Mapping{Method: "m", Path: "p", Status: "s"}
	for _, tc := range []struct {
		name string
		edit func(m *accesslog.Mapping)
		want []string // substrings of the error; none = valid
	}{
		{name: "minimal", edit: func(*accesslog.Mapping) {}},
		{name: "no method, path, status", edit: func(m *accesslog.Mapping) { *m = accesslog.Mapping{} },
			want: []string{"method must be set", "path must be set", "status must be set"}},
		{name: "empty segment", edit: func(m *accesslog.Mapping) { m.Client = "client..ip" },
			want: []string{`client: JSON path "client..ip" has an empty segment`}},
		{name: "duration without unit", edit: func(m *accesslog.Mapping) { m.Duration = "d" },
			want: []string{"duration_unit must be set"}},
		{name: "unknown unit", edit: func(m *accesslog.Mapping) { m.Duration, m.DurationUnit = "d", "min" },
			want: []string{`duration_unit "min" is not one of`}},
		{name: "unknown time format", edit: func(m *accesslog.Mapping) { m.Time, m.TimeFormat = "t", "iso" },
			want: []string{`time_format "iso"`}},
		{name: "Go layout", edit: func(m *accesslog.Mapping) { m.Time, m.TimeFormat = "t", "02/Jan/2006:15:04:05 -0700" }},
		{name: "bad extra name and path", edit: func(m *accesslog.Mapping) { m.Extra = map[string]string{"bad-name": "x", "ok": ""} },
			want: []string{`extra field name "bad-name"`, "extra ok: empty JSON path"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ok
			tc.edit(&m)
			err := m.Validate()
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	var nilMapping *accesslog.Mapping
	require.Error(t, nilMapping.Validate())
	_, err := accesslog.NewDecoder("json", nil)
	require.ErrorContains(t, err, "no mapping")
}

func mustMapping(t *testing.T, y string) *accesslog.Mapping {
	t.Helper()
	var m accesslog.Mapping
	require.NoError(t, yaml.Unmarshal([]byte(y), &m))
	return &m
}

func TestJSONDecoder(t *testing.T) {
	m := mustMapping(t, loggen.JSONMapping+"extra:\n  level: level\n  http_obj: http.tls\n  ip_again: client.ip\n")
	newDec := func() accesslog.Decoder {
		d, err := accesslog.NewJSON(m, nil)
		require.NoError(t, err)
		return d
	}
	cases := []decodeCase{
		{
			name: "every field, nested, extra raw object, same path twice",
			line: `{"ts":"2024-05-02T10:11:12.5Z","level":"info","http":{"method":"get","path":"/v1/users/42","query":"expand=true","host":"api.example.com","status":200,"request_bytes":118,"response_bytes":"734","user_agent":"curl\/8.5.0","tls":{"v":"1.3","alpn":["h2"]}},"timing":{"total_ms":40.25,"upstream_ms":37},"client":{"ip":"203.0.113.9, 10.0.0.1"},"trace":{"request_id":"r-1"},"upstream":{"name":"users","addr":"10.0.3.17:8080"},"route":"users-get","auth":{"subject":"mobile-app"}}`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12.5Z")
				e.Method = "GET"
				e.Path = "/v1/users/42"
				e.Query = "expand=true"
				e.Host = "api.example.com"
				e.Status = 200
				e.BytesIn = 118
				e.BytesOut = 734
				e.Duration = 40250 * time.Microsecond
				e.Upstream = 37 * time.Millisecond
				e.Overhead = 3250 * time.Microsecond
				e.Client = "203.0.113.9"
				e.UserAgent = "curl/8.5.0"
				e.RequestID = "r-1"
				e.UpstreamHost = "10.0.3.17:8080"
				e.Service = "users"
				e.Route = "users-get"
				e.Consumer = "mobile-app"
				e.Fields = map[string]string{"level": "info", "http_obj": `{"v":"1.3","alpn":["h2"]}`, "ip_again": "203.0.113.9, 10.0.0.1"}
			}),
		},
		{
			name: "minimal line, path with query, nulls",
			line: `{"http":{"method":"POST","path":"/v1/orders?dry_run=1","status":"503"},"timing":{"total_ms":null,"upstream_ms":"-"},"client":null,"level":null}`,
			want: ev(func(e *accesslog.Event) {
				e.Method = "POST"
				e.Path = "/v1/orders"
				e.Query = "dry_run=1"
				e.Status = 503
				e.Fields = map[string]string{}
			}),
		},
		{name: "missing status", line: `{"http":{"method":"GET","path":"/x"}}`, reason: "missing_field"},
		{name: "status is an object", line: `{"http":{"method":"GET","path":"/x","status":{"code":200}}}`, reason: "bad_status"},
		{name: "bad duration", line: `{"http":{"method":"GET","path":"/x","status":200},"timing":{"total_ms":"slow"}}`, reason: "bad_duration"},
		{name: "bad time", line: `{"ts":"2024-05-02","http":{"method":"GET","path":"/x","status":200}}`, reason: "bad_time"},
		{name: "bad bytes", line: `{"http":{"method":"GET","path":"/x","status":200,"request_bytes":"lots"}}`, reason: "bad_field"},
		{name: "broken JSON", line: `{"http":{"method":"GET","path":"/x","status":200}`, reason: "json"},
	}
	runCases(t, newDec, cases)
}

func TestJSONDecoderUnits(t *testing.T) {
	for _, tc := range []struct {
		timeFormat, unit, ts, dur string
		wantTime                  time.Time
		wantDur                   time.Duration
	}{
		{"unix", "s", `1714644672.5`, `0.0125`, utc("2024-05-02T10:11:12.5Z"), 12500 * time.Microsecond},
		{"unix", "s", `"1714644672"`, `"2"`, utc("2024-05-02T10:11:12Z"), 2 * time.Second},
		{"unix_ms", "us", `1714644672123`, `1500`, utc("2024-05-02T10:11:12.123Z"), 1500 * time.Microsecond},
		{"unix_us", "ns", `1714644672123456`, `1500`, utc("2024-05-02T10:11:12.123456Z"), 1500},
		{"unix_ns", "duration", `1714644672123456789`, `"1m2.5s"`, utc("2024-05-02T10:11:12.123456789Z"), 62500 * time.Millisecond},
		{"02/Jan/2006:15:04:05 -0700", "ms", `"02/May/2024:12:11:12 +0200"`, `7`, utc("2024-05-02T10:11:12Z"), 7 * time.Millisecond},
	} {
		t.Run(tc.timeFormat+"/"+tc.unit, func(t *testing.T) {
			m := &accesslog.Mapping{Time: "t", TimeFormat: tc.timeFormat, Method: "m", Path: "p", Status: "s", Duration: "d", DurationUnit: tc.unit}
			d, err := accesslog.NewDecoder("json", m)
			require.NoError(t, err)
			var e accesslog.Event
			line := `{"t":` + tc.ts + `,"m":"GET","p":"/","s":200,"d":` + tc.dur + `}`
			require.NoError(t, d.Decode([]byte(line), &e))
			require.True(t, tc.wantTime.Equal(e.Time), "time: want %v, got %v", tc.wantTime, e.Time)
			require.Equal(t, tc.wantDur, e.Duration)
		})
	}
}

func TestNewDecoderNames(t *testing.T) {
	m := &accesslog.Mapping{Method: "m", Path: "p", Status: "s"}
	for _, f := range accesslog.Formats {
		for _, env := range []string{"", "cri+", "docker+"} {
			d, err := accesslog.NewDecoder(env+f, m)
			require.NoError(t, err, env+f)
			require.NotNil(t, d)
		}
	}
	_, err := accesslog.NewDecoder("nginx", nil)
	require.ErrorContains(t, err, `unknown access-log format "nginx"`)
	_, err = accesslog.NewDecoder("cri+nginx", nil)
	require.Error(t, err)
	_, err = accesslog.NewDecoder("json", &accesslog.Mapping{})
	require.True(t, strings.Contains(err.Error(), "method must be set"), err.Error())
}

// TestJSONDecoderExtraAllocs: with extra fields the decoder fills the
// Event's own Fields map, which survives Reset, so the steady state does
// not allocate either.
func TestJSONDecoderExtraAllocs(t *testing.T) {
	m := genMapping(t)
	m.Extra = map[string]string{"level": "level", "msg": "msg", "tls": "http.tls"}
	d, err := accesslog.NewJSON(m, nil)
	require.NoError(t, err)
	lines := genLines("json", 32)
	var e accesslog.Event
	for _, l := range lines {
		require.NoError(t, d.Decode(l, &e))
	}
	require.Equal(t, map[string]string{"level": "info", "msg": "request"}, e.Fields)
	i := 0
	var failed error
	allocs := testing.AllocsPerRun(200, func() {
		if err := d.Decode(lines[i%len(lines)], &e); err != nil {
			failed = err
		}
		i++
	})
	require.NoError(t, failed)
	require.Zero(t, allocs)
}
