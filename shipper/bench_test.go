package shipper

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog"
	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/shipper/estest"
)

// Benchmarks run the test server in a child process (this test binary,
// re-executed), so that the CPU time and memory measured are the
// shipper's alone.
const (
	envServe       = "GATEWATCH_ESTEST_SERVE"
	envServeFaults = "GATEWATCH_ESTEST_FAULTS"
)

// serveChild runs the test server until its standard input closes.
func serveChild() int {
	srv := estest.New()
	srv.KeepSources(false)
	switch os.Getenv(envServeFaults) {
	case "down":
		srv.SetFaults(estest.Faults{Down: true})
	case "slow":
		srv.SetFaults(estest.Faults{Delay: 2 * time.Second})
	case "429":
		srv.SetFaults(estest.Faults{Item429: 0.5})
	case "hang":
		srv.SetFaults(estest.Faults{HangCount: -1})
	}
	fmt.Println(srv.URL)
	_, _ = bufio.NewReader(os.Stdin).ReadString(0)
	srv.Close()
	return 0
}

func startServer(b *testing.B, faults string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), envServe+"=1", envServeFaults+"="+faults)
	in, err := cmd.StdinPipe()
	require.NoError(b, err)
	out, err := cmd.StdoutPipe()
	require.NoError(b, err)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	url, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(b, err)
	return strings.TrimSpace(url)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func writeFile(b *testing.B, path, format string, rnd *rand.Rand, n int) int64 {
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Now().UTC().Add(-time.Hour)
	for i := range n {
		req := loggen.Request{Time: base.Add(time.Duration(i) * time.Millisecond)}
		_, _ = w.Write(benchLine(format, rnd, req))
		_ = w.WriteByte('\n')
	}
	require.NoError(b, w.Flush())
	fi, err := f.Stat()
	require.NoError(b, err)
	require.NoError(b, f.Close())
	return fi.Size()
}

// benchLine renders req as a line of format: a loggen format, or
// envoy-short and kong-short, the 300–400 byte lines of the sidecar's
// benchmarks (loggen.ShortEnvoy, loggen.ShortKong).
func benchLine(format string, rnd *rand.Rand, req loggen.Request) []byte {
	switch format {
	case "envoy-short":
		return loggen.ShortEnvoy(rnd, loggen.Fill(rnd, req))
	case "kong-short":
		return loggen.ShortKong(loggen.Fill(rnd, req))
	}
	return loggen.Line(format, rnd, req)
}

