package accesslog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
)

// base is an Event with every optional number unknown, as Reset leaves it.
func base() accesslog.Event {
	return accesslog.Event{Duration: -1, Upstream: -1, Overhead: -1, BytesIn: -1, BytesOut: -1}
}

func ev(f func(e *accesslog.Event)) accesslog.Event {
	e := base()
	f(&e)
	return e
}

type decodeCase struct {
	name string
	line string
	want accesslog.Event
	// reason, when set, is the expected DecodeError reason.
	reason string
}

// runCases decodes each line with a fresh decoder from newDec and
// compares the whole Event (Raw is checked to be the line).
func runCases(t *testing.T, newDec func() accesslog.Decoder, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDec()
			var got accesslog.Event
			err := d.Decode([]byte(tc.line), &got)
			if tc.reason != "" {
				requireReason(t, err, tc.reason)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.line, string(got.Raw))
			if diff := cmp.Diff(tc.want, got.Clone(), cmpopts.IgnoreFields(accesslog.Event{}, "Raw"), cmpopts.IgnoreUnexported(accesslog.Event{})); diff != "" {
				t.Fatalf("event mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func requireReason(t *testing.T, err error, reason string) {
	t.Helper()
	require.Error(t, err)
	if reason == accesslog.SkippedOtherLog {
		require.ErrorIs(t, err, accesslog.ErrOtherLog)
		return
	}
	var de *accesslog.DecodeError
	require.True(t, errors.As(err, &de), "error %v (%T) is not a *DecodeError", err, err)
	require.Equal(t, reason, de.Reason, "error: %v", err)
	require.NotEmpty(t, de.Msg)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

const ginExample = `[GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 | GET      "/v1/users/42?expand=true"`

func TestKrakenD(t *testing.T) {
	cases := []decodeCase{
		{
			name: "reference example",
			line: ginExample,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 200
				e.Duration = 3127514 * time.Nanosecond
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/users/42"
				e.Query = "expand=true"
			}),
		},
		{
			name: "gin v1.10 output captured here, nanoseconds",
			line: `[GIN] 2026/11/22 - 02:04:12 | 503 |         671ns |        10.1.2.3 | POST     "/v1/orders"`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2026-11-22T02:04:12Z")
				e.Status = 503
				e.Duration = 671
				e.Client = "10.1.2.3"
				e.Method = "POST"
				e.Path = "/v1/orders"
			}),
		},
		{
			name: "microseconds with the micro sign and the mu letter",
			line: "[GIN] 2024/05/02 - 10:11:12 | 204 |       4.529µs |      172.17.0.1 | DELETE   \"/user/foo\"",
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 204
				e.Duration = 4529 * time.Nanosecond
				e.Client = "172.17.0.1"
				e.Method = "DELETE"
				e.Path = "/user/foo"
			}),
		},
		{
			name: "over a minute, truncated to seconds",
			line: `[GIN] 2024/05/02 - 10:11:12 | 504 |          1m2s |     203.0.113.9 | GET      "/v1/reports/yearly"`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 504
				e.Duration = 62 * time.Second
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/reports/yearly"
			}),
		},
		{
			name: "seconds with fraction, IPv6 client, lower-case method",
			line: `[GIN] 2024/05/02 - 23:59:59 | 200 |   1.500000001s |     2001:db8::7 | patch    "/v1/users/42"`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T23:59:59Z")
				e.Status = 200
				e.Duration = 1500000001
				e.Client = "2001:db8::7"
				e.Method = "PATCH"
				e.Path = "/v1/users/42"
			}),
		},
		{
			name: "Go escapes in the quoted path",
			line: `[GIN] 2024/05/02 - 10:11:12 | 404 |      12.001µs |     203.0.113.9 | GET      "/v1/search/\"x\"\\y\x00z\xff/\u2028?q=a|b"`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 404
				e.Duration = 12001
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/search/\"x\"\\y\x00z\xff/\u2028"
				e.Query = "q=a|b"
			}),
		},
		{
			name: "printable unicode is not escaped by gin",
			line: `[GIN] 2024/05/02 - 10:11:12 | 200 |     812.345µs |     203.0.113.9 | GET      "/v1/usuários/josé"`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 200
				e.Duration = 812345
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/usuários/josé"
			}),
		},
		{
			name: "colours from a TTY logger",
			line: "[GIN] 2024/05/02 - 10:11:12 |\x1b[97;42m 200 \x1b[0m|    3.127514ms |     203.0.113.9 |\x1b[97;44m GET     \x1b[0m \"/v1/users/42?expand=true\"",
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 200
				e.Duration = 3127514
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/users/42"
				e.Query = "expand=true"
			}),
		},
		{
			name: "error text after the path and a CR",
			line: "[GIN] 2024/05/02 - 10:11:12 | 500 |   30.000912ms |     203.0.113.9 | POST     \"/v1/orders\" Error #01: backend timeout\r",
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 500
				e.Duration = 30000912
				e.Client = "203.0.113.9"
				e.Method = "POST"
				e.Path = "/v1/orders"
			}),
		},
		{
			name: "empty query after ?",
			line: `[GIN] 2024/05/02 - 10:11:12 | 200 |       1.2ms |     203.0.113.9 | GET      "/v1/users?"`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 200
				e.Duration = 1200 * time.Microsecond
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/users"
			}),
		},
		{name: "KrakenD application log", line: `[KRAKEND] 2024/05/02 - 10:11:12.123 ▶ INFO Listening on port: 8080`, reason: "other_log"},
		{name: "gin debug route line", line: `[GIN-debug] GET    /__health                 --> github.com/luraproject/lura/v2/router/gin.HealthHandler (3 handlers)`, reason: "other_log"},
		{name: "gin error line after the access line", line: `Error #01: context deadline exceeded`, reason: "other_log"},
		{name: "empty line", line: ``, reason: "not_access_log"},
		{name: "too few columns", line: `[GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms`, reason: "not_access_log"},
		{name: "bad status", line: `[GIN] 2024/05/02 - 10:11:12 | 2x0 |    3.127514ms |     203.0.113.9 | GET      "/v1/x"`, reason: "bad_status"},
		{name: "status out of range", line: `[GIN] 2024/05/02 - 10:11:12 | 1000 |    3.127514ms |     203.0.113.9 | GET      "/v1/x"`, reason: "bad_status"},
		{name: "bad latency", line: `[GIN] 2024/05/02 - 10:11:12 | 200 |    3.1xs |     203.0.113.9 | GET      "/v1/x"`, reason: "bad_duration"},
		{name: "bad time", line: `[GIN] 2024/13/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 | GET      "/v1/x"`, reason: "bad_time"},
		{name: "unterminated path", line: `[GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 | GET      "/v1/x`, reason: "bad_field"},
		{name: "bad escape in path", line: `[GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 | GET      "/v1/\q"`, reason: "bad_field"},
		{name: "no method", line: `[GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 |`, reason: "missing_field"},
	}
	runCases(t, func() accesslog.Decoder { return accesslog.NewKrakenD(nil) }, cases)
}

