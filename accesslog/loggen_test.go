package accesslog_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
)

// genMapping is the mapping for loggen's "json" format.
func genMapping(tb testing.TB) *accesslog.Mapping {
	tb.Helper()
	var m accesslog.Mapping
	require.NoError(tb, yaml.Unmarshal([]byte(loggen.JSONMapping), &m))
	return &m
}

func msTrunc(d time.Duration) time.Duration {
	if d < 0 {
		return -1
	}
	return d.Truncate(time.Millisecond)
}

// expected is what the decoder of format must read from loggen's line for
// r: each format carries a different subset at a different precision.
func expected(format string, r loggen.Request) accesslog.Event {
	e := base()
	e.Method, e.Path, e.Query, e.Status, e.Client = r.Method, r.Path, r.Query, r.Status, r.Client
	envelope := format != strings.TrimPrefix(strings.TrimPrefix(format, "cri+"), "docker+")
	format = strings.TrimPrefix(strings.TrimPrefix(format, "cri+"), "docker+")
	switch format {
	case "krakend":
		// gin stamps the end of the request, in whole seconds and without
		// a zone; an envelope's time (same moment, precise) replaces it.
		e.Time = r.Time.Add(r.Duration).Truncate(time.Second)
		if envelope {
			e.Time = r.Time.Add(r.Duration)
		}
		e.Duration = r.Duration
		if e.Duration > time.Minute {
			e.Duration = e.Duration.Truncate(time.Second)
		}
	case "krakend-json":
		e.Time = r.Time.Truncate(time.Second)
		e.Duration = r.Duration
	case "kong":
		e.Time = r.Time.Truncate(time.Millisecond)
		e.Duration = msTrunc(r.Duration)
		e.Upstream = msTrunc(r.Upstream)
		e.Overhead = e.Duration
		if e.Upstream >= 0 {
			e.Overhead = e.Duration - e.Upstream
		}
		e.Host, e.BytesIn, e.BytesOut, e.UserAgent = r.Host, r.BytesIn, r.BytesOut, r.UserAgent
		e.RequestID = strings.ReplaceAll(r.RequestID, "-", "")
		e.UpstreamHost, e.Route, e.Service, e.Consumer = r.UpstreamHost, r.Route, r.Service, r.Consumer
	case "envoy", "envoy-text":
		e.Time = r.Time.Truncate(time.Millisecond)
		e.Duration = msTrunc(r.Duration)
		e.Upstream = msTrunc(r.Upstream)
		if e.Upstream >= 0 {
			e.Overhead = e.Duration - e.Upstream
		}
		e.Host, e.BytesIn, e.BytesOut, e.UserAgent = r.Host, r.BytesIn, r.BytesOut, r.UserAgent
		e.RequestID, e.UpstreamHost, e.Flags = r.RequestID, r.UpstreamHost, r.Flags
		if format == "envoy" {
			e.Route, e.Service = r.Route, r.Service
		}
	case "json":
		e.Time = r.Time
		e.Duration = r.Duration.Truncate(time.Microsecond)
		e.Upstream = -1
		if r.Upstream >= 0 {
			e.Upstream = r.Upstream.Truncate(time.Microsecond)
			e.Overhead = e.Duration - e.Upstream
		}
		e.Host, e.BytesIn, e.BytesOut, e.UserAgent = r.Host, r.BytesIn, r.BytesOut, r.UserAgent
		e.RequestID, e.UpstreamHost = r.RequestID, r.UpstreamHost
		e.Route, e.Service, e.Consumer = r.Route, r.Service, r.Consumer
	}
	return e
}

var roundTripFormats = append(append([]string(nil), loggen.Formats...), "cri+krakend", "cri+kong", "docker+envoy", "docker+krakend")

// TestLoggenRoundTrip decodes generated lines of every format and checks
// every field the format carries, including awkward requests (escapes,
// unicode, no upstream, long latencies).
func TestLoggenRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	special := []loggen.Request{
		{Path: `/v1/search/"quoted"/back\slash`, Query: `q=caf%C3%A9&x="y"`, Upstream: -1, Flags: "UF,URX"},
		{Path: "/v1/usuários/josé/😀", UserAgent: "Mozilla/5.0 \"weird\" agent", Duration: 62*time.Second + 123*time.Millisecond},
		{Method: "OPTIONS", Path: "/", Status: 204, Duration: 671, Upstream: 500, Client: "2001:db8::7"},
		{Path: "/v1/tab\there", Duration: 4529 * time.Nanosecond, Consumer: "partner-acme"},
	}
	for _, format := range roundTripFormats {
		t.Run(format, func(t *testing.T) {
			d, err := accesslog.NewDecoder(format, genMapping(t))
			require.NoError(t, err)
			for i := range 300 {
				var req loggen.Request
				if i < len(special) {
					req = special[i]
				}
				req = loggen.Fill(rnd, req)
				line := loggen.Line(format, rnd, req)
				var e accesslog.Event
				require.NoError(t, d.Decode(line, &e), "line %q", line)
				want := expected(format, req)
				if format == "krakend" || format == "json" || format == "krakend-json" || strings.HasPrefix(format, "cri+") {
					want.Fields = e.Fields // the json decoder leaves an empty map
				}
				if diff := cmp.Diff(want, e.Clone(), cmpopts.IgnoreFields(accesslog.Event{}, "Raw", "Fields"), cmpopts.IgnoreUnexported(accesslog.Event{})); diff != "" {
					t.Fatalf("line %q: (-want +got):\n%s", line, diff)
				}
			}
		})
	}
}

// genLines returns n distinct generated lines of format.
func genLines(format string, n int) [][]byte {
	rnd := rand.New(rand.NewPCG(7, 8))
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = loggen.Line(format, rnd, loggen.Request{})
	}
	return lines
}

// TestDecodeAllocs checks the hot path: once its buffers have grown, a
// decoder allocates nothing per line.
func TestDecodeAllocs(t *testing.T) {
	formats := append(append([]string(nil), roundTripFormats...), "auto")
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			genFormat := format
			if format == "auto" {
				genFormat = "kong"
			}
			lines := genLines(genFormat, 64)
			if format == "auto" {
				lines = append(lines, genLines("envoy", 64)...)
				lines = append(lines, genLines("krakend", 64)...)
				lines = append(lines, genLines("envoy-text", 64)...)
			}
			d, err := accesslog.NewDecoder(format, genMapping(t))
			require.NoError(t, err)
			var e accesslog.Event
			for _, l := range lines { // warm up the scratch buffers
				require.NoError(t, d.Decode(l, &e))
			}
			i := 0
			var failed error
			allocs := testing.AllocsPerRun(500, func() {
				if err := d.Decode(lines[i%len(lines)], &e); err != nil {
					failed = err
				}
				i++
			})
			require.NoError(t, failed)
			require.Zero(t, allocs, "allocations per decoded line")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	formats := append(append([]string(nil), roundTripFormats...), "auto")
	for _, format := range formats {
		b.Run(format, func(b *testing.B) {
			genFormat := format
			if format == "auto" {
				genFormat = "envoy"
			}
			lines := genLines(genFormat, 256)
			size := 0
			for _, l := range lines {
				size += len(l)
			}
			d, err := accesslog.NewDecoder(format, genMapping(b))
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
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			if cpu > 0 {
				// Wall-clock figures suffer on a shared machine; CPU
				// time is what the sidecar's budget is about.
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
			}
			b.ReportMetric(float64(size/len(lines)), "bytes/line")
		})
	}
}
