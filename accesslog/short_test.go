package accesslog_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

// shortLines returns n of the sidecar benchmark's 300–400 byte lines:
// format "envoy" for loggen.ShortEnvoy, "kong" for loggen.ShortKong, 250µs
// apart in time.
func shortLines(format string, n int) [][]byte {
	rnd := rand.New(rand.NewPCG(42, 42))
	lines := make([][]byte, n)
	start := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	for i := range lines {
		req := loggen.Fill(rnd, loggen.Request{Time: start.Add(time.Duration(i) * 250 * time.Microsecond)})
		if format == "kong" {
			lines[i] = loggen.ShortKong(req)
		} else {
			lines[i] = loggen.ShortEnvoy(rnd, req)
		}
	}
	return lines
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
					line = loggen.ShortKong(req)
				} else {
					line = loggen.ShortEnvoy(rnd, req)
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
					require.Contains(t, loggen.ShortAgents, e.UserAgent)
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