func TestKrakenDLocation(t *testing.T) {
	loc := time.FixedZone("CEST", 2*3600)
	d, err := accesslog.NewDecoder("krakend", nil, accesslog.WithLocation(loc))
	require.NoError(t, err)
	var e accesslog.Event
	require.NoError(t, d.Decode([]byte(ginExample), &e))
	require.True(t, e.Time.Equal(utc("2024-05-02T08:11:12Z")), "got %v", e.Time)
}

func TestKrakenDJSON(t *testing.T) {
	cases := []decodeCase{
		{
			name: "documented shape",
			line: `{"prefix":"[KRAKEND]", "time":"2024-05-02T10:11:12Z", "status_code":200, "latency":"0.003s", "client_ip":"203.0.113.9", "method":"GET", "path":"/v1/users/42?expand=true"}`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 200
				e.Duration = 3 * time.Millisecond
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/users/42"
				e.Query = "expand=true"
			}),
		},
		{
			name: "gin time layout, query key, host, escapes",
			line: `{"prefix":"","time":"2024/05/02 - 10:11:12","status_code":"404","latency":"812.5µs","client_ip":"203.0.113.9:4431","method":"get","path":"\/v1\/caf\u00e9","query":"?a=1","host":"api.example.com","user_agent":"curl\/8.5.0"}`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12Z")
				e.Status = 404
				e.Duration = 812500
				e.Client = "203.0.113.9"
				e.Method = "GET"
				e.Path = "/v1/café"
				e.Query = "a=1"
				e.Host = "api.example.com"
				e.UserAgent = "curl/8.5.0"
			}),
		},
		{name: "missing status", line: `{"time":"2024-05-02T10:11:12Z","latency":"0.003s","method":"GET","path":"/x"}`, reason: "missing_field"},
		{name: "missing path", line: `{"time":"2024-05-02T10:11:12Z","status_code":200,"method":"GET"}`, reason: "missing_field"},
		{name: "bad latency", line: `{"status_code":200,"latency":"3 ms","method":"GET","path":"/x"}`, reason: "bad_duration"},
		{name: "bad status", line: `{"status_code":"OK","method":"GET","path":"/x"}`, reason: "bad_status"},
		{name: "bad time", line: `{"time":"yesterday","status_code":200,"method":"GET","path":"/x"}`, reason: "bad_time"},
		{name: "truncated JSON", line: `{"status_code":200,"method":"GET","path":"/x"`, reason: "json"},
		{name: "trailing garbage", line: `{"status_code":200,"method":"GET","path":"/x"} x`, reason: "json"},
	}
	runCases(t, func() accesslog.Decoder { return accesslog.NewKrakenDJSON(nil) }, cases)
}