// BenchmarkShip measures documents per CPU-second of the shipper, from
// the file to the bulk test server: tail, decode, match, redact, build,
// send, parse the answer, acknowledge. envoy-short and kong-short are
// 300–400 byte lines (benchLine). An operation is a file of 50,000 lines;
// one shipper replays all b.N files in one call, as `gatewatch replay`
// does a backfill and the sidecar its rotated files, so the shipper's
// start (its batch buffers, the first GC they cause) is paid once, not
// once per file: -benchtime 1x shows the cost of a fresh shipper on one
// file.
//
//	go test ./shipper -run '^$' -bench BenchmarkShip -benchtime 5x
func BenchmarkShip(b *testing.B) {
	const lines = 50000
	for _, format := range []string{"kong", "krakend", "envoy", "envoy-short", "kong-short"} {
		b.Run(format, func(b *testing.B) {
			url := startServer(b, "")
			dir := b.TempDir()
			cfg, err := config.Load("gw.yaml", fmt.Appendf(nil, "sidecar:\n  logs: [{path: %q, format: %s}]\nshipper:\n  urls: [%q]\n", filepath.Join(dir, "*.log"), strings.TrimSuffix(format, "-short"), url))
			require.NoError(b, err)
			rnd := rand.New(rand.NewPCG(1, 2))
			var size int64
			paths := make([]string, b.N)
			for i := range paths {
				paths[i] = filepath.Join(dir, fmt.Sprintf("%d-%d.log", b.N, i))
				size += writeFile(b, paths[i], format, rnd, lines)
			}
			s, err := New(cfg, testContract(), nil, nil)
			require.NoError(b, err)
			runtime.GC() // the generator's garbage is not the shipper's cost
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			m0, gc0 := ms.Mallocs, ms.NumGC
			b.ResetTimer()
			c0 := cpuTime()
			require.NoError(b, s.Replay(context.Background(), paths, nil))
			cpu := cpuTime() - c0
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			docs := s.docs.Load()
			require.EqualValues(b, lines*b.N, docs)
			b.ReportMetric(float64(docs)/cpu.Seconds(), "docs/cpu-s")
			b.ReportMetric(float64(size)/float64(docs), "bytes/line")
			b.ReportMetric(float64(ms.Mallocs-m0)/float64(docs), "allocs/doc")
			b.ReportMetric(float64(ms.NumGC-gc0)/float64(b.N), "GCs/file")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkRSSWhileDown measures the shipper's peak resident memory while
// lines keep arriving and Elasticsearch is down (connections refused),
// slow (2s answers), rejecting half the items with 429, or hanging. The
// duration is GATEWATCH_RSS_SECONDS (default 60).
//
//	go test ./shipper -run '^$' -bench BenchmarkRSSWhileDown -benchtime 1x
func BenchmarkRSSWhileDown(b *testing.B) {
	secs := 60
	if v, err := strconv.Atoi(os.Getenv("GATEWATCH_RSS_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	for _, faults := range []string{"down", "slow", "429", "hang"} {
		b.Run(faults, func(b *testing.B) {
			for b.Loop() {
				url := startServer(b, faults)
				dir := b.TempDir()
				cfg, err := config.Load("gw.yaml", fmt.Appendf(nil, `
sidecar:
  logs: [{path: %q, format: kong}]
  checkpoint_dir: %q
shipper:
  urls: [%q]
  bootstrap: false
  timeout: 5s
`, filepath.Join(dir, "access.log"), dir, url))
				require.NoError(b, err)
				s, err := New(cfg, testContract(), nil, nil)
				require.NoError(b, err)
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); _ = s.Run(ctx) }()

				// 5,000 lines a second for the whole time.
				f, err := os.Create(filepath.Join(dir, "access.log"))
				require.NoError(b, err)
				rnd := rand.New(rand.NewPCG(5, 5))
				var written int64
				var maxRSS int64
				end := time.Now().Add(time.Duration(secs) * time.Second)
				for time.Now().Before(end) {
					var buf []byte
					for range 500 {
						buf = append(buf, loggen.Line("kong", rnd, loggen.Request{Time: time.Now().UTC()})...)
						buf = append(buf, '\n')
					}
					n, err := f.Write(buf)
					require.NoError(b, err)
					written += int64(n)
					time.Sleep(100 * time.Millisecond)
					maxRSS = max(maxRSS, rss("VmRSS"))
				}
				cancel()
				wg.Wait()
				require.NoError(b, f.Close())
				b.ReportMetric(float64(maxRSS)/(1<<20), "max-RSS-MiB")
				b.ReportMetric(float64(rss("VmHWM"))/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(written)/(1<<20), "written-MiB")
				b.ReportMetric(float64(s.docs.Load()), "docs-acked")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

// rss reads a size field (VmRSS, VmHWM) of /proc/self/status in bytes.
func rss(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkBuild measures the shipper's own work per line without I/O:
// decode, redact, build the action and the document into a reused body,
// as the pipe does.
// It reports nanoseconds per document and allocations per document; the
// decoding is the accesslog package's share.
//
//	go test ./shipper -run '^$' -bench BenchmarkBuild -benchmem
func BenchmarkBuild(b *testing.B) {
	for _, format := range []string{"kong", "krakend", "envoy", "envoy-short", "kong-short"} {
		b.Run(format, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 2))
			base := time.Now().UTC().Add(-time.Hour)
			lines := make([][]byte, 1024)
			size := 0
			for i := range lines {
				lines[i] = benchLine(format, rnd, loggen.Request{Time: base.Add(time.Duration(i) * time.Millisecond)})
				size += len(lines[i])
			}
			dec, err := accesslog.NewDecoder(strings.TrimSuffix(format, "-short"), nil)
			require.NoError(b, err)
			red := accesslog.NewRedactor(accesslog.DefaultRedactNames)
			bld := NewBuilder(Identity{Gateway: "edge", Kind: "kong", Track: "stable", Hash: "abc", Version: "1"})
			namer, err := NewIndexNamer("logs-gateway", "yyyy.MM.dd")
			require.NoError(b, err)
			var ev accesslog.Event
			var body []byte
			var act pipe // its action cache
			b.SetBytes(int64(size / len(lines)))
			i := 0
			for b.Loop() {
				if i%len(lines) == 0 {
					body = body[:0]
				}
				l := lines[i%len(lines)]
				ev.Reset()
				if err := dec.Decode(l, &ev); err != nil {
					b.Fatal(err) // not require: its t.Helper walks the stack, 1,900 instructions a line
				}
				if len(ev.Raw) == 0 {
					ev.Raw = l
				}
				red.RedactFields(&ev)
				body, _, _ = act.appendAction(body, namer.Name(ev.Time), 0xc0ffee, int64(i), l)
				body = bld.appendDoc(body, &ev, "/v1/users/{id}", Source{Path: "/var/log/access.log", Offset: int64(i)}, red)
				body = append(body, '\n')
				i++
			}
		})
	}
}

// BenchmarkEscape measures appendEscaped on an envoy-short line (the
// "message" of most documents) and on the short fields of a document.
func BenchmarkEscape(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	line := string(loggen.ShortEnvoy(rnd, loggen.Fill(rnd, loggen.Request{Time: time.Now()})))
	fields := []string{"PUT", "657651da-157b-48e7-ad22-8f07ad14c539", "/v1/payments", "api.example.com", "203.0.113.240", "10.0.6.14:8080", "okhttp/4.12.0", "/v1/users/{id}"}
	b.Run("message", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = appendEscaped(buf[:0], line)
		}
	})
	b.Run("fields", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf = buf[:0]
			for _, f := range fields {
				buf = appendEscaped(buf, f)
			}
		}
	})
}

// BenchmarkHugeLine measures the shipper's peak RSS replaying one line of
// about 60 MB with max_line_bytes 64MiB (the server in a child process):
// a line should be held about once, under 64 MiB plus twice
// max_line_bytes (issue 14, item 8).
//
//	go test ./shipper -run '^$' -bench BenchmarkHugeLine -benchtime 1x
func BenchmarkHugeLine(b *testing.B) {
	url := startServer(b, "")
	dir := b.TempDir()
	log := filepath.Join(dir, "access.log")
	f, err := os.Create(log)
	require.NoError(b, err)
	_, err = fmt.Fprintf(f, `{"request":{"method":"GET","uri":"/v1/users/1?q=%s"},"response":{"status":200},"started_at":1795000000000}`+"\n", strings.Repeat("a", 60<<20))
	require.NoError(b, err)
	require.NoError(b, f.Close())
	cfg, err := config.Load("gw.yaml", fmt.Appendf(nil, "sidecar:\n  logs: [{path: %q, format: kong}]\n  max_line_bytes: 67108864\nshipper:\n  urls: [%q]\n", log, url))
	require.NoError(b, err)
	runtime.GC()
	for b.Loop() {
		s, err := New(cfg, testContract(), nil, nil)
		require.NoError(b, err)
		require.NoError(b, s.Replay(context.Background(), []string{log}, nil))
		require.EqualValues(b, 1, s.docs.Load())
	}
	b.ReportMetric(float64(rss("VmHWM"))/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(0, "ns/op")
}
