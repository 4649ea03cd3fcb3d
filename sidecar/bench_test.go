package sidecar

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/exporter"
	"github.com/gatewatch/gatewatch/tail"
)

// benchContract has the endpoints loggen's paths belong to, so that most
// benchmark lines match an endpoint as in production.
func benchContract() *contract.Contract {
	c := &contract.Contract{Gateway: contract.KrakenD, Name: "bench", Hash: "bench"}
	for _, res := range []string{"users", "orders", "products", "carts", "payments", "invoices", "shipments"} {
		for _, p := range []string{"/v1/" + res, "/v1/" + res + "/{id}", "/v1/" + res + "/{id}/items/{item}", "/v2/" + res + "/{uuid}"} {
			c.Endpoints = append(c.Endpoints, contract.Endpoint{
				Name: p, Path: p, Match: contract.MatchExact,
				Methods: []string{"GET", "POST", "PUT", "DELETE", "PATCH"}, Timeout: 3 * time.Second,
			})
		}
	}
	return c
}

// benchLines returns n generated lines of format: one of loggen's formats,
// or "envoy-short" and "kong-short", the 300–400 byte lines of
// loggen.ShortEnvoy and loggen.ShortKong, 250µs apart.
func benchLines(format string, n int) [][]byte {
	rnd := rand.New(rand.NewPCG(42, 42))
	lines := make([][]byte, n)
	start := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	for i := range lines {
		var req loggen.Request
		if strings.HasSuffix(format, "-short") {
			// As a busy gateway logs: 4,000 requests per second, in
			// order (loggen's own lines have random times of a day).
			req.Time = start.Add(time.Duration(i) * 250 * time.Microsecond)
		}
		req = loggen.Fill(rnd, req)
		switch format {
		case "envoy-short":
			lines[i] = loggen.ShortEnvoy(rnd, req)
		case "kong-short":
			lines[i] = loggen.ShortKong(req)
		default:
			lines[i] = loggen.Line(format, rnd, req)
		}
	}
	return lines
}

func benchMapping(b *testing.B) *accesslog.Mapping {
	var m accesslog.Mapping
	if err := yaml.Unmarshal([]byte(loggen.JSONMapping), &m); err != nil {
		b.Fatal(err)
	}
	return &m
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeMatchRecord measures the metrics reader's per-line work
// (decode, match, record, self-metrics) for each format, without I/O.
// Reports lines per CPU-second, the mean line size and allocations per
// line.
func BenchmarkDecodeMatchRecord(b *testing.B) {
	for _, format := range []string{"krakend", "krakend-json", "kong", "envoy", "envoy-text", "json", "cri+envoy", "envoy-short", "kong-short"} {
		b.Run(format, func(b *testing.B) {
			c := benchContract()
			sc := config.Default().Sidecar
			sc.Logs = []config.LogConfig{{Path: "/var/log/access.log", Format: strings.TrimSuffix(format, "-short")}}
			if format == "json" {
				sc.Logs[0].Mapping = benchMapping(b)
			}
			exp := exporter.New(prometheus.NewRegistry(), c, exporter.Options{Buckets: schema.Buckets(3 * time.Second)})
			p, err := newPipeline(&sc, c, exp, nil)
			if err != nil {
				b.Fatal(err)
			}
			lines := benchLines(format, 4096)
			size := 0
			for _, l := range lines {
				size += len(l) + 1
			}
			var off int64
			for _, l := range lines { // warm up: every series exists
				if err := p.handle(tail.Line{Path: "/var/log/access.log", Bytes: l, Offset: off, End: off + int64(len(l)) + 1}); err != nil {
					b.Fatal(err)
				}
			}
			if p.errors != 0 {
				b.Fatalf("%d of %d lines did not decode", p.errors, len(lines))
			}
			b.SetBytes(int64(size / len(lines)))
			b.ReportAllocs()
			// Finish the collection the setup's garbage started, so that
			// its marking (and write barriers) are not charged to the lines.
			runtime.GC()
			cpu0 := cpuTime()
			b.ResetTimer()
			flushed := off
			for i := 0; i < b.N; i++ {
				l := lines[i%len(lines)]
				_ = p.handle(tail.Line{Path: "/var/log/access.log", Bytes: l, Offset: off, End: off + int64(len(l)) + 1})
				off += int64(len(l)) + 1
				if off-flushed >= 64<<10 { // as after each read of the tailer's 64 KiB buffer
					exp.Flush()
					flushed = off
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
			b.ReportMetric(float64(size)/float64(len(lines)), "B/line")
			b.ReportMetric(float64(p.lines-p.errors)/float64(p.lines), "decoded")
		})
	}
}

// BenchmarkTailToMetrics runs the whole metrics reader (tail, decode,
// match, record) over a generated file of Envoy JSON lines, once per
// iteration, as `gatewatch sidecar --once` does.
func BenchmarkTailToMetrics(b *testing.B) {
	const n = 200_000
	for _, format := range []string{"envoy", "kong"} {
		b.Run(format, func(b *testing.B) {
			dir := b.TempDir()
			log := filepath.Join(dir, "access.log")
			f, err := os.Create(log)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(f)
			rnd := rand.New(rand.NewPCG(7, 7))
			size := 0
			for range n {
				l := loggen.Line(format, rnd, loggen.Request{})
				size += len(l) + 1
				w.Write(l)
				w.WriteByte('\n')
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			cfg := config.Default()
			cfg.Sidecar.Logs = []config.LogConfig{{Path: log, Format: format, Envelope: "none"}}
			cfg.Sidecar.Start = config.StartBeginning
			b.SetBytes(int64(size))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cfg.Sidecar.CheckpointDir = filepath.Join(dir, fmt.Sprint("state", i))
				s, err := New(cfg, benchContract(), nil, prometheus.NewRegistry(), Options{Once: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				if got := s.Summary(); got.Lines != n || got.DecodeErrors != 0 {
					b.Fatalf("read %+v, want %d lines without errors", got, n)
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "lines/cpu-s")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