const kongExample = `{"request":{"id":"7f3c1a9e2b4d4e8f9a0b1c2d3e4f5a6b","method":"GET","uri":"/v1/users/42?expand=true","url":"https://api.example.com:8443/v1/users/42?expand=true","querystring":{"expand":"true"},"headers":{"host":"api.example.com","user-agent":"curl/8.5.0","authorization":"REDACTED"},"size":118},"upstream_uri":"/users/42?expand=true","upstream_status":"200","response":{"status":200,"size":734,"headers":{"content-type":"application/json"}},"latencies":{"kong":2,"proxy":37,"request":40.0,"receive":1},"tries":[{"ip":"10.0.3.17","port":8080,"balancer_latency":0}],"route":{"id":"1a2b3c4d-0000-4000-8000-000000000001","name":"users-get","paths":["~/v1/users/(?<id>\\d+)$"],"methods":["GET"]},"service":{"id":"1a2b3c4d-0000-4000-8000-000000000002","name":"users","host":"users.svc","port":8080,"protocol":"http","path":"/"},"consumer":{"id":"1a2b3c4d-0000-4000-8000-000000000003","username":"mobile-app"},"client_ip":"203.0.113.9","started_at":1714644672123,"source":"upstream"}`

func kongWant() accesslog.Event {
	return ev(func(e *accesslog.Event) {
		e.Time = time.UnixMilli(1714644672123).UTC()
		e.Method = "GET"
		e.Path = "/v1/users/42"
		e.Query = "expand=true"
		e.Host = "api.example.com"
		e.Status = 200
		e.Duration = 40 * time.Millisecond
		e.Upstream = 37 * time.Millisecond
		e.Overhead = 2 * time.Millisecond
		e.BytesIn = 118
		e.BytesOut = 734
		e.Client = "203.0.113.9"
		e.UserAgent = "curl/8.5.0"
		e.RequestID = "7f3c1a9e2b4d4e8f9a0b1c2d3e4f5a6b"
		e.UpstreamHost = "10.0.3.17:8080"
		e.Route = "users-get"
		e.Service = "users"
		e.Consumer = "mobile-app"
	})
}

