//go:build unix

package shipper

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/shipper/estest"
)

// TestRotateDuringOutage: while Elasticsearch is down the shipper is
// blocked (the file is the buffer), and logrotate's "rotate 1" deletes
// access.log.1 and renames access.log to access.log.1 five times. Files
// created and deleted meanwhile are held open (within the bound), so when
// Elasticsearch comes back every line is stored, and no loss is counted.
func TestRotateDuringOutage(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	cfg := testConfig(t, dir, srv.URL, "index")
	reg := prometheus.NewPedanticRegistry()
	s, err := New(cfg, testContract(), nil, reg)
	require.NoError(t, err)
	// Every counter exists from the start, at 0.
	for _, name := range []string{"gatewatch_shipper_lost_bytes_total", "gatewatch_shipper_lost_lines_total"} {
		n, err := testutil.GatherAndCount(reg, name)
		require.NoError(t, err)
		require.Positive(t, n, name)
	}

	rnd := rand.New(rand.NewPCG(21, 21))
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	writeLines(t, log, rnd, start, 100)
	stop := runShipper(t, s)
	defer stop()
	waitFor(t, "the first lines", func() bool { return srv.Count("logs-gateway") == 100 })

	srv.SetFaults(estest.Faults{RequestStatus: 503, RequestCount: -1})
	const perFile = 1000
	written := 100
	var outage int64 // bytes written during the outage
	for i := range 6 {
		before := fileSize(t, log)
		writeLines(t, log, rnd, start.Add(time.Duration(written)*time.Minute), perFile)
		outage += fileSize(t, log) - before
		written += perFile
		time.Sleep(150 * time.Millisecond) // several polls
		if i == 5 {
			break
		}
		require.NoError(t, os.RemoveAll(log+".1"))
		require.NoError(t, os.Rename(log, log+".1"))
	}
	// The lag counts every unacknowledged byte, of the rotated files too,
	// though the shipper is blocked.
	waitFor(t, "the lag", func() bool {
		return sumMetric(t, reg, "gatewatch_shipper_lag_bytes") >= float64(outage)
	})
	srv.SetFaults(estest.Faults{})
	waitFor(t, "every line", func() bool { return srv.Count("logs-gateway") >= written })
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, written, srv.Count("logs-gateway"))
	for _, name := range []string{"gatewatch_shipper_lost_bytes_total", "gatewatch_shipper_lost_lines_total"} {
		require.Zero(t, sumMetric(t, reg, name), name)
	}
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return fi.Size()
}

// sumMetric is the sum of every series of the metric family name.
func sumMetric(t testing.TB, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestTruncateAndRewriteSameHeader: a followed file truncated and
// rewritten with the same first line (docs/tailing.md supports it) is new
// content under a new key: its lines are stored though they sit at the
// offsets of lines already stored, and a restart stores nothing twice.
func TestTruncateAndRewriteSameHeader(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	cfg := testConfig(t, dir, srv.URL, "index")
	cfg.Sidecar.Logs[0].Format = "krakend"
	content := func(round int) string {
		var b strings.Builder
		b.WriteString(`[GIN] 2026/11/20 - 12:00:00 | 200 |       1.1ms |  10.0.0.9 | GET      "/__health"` + "\n")
		for j := range 20 {
			fmt.Fprintf(&b, "[GIN] 2026/11/20 - 12:%02d:%02d | 200 |    1.%03dms |  10.0.0.1 | GET      \"/v1/users/%d\"\n", round, j, j, 1000+j)
		}
		return b.String()
	}
	require.NoError(t, os.WriteFile(log, []byte(content(1)), 0o644))
	s, err := New(cfg, nil, nil, nil)
	require.NoError(t, err)
	stop := runShipper(t, s)
	waitFor(t, "the first content", func() bool { return srv.Count("logs-gateway*") == 21 })
	require.NoError(t, os.Truncate(log, 0))
	require.NoError(t, os.WriteFile(log, []byte(content(2)), 0o644)) // same length, same first line
	waitFor(t, "the second content", func() bool { return srv.Count("logs-gateway*") == 42 })
	stop()

	s, err = New(cfg, nil, nil, nil)
	require.NoError(t, err)
	stop = runShipper(t, s)
	time.Sleep(300 * time.Millisecond)
	stop()
	require.Equal(t, 42, srv.Count("logs-gateway*"))
}
