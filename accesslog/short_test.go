package accesslog_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

// shortLines returns n of the sidecar benchmark's 300–400 byte lines:
// format "envoy" for shortEnvoyLine, "kong" for shortKongLine (copies of
// the renderers in sidecar/bench_test.go), 250µs apart in time.
func shortLines(format string, n int) [][]byte {
	rnd := rand.New(rand.NewPCG(42, 42))
	lines := make([][]byte, n)
	start := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	for i := range lines {
		req := loggen.Fill(rnd, loggen.Request{Time: start.Add(time.Duration(i) * 250 * time.Microsecond)})
		if format == "kong" {
			lines[i] = shortKongLine(req)
		} else {
			lines[i] = shortEnvoyLine(rnd, req)
		}
	}
	return lines
}

var shortAgents = []string{"curl/8.5.0", "okhttp/4.12.0", "python-requests/2.31.0", "Go-http-client/1.1", "axios/1.6.8", "Dart/3.3 (dart:io)"}

// shortEnvoyLine is sidecar/bench_test.go's: 14 json_format keys.
func shortEnvoyLine(rnd *rand.Rand, r loggen.Request) []byte {
	ust := "null"
	if r.Upstream >= 0 {
		ust = fmt.Sprintf("%q", fmt.Sprint(r.Upstream.Milliseconds()))
	}
	return fmt.Appendf(nil, `{"start_time":%q,"method":%q,"path":%q,"response_code":%d,"response_flags":"-","bytes_received":%d,"bytes_sent":%d,"duration":%d,"upstream_service_time":%s,"x_forwarded_for":%q,"user_agent":%q,"request_id":%q,"authority":%q,"upstream_host":%q}`,
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), r.Method, shortURI(r), r.Status, r.BytesIn, r.BytesOut,
		r.Duration.Milliseconds(), ust, r.Client, shortAgents[rnd.IntN(len(shortAgents))], r.RequestID, r.Host,
		r.UpstreamHost)
}

func shortURI(r loggen.Request) string {
	if r.Query == "" {
		return r.Path
	}
	return r.Path + "?page=" + fmt.Sprint(len(r.Query)%10+1)
}

// shortKongLine is sidecar/bench_test.go's: a trimmed Kong file-log line
// with '/' written as `\/`.
func shortKongLine(r loggen.Request) []byte {
	esc := func(s string) string { return strings.ReplaceAll(fmt.Sprintf("%q", s), "/", `\/`) }
	total := r.Duration.Milliseconds()
	proxy := int64(-1)
	if r.Upstream >= 0 {
		proxy = r.Upstream.Milliseconds()
	}
	kong := total
	if proxy >= 0 {
		kong = total - proxy
	}
	ip, port, _ := strings.Cut(r.UpstreamHost, ":")
	consumer := ""
	if r.Consumer != "" {
		consumer = fmt.Sprintf(`"consumer":{"username":%q},`, r.Consumer)
	}
	return fmt.Appendf(nil, `{"request":{"method":%q,"uri":%s,"size":%d,"headers":{"host":%q,"user-agent":%s}},"response":{"status":%d,"size":%d},"latencies":{"request":%d,"kong":%d,"proxy":%d},"tries":[{"ip":%q,"port":%s}],"route":{"name":%q},%s"client_ip":%q,"started_at":%d}`,
		r.Method, esc(shortURI(r)), r.BytesIn, r.Host, esc(shortAgents[len(r.RequestID)%len(shortAgents)]), r.Status, r.BytesOut,
		total, kong, proxy, ip, port, r.Route, consumer, r.Client, r.Time.UnixMilli())
}

// TestShortLines: the short lines decode to what they were rendered from.
func TestShortLines(t *testing.T) {
	for _, format := range []string{"envoy", "kong"} {
		t.Run(format, func(t *testing.T) {
			d, err := accesslog.NewDecoder(format, nil)
			require.NoError(t, err)
			rnd := rand.New(rand.NewPCG(42, 42))
			start := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
			for i := range 200 {
				req := loggen.Fill(rnd, loggen.Request{Time: start.Add(time.Duration(i) * 250 * time.Microsecond)})
				var line []byte
				if format == "kong" {
					line = shortKongLine(req)
				} else {
					line = shortEnvoyLine(rnd, req)
				}
				var e accesslog.Event
				require.NoError(t, d.Decode(line, &e), "line %s", line)
				require.Equal(t, req.Method, e.Method)
				require.Equal(t, req.Path, e.Path)
				require.Equal(t, req.Status, e.Status)
				require.Equal(t, req.Host, e.Host)
				require.Equal(t, req.BytesIn, e.BytesIn)
				require.Equal(t, req.BytesOut, e.BytesOut)
				require.Equal(t, msTrunc(req.Duration), e.Duration)
				require.Equal(t, msTrunc(req.Upstream), e.Upstream)
				require.Equal(t, req.UpstreamHost, e.UpstreamHost)
				require.Equal(t, req.Client, e.Client)
				require.True(t, req.Time.Truncate(time.Millisecond).Equal(e.Time), "time %v, want %v", e.Time, req.Time)
				if format == "kong" {
					require.Equal(t, req.Route, e.Route)
					require.Equal(t, req.Consumer, e.Consumer)
					require.Contains(t, shortAgents, e.UserAgent)
				} else {
					require.Equal(t, req.RequestID, e.RequestID)
				}
			}
		})
	}
}

// withVariant adds an A/B variant to short lines: a json_format key for
// Envoy, a request header for Kong.
func withVariant(format string, lines [][]byte) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		v := []string{"A", "B"}[i%2]
		if format == "kong" {
			out[i] = []byte(strings.Replace(string(l), `"headers":{`, `"headers":{"x-ab-variant":"`+v+`",`, 1))
		} else {
			out[i] = []byte(strings.TrimSuffix(string(l), "}") + `,"x_variant":"` + v + `"}`)
		}
	}
	return out
}

// variantExtra is the extra field of withVariant's lines.
var variantExtra = map[string]map[string]string{
	"envoy": {"variant": "x_variant"},
	"kong":  {"variant": "request.headers.x-ab-variant"},
}

// BenchmarkDecodeShort decodes the sidecar benchmark's 300–400 byte
// lines (envoy-short, kong-short) alone, without matching or recording;
// the +extra variants have an A/B variant field more, extracted with
// WithExtra.
func BenchmarkDecodeShort(b *testing.B) {
	for _, name := range []string{"envoy", "kong", "envoy+extra", "kong+extra"} {
		format, extra, _ := strings.Cut(name, "+")
		b.Run(format+"-short"+strings.TrimPrefix(name, format), func(b *testing.B) {
			lines := shortLines(format, 256)
			var opts []accesslog.Option
			if extra != "" {
				lines = withVariant(format, lines)
				opts = append(opts, accesslog.WithExtra(variantExtra[format]))
			}
			size := 0
			for _, l := range lines {
				size += len(l)
			}
			d, err := accesslog.NewDecoder(format, nil, opts...)
			require.NoError(b, err)
			var e accesslog.Event
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(lines[i%len(lines)], &e); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cpuTime() - cpu0
			if cpu > 0 {
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
			}
			if extra != "" && e.Fields["variant"] == "" {
				b.Fatal("no variant extracted")
			}
			b.ReportMetric(float64(size/len(lines)), "bytes/line")
		})
	}
}