func TestKong(t *testing.T) {
	with := func(f func(e *accesslog.Event)) accesslog.Event {
		e := kongWant()
		f(&e)
		return e
	}
	cases := []decodeCase{
		{name: "reference example", line: kongExample, want: kongWant()},
		{
			name: "lua-cjson escapes slashes, pretty white space",
			line: strings.ReplaceAll(strings.ReplaceAll(kongExample, "/", `\/`), `,"`, ", \n\t\""),
			want: kongWant(),
		},
		{
			name: "no upstream (proxy -1), fractional latencies, route and consumer without names",
			line: `{"request":{"method":"POST","uri":"/v1/orders","headers":{"host":"api.example.com","user-agent":["okhttp/4.12.0","dup"],"x-request-id":"abc-123"},"size":512},"response":{"status":401,"size":96},"latencies":{"kong":1.25,"proxy":-1,"request":1.5},"tries":[],"route":{"id":"r-1"},"service":{"id":"s-1","name":null},"consumer":{"id":"c-1","custom_id":"cust-9"},"client_ip":"198.51.100.7","started_at":1714644672000}`,
			want: ev(func(e *accesslog.Event) {
				e.Time = time.UnixMilli(1714644672000).UTC()
				e.Method = "POST"
				e.Path = "/v1/orders"
				e.Host = "api.example.com"
				e.Status = 401
				e.Duration = 1500 * time.Microsecond
				e.Overhead = 1250 * time.Microsecond
				e.BytesIn = 512
				e.BytesOut = 96
				e.Client = "198.51.100.7"
				e.UserAgent = "okhttp/4.12.0"
				e.RequestID = "abc-123"
				e.Route = "r-1"
				e.Service = "s-1"
				e.Consumer = "cust-9"
			}),
		},
		{
			name: "several tries: the last one answered",
			line: strings.Replace(kongExample, `"tries":[{"ip":"10.0.3.17","port":8080,"balancer_latency":0}]`,
				`"tries":[{"ip":"10.0.3.17","port":8080,"code":502},{"balancer_latency":0,"ip":"10.0.3.18","port":"8081"}]`, 1),
			want: with(func(e *accesslog.Event) { e.UpstreamHost = "10.0.3.18:8081" }),
		},
		{
			name: "unicode and surrogate escapes in the uri",
			line: strings.Replace(kongExample, `"uri":"/v1/users/42?expand=true"`, `"uri":"/v1/caf\u00e9/\ud83d\ude00?q=\"x\""`, 1),
			want: with(func(e *accesslog.Event) {
				e.Path = "/v1/café/😀"
				e.Query = `q="x"`
			}),
		},
		{
			name: "deeply nested unknown values are skipped",
			line: strings.Replace(kongExample, `"source":"upstream"`, `"source":"upstream","x":{"a":[1,{"b":[[],{}]},"]}"],"c":null,"d":true,"e":-1.5e3}`, 1),
			want: kongWant(),
		},
		{name: "http-log batch array", line: "[" + kongExample + "]", reason: "not_access_log"},
		{name: "no response", line: `{"request":{"method":"GET","uri":"/x"},"client_ip":"1.2.3.4"}`, reason: "missing_field"},
		{name: "no method", line: `{"request":{"uri":"/x"},"response":{"status":200}}`, reason: "missing_field"},
		{name: "bad status", line: `{"request":{"method":"GET","uri":"/x"},"response":{"status":"OK"}}`, reason: "bad_status"},
		{name: "status out of range", line: `{"request":{"method":"GET","uri":"/x"},"response":{"status":-3}}`, reason: "bad_status"},
		{name: "bad latency", line: `{"request":{"method":"GET","uri":"/x"},"response":{"status":200},"latencies":{"request":"fast"}}`, reason: "bad_duration"},
		{name: "missing colon", line: `{"request" {"method":"GET"}}`, reason: "json"},
		{name: "unbalanced nested value", line: `{"request":{"method":"GET","uri":"/x"},"response":{"status":200},"x":[1,2}`, reason: "json"},
		{name: "bad unicode escape", line: `{"request":{"method":"GET","uri":"/x\u12"},"response":{"status":200}}`, reason: "json"},
		{name: "not JSON", line: `GET /x 200`, reason: "json"},
	}
	runCases(t, func() accesslog.Decoder { return accesslog.NewKong() }, cases)
}

