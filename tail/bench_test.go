package tail

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkRun reads a generated 200,000-line access log (about 24 MB)
// through Run with OneShot and reports ns/line and allocs/line: "auto"
// acknowledges lines as handled (the metrics reader), "manual" calls
// Tailer.Ack for every line (the shipper's acknowledgements, in order).
func BenchmarkRun(b *testing.B) {
	path := generateLog(b)
	for _, manual := range []bool{false, true} {
		name := "auto"
		if manual {
			name = "manual"
		}
		b.Run(name, func(b *testing.B) { benchmarkRun(b, path, manual) })
	}
}

const benchLines = 200_000

func generateLog(b *testing.B) string {
	const lines = benchLines
	path := filepath.Join(b.TempDir(), "access.log")
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriter(f)
	for i := 0; i < lines; i++ {
		fmt.Fprintf(w, `{"time":"2026-11-22T02:00:%02d.%06dZ","method":"GET","path":"/v1/users/%d","status":200,"latency_ms":%d,"bytes":%d}`+"\n",
			i%60, i%1_000_000, i, i%977, 100+i%5000)
	}
	require.NoError(b, w.Flush())
	require.NoError(b, f.Close())
	return path
}

func benchmarkRun(b *testing.B, path string, manual bool) {
	const lines = benchLines
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	total := 0
	for b.Loop() {
		tl, err := New(Options{Paths: []string{path}, Start: FromBeginning, OneShot: true, ManualAck: manual})
		require.NoError(b, err)
		n := 0
		require.NoError(b, tl.Run(b.Context(), func(l Line) error {
			n++
			if manual {
				tl.Ack(l.File, l.Offset, l.End)
			}
			return nil
		}))
		require.Equal(b, lines, n)
		total += n
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/line")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(total), "allocs/line")
}