func TestSplitJSONArray(t *testing.T) {
	body := []byte(" [" + kongExample + " ,\n" + kongExample + "] ")
	parts, err := accesslog.SplitJSONArray(body, nil)
	require.NoError(t, err)
	require.Len(t, parts, 2)
	d := accesslog.NewKong()
	for _, p := range parts {
		var e accesslog.Event
		require.NoError(t, d.Decode(p, &e))
		require.Equal(t, "users-get", e.Route)
	}
	_, err = accesslog.SplitJSONArray([]byte(`[{"a":1},`), nil)
	requireReason(t, err, "json")
}

const envoyExample = `{"start_time":"2024-05-02T10:11:12.345Z","method":"POST","path":"/v1/orders?dry_run=false","protocol":"HTTP/1.1","response_code":503,"response_flags":"UF","response_code_details":"upstream_reset_before_response_started{connection_failure}","bytes_received":512,"bytes_sent":91,"duration":1003,"upstream_service_time":null,"x_forwarded_for":"203.0.113.9","user_agent":"okhttp/4.12.0","request_id":"c6a2b0a4-5c1e-4f0e-9a51-2f0d8a1e7b33","authority":"api.example.com","upstream_host":"10.0.4.21:8080","upstream_cluster":"orders","route_name":"orders-create"}`

func envoyWant() accesslog.Event {
	return ev(func(e *accesslog.Event) {
		e.Time = utc("2024-05-02T10:11:12.345Z")
		e.Method = "POST"
		e.Path = "/v1/orders"
		e.Query = "dry_run=false"
		e.Host = "api.example.com"
		e.Status = 503
		e.Flags = "UF"
		e.BytesIn = 512
		e.BytesOut = 91
		e.Duration = 1003 * time.Millisecond
		e.Client = "203.0.113.9"
		e.UserAgent = "okhttp/4.12.0"
		e.RequestID = "c6a2b0a4-5c1e-4f0e-9a51-2f0d8a1e7b33"
		e.UpstreamHost = "10.0.4.21:8080"
		e.Service = "orders"
		e.Route = "orders-create"
	})
}

func TestEnvoy(t *testing.T) {
	with := func(f func(e *accesslog.Event)) accesslog.Event {
		e := envoyWant()
		f(&e)
		return e
	}
	cases := []decodeCase{
		{name: "reference example, null upstream_service_time", line: envoyExample, want: envoyWant()},
		{
			name: "upstream_service_time as a string (a response header)",
			line: strings.Replace(envoyExample, `"upstream_service_time":null`, `"upstream_service_time":"997"`, 1),
			want: with(func(e *accesslog.Event) {
				e.Upstream = 997 * time.Millisecond
				e.Overhead = 6 * time.Millisecond
			}),
		},
		{
			name: "upstream_service_time as a number",
			line: strings.Replace(envoyExample, `"upstream_service_time":null`, `"upstream_service_time":1000`, 1),
			want: with(func(e *accesslog.Event) {
				e.Upstream = 1000 * time.Millisecond
				e.Overhead = 3 * time.Millisecond
			}),
		},
		{
			name: "upstream_service_time dash",
			line: strings.Replace(envoyExample, `"upstream_service_time":null`, `"upstream_service_time":"-"`, 1),
			want: envoyWant(),
		},
		{
			name: "downstream address wins over x_forwarded_for, flags dash",
			line: strings.Replace(strings.Replace(envoyExample, `"x_forwarded_for":"203.0.113.9"`, `"x_forwarded_for":"203.0.113.9, 10.0.0.1","downstream_remote_address":"[2001:db8::9]:50123"`, 1), `"response_flags":"UF"`, `"response_flags":"-"`, 1),
			want: with(func(e *accesslog.Event) {
				e.Client = "2001:db8::9"
				e.Flags = ""
			}),
		},
		{
			name: "older Envoy: every value a string, keys reordered, no start time zone",
			line: `{"route_name":"-","response_code":"200","method":"GET","path":"/healthz","duration":"3","bytes_sent":"2","bytes_received":"0","start_time":"2024-05-02T10:11:12.345","x_forwarded_for":"198.51.100.7, 203.0.113.9","upstream_host":"-"}`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12.345Z")
				e.Status = 200
				e.Method = "GET"
				e.Path = "/healthz"
				e.Duration = 3 * time.Millisecond
				e.BytesOut = 2
				e.BytesIn = 0
				e.Client = "198.51.100.7"
			}),
		},
		{
			name: "reset before response: status 0",
			line: `{"start_time":"2024-05-02T12:11:12.345+02:00","method":"GET","path":"/v1/stream","response_code":0,"response_flags":"DC","duration":15,"upstream_service_time":null}`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12.345Z")
				e.Method = "GET"
				e.Path = "/v1/stream"
				e.Flags = "DC"
				e.Duration = 15 * time.Millisecond
			}),
		},
		{name: "no response_code", line: `{"method":"GET","path":"/x"}`, reason: "missing_field"},
		{name: "null method", line: `{"method":null,"path":"/x","response_code":200}`, reason: "missing_field"},
		{name: "null path (TCP proxy)", line: `{"method":"GET","path":null,"response_code":200}`, reason: "missing_field"},
		{name: "bad start time", line: `{"start_time":"02/May/2024","method":"GET","path":"/x","response_code":200}`, reason: "bad_time"},
		{name: "bad code", line: `{"method":"GET","path":"/x","response_code":"abc"}`, reason: "bad_status"},
		{name: "bad duration", line: `{"method":"GET","path":"/x","response_code":200,"duration":"12ms"}`, reason: "bad_duration"},
		{name: "bad bytes", line: `{"method":"GET","path":"/x","response_code":200,"bytes_sent":"many"}`, reason: "bad_field"},
		{name: "not an object", line: `"just a string"`, reason: "json"},
	}
	runCases(t, func() accesslog.Decoder { return accesslog.NewEnvoy(nil) }, cases)
}

const envoyTextExample = `[2024-05-02T10:11:12.345Z] "POST /v1/orders?dry_run=false HTTP/1.1" 503 UF 512 91 1003 - "203.0.113.9" "okhttp/4.12.0" "c6a2b0a4-5c1e-4f0e-9a51-2f0d8a1e7b33" "api.example.com" "10.0.4.21:8080"`

func TestEnvoyText(t *testing.T) {
	textWant := func() accesslog.Event {
		e := envoyWant()
		e.Service, e.Route = "", ""
		return e
	}
	cases := []decodeCase{
		{name: "default format", line: envoyTextExample, want: textWant()},
		{
			name: "upstream time, dashes, quote inside the user agent, HTTP/2",
			line: `[2024-05-02T10:11:12.345Z] "GET /v1/users/42 HTTP/2" 200 - 0 734 40 37 "-" "Mozilla "quoted" x" "-" "api.example.com" "10.0.3.17:8080"` + "\n",
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12.345Z")
				e.Method = "GET"
				e.Path = "/v1/users/42"
				e.Status = 200
				e.BytesIn = 0
				e.BytesOut = 734
				e.Duration = 40 * time.Millisecond
				e.Upstream = 37 * time.Millisecond
				e.Overhead = 3 * time.Millisecond
				e.UserAgent = `Mozilla "quoted" x`
				e.Host = "api.example.com"
				e.UpstreamHost = "10.0.3.17:8080"
			}),
		},
		{
			name: "older format without trailing quoted values",
			line: `[2024-05-02T10:11:12.345Z] "GET /healthz HTTP/1.1" 200 - 0 2 1 1`,
			want: ev(func(e *accesslog.Event) {
				e.Time = utc("2024-05-02T10:11:12.345Z")
				e.Method = "GET"
				e.Path = "/healthz"
				e.Status = 200
				e.BytesIn = 0
				e.BytesOut = 2
				e.Duration = time.Millisecond
				e.Upstream = time.Millisecond
				e.Overhead = 0
			}),
		},
		{name: "envoy application log", line: `[2024-05-02 10:11:12.345][1][info][main] [source/server/server.cc:932] starting main dispatch loop`, reason: "not_access_log"},
		{name: "not bracketed", line: `GET /x 200`, reason: "not_access_log"},
		{name: "no request path", line: `[2024-05-02T10:11:12.345Z] "- - HTTP/1.1" 400 DPE 0 11 0 - "-" "-" "-" "-" "-"`, reason: "missing_field"},
		{name: "bad code", line: `[2024-05-02T10:11:12.345Z] "GET /x HTTP/1.1" 2OO - 0 2 1 1 "-" "-" "-" "-" "-"`, reason: "bad_status"},
		{name: "bad duration", line: `[2024-05-02T10:11:12.345Z] "GET /x HTTP/1.1" 200 - 0 2 1ms 1 "-" "-" "-" "-" "-"`, reason: "bad_duration"},
		{name: "bad bytes", line: `[2024-05-02T10:11:12.345Z] "GET /x HTTP/1.1" 200 - x 2 1 1 "-" "-" "-" "-" "-"`, reason: "bad_field"},
		{name: "bad time", line: `[2024-05-02T25:11:12.345Z] "GET /x HTTP/1.1" 200 - 0 2 1 1 "-" "-" "-" "-" "-"`, reason: "bad_time"},
		{name: "too few values", line: `[2024-05-02T10:11:12.345Z] "GET /x HTTP/1.1" 200 - 0`, reason: "missing_field"},
	}
	runCases(t, func() accesslog.Decoder { return accesslog.NewEnvoyText(nil) }, cases)
}

// TestErrorsNameTheColumnNotTheValue: a malformed path or header value is
// located by column and not echoed (queries and headers may carry
// credentials).
func TestErrorsNameTheColumnNotTheValue(t *testing.T) {
	var e accesslog.Event
	line := `  [GIN] 2024/05/02 - 10:11:12 | 200 |    3.127514ms |     203.0.113.9 | GET      "/v1/x?api_key=s3cr3t`
	err := accesslog.NewKrakenD(nil).Decode([]byte(line), &e)
	requireReason(t, err, "bad_field")
	require.Equal(t, "bad_field: krakend: column 82: expected the path as a Go-quoted string", err.Error())
	require.Equal(t, byte('"'), line[81])
	require.NotContains(t, err.Error(), "s3cr3t")

	line = ` [2024-05-02T10:11:12.345Z] "GET /x HTTP/1.1" 200 - 0 2 1 1 Bearer-s3cr3t "-"`
	err = accesslog.NewEnvoyText(nil).Decode([]byte(line), &e)
	requireReason(t, err, "bad_field")
	require.Equal(t, "bad_field: envoy-text: column 61: expected a quoted value", err.Error())
	require.Equal(t, byte('B'), line[60])
	require.NotContains(t, err.Error(), "s3cr3t")
}

// TestDecodeErrorsQuoteNoValue: a decode error says what was wrong without
// the value: it reaches the sidecar's log and dead letters' error.message,
// and a value in the wrong place may be a credential.
func TestDecodeErrorsQuoteNoValue(t *testing.T) {
	const secret = "Bearer-s3cr3t"
	for _, tc := range []struct{ format, line string }{
		{"kong", `{"request":{"method":"GET","uri":"/a","size":"` + secret + `"},"response":{"status":200},"started_at":1795000000000}`},
		{"kong", `{"request":{"method":"GET","uri":"/a"},"response":{"status":200},"started_at":1` + secret + `}`},
		{"envoy", `{"start_time":"` + secret + `","method":"GET","path":"/a","response_code":200}`},
		{"krakend", `[GIN] 2026/11/20 - 12:00:00 | ` + secret + ` |    1.2ms |  10.0.0.1 | GET      "/a"`},
		{"krakend", `[GIN] 2026/11/20 - 12:00:00 | 200 | ` + secret + ` |  10.0.0.1 | GET      "/a"`},
		{"envoy-text", `[2026-11-20T12:00:00.000Z] "GET /a HTTP/1.1" ` + secret + ` - 0 0 1 - "-" "-" "-" "-" "-"`},
	} {
		d, err := accesslog.NewDecoder(tc.format, nil)
		require.NoError(t, err)
		var ev accesslog.Event
		ev.Reset()
		err = d.Decode([]byte(tc.line), &ev)
		require.Error(t, err, "%s: %s", tc.format, tc.line)
		require.NotContains(t, err.Error(), "s3cr3t", tc.format)
	}
}
