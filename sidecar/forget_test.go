package sidecar

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/accesslog/loggen"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/exporter"
	"github.com/gatewatch/gatewatch/schema"
	"github.com/gatewatch/gatewatch/tail"
)

// scrape is a prometheus.Gatherer reading /metrics from base, as
// Prometheus does.
func scrape(base string) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		byName, err := parser.TextToMetricFamilies(resp.Body)
		mfs := make([]*dto.MetricFamily, 0, len(byName))
		for _, mf := range byName {
			mfs = append(mfs, mf)
		}
		return mfs, err
	})
}

// perFileSeries returns, for each family with a file label, the value of
// its series by file.
func perFileSeries(t *testing.T, g prometheus.Gatherer) map[string]map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	got := map[string]map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != schema.LabelFile {
					continue
				}
				if got[mf.GetName()] == nil {
					got[mf.GetName()] = map[string]float64{}
				}
				got[mf.GetName()][l.GetValue()] = m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
			}
		}
	}
	return got
}

// filesOf lists the file label values of every per-file family.
func filesOf(series map[string]map[string]float64) []string {
	var files []string
	for _, byFile := range series {
		for f := range byFile {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	slices.Sort(files)
	return files
}

// TestForgetRotatedFiles rotates a log N times to dated names (logrotate
// dateext, kubelet), the old writer adding lines to the renamed file as
// writers that reopen late do, and deletes all but the newest rotated
// file. The per-file series on /metrics must come down to the files that
// exist (one series per rotated name forever is what it fixes), while
// the live path's counters, which every generation of the live file
// added to, keep their values and no request is lost.
func TestForgetRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	cfg := testConfig(t, filepath.Join(dir, "state"), log+"*")
	cfg.Sidecar.ForgetFilesAfter = config.Duration(300 * time.Millisecond) // gatewatch.yaml allows 1m at least
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{})
	require.NoError(t, err)
	metrics := scrape("http://" + s.Addr().String())
	stop := start(t, s)

	rnd := rand.New(rand.NewPCG(3, 4))
	const rotations, live, late, final = 12, 40, 10, 25
	requests := 0.0
	read := func(n int) {
		requests += float64(n)
		waitFor(t, fmt.Sprintf("%.0f requests", requests), func() bool {
			return sum(t, reg, schema.RequestsTotal.Name) == requests
		})
	}
	dated := func(i int) string { return fmt.Sprintf("%s-202612%02d", log, i+1) }
	var everSeen []string
	for i := range rotations {
		writeLines(t, log, "kong", rnd, live)
		read(live)
		require.NoError(t, os.Rename(log, dated(i)))
		waitFor(t, "the reader to see the rename", func() bool {
			return slices.ContainsFunc(s.tailer.Stats().Files, func(f tail.FileStats) bool { return f.Path == dated(i) })
		})
		writeLines(t, dated(i), "kong", rnd, late) // the old writer, before it reopens
		read(late)
		if i >= 1 {
			require.NoError(t, os.Remove(dated(i-1))) // keep the newest rotated file only
		}
		everSeen = append(everSeen, filesOf(perFileSeries(t, metrics))...)
	}
	writeLines(t, log, "kong", rnd, final)
	read(final)
	slices.Sort(everSeen)
	everSeen = slices.Compact(everSeen)
	require.Greater(t, len(everSeen), 3, "dated names got series of their own: %v", everSeen)

	// Deleted files are read through the rotate grace (5s), then closed;
	// their series go forget_files_after later.
	want := []string{log, dated(rotations - 1)}
	got := perFileSeries(t, metrics)
	for deadline := time.Now().Add(30 * time.Second); !slices.Equal(filesOf(got), want) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		got = perFileSeries(t, metrics)
	}
	require.Equal(t, want, filesOf(got), "per-file series 30s after the last deletion")
	require.Equal(t, float64(rotations*live+final), got[schema.LinesRead.Name][log], "the live path's lines, all its generations")
	require.Equal(t, float64(late), got[schema.LinesRead.Name][dated(rotations-1)], "the rotated file still there")
	require.Contains(t, got[schema.LagBytes.Name], log)
	require.Contains(t, got[schema.BytesRead.Name], dated(rotations-1))

	// The live path keeps being counted on the same series.
	writeLines(t, log, "kong", rnd, 5)
	read(5)
	require.Equal(t, float64(rotations*live+final+5), value(t, reg, schema.LinesRead.Name, schema.LabelFile, log))
	require.NoError(t, stop())
	require.Equal(t, requests, sum(t, reg, schema.RequestsTotal.Name), "no request lost")
	require.Equal(t, 0.0, sum(t, reg, schema.DecodeErrors.Name))
}

// TestPipelineForgetsHandles drives the metrics reader's pipeline by hand
// with a fake clock: after 100 dated files are forgotten, neither the
// exporter nor the pipeline holds a handle per name, and a line read
// through the cached handle of a forgotten path (the live file deleted,
// then back after forget_files_after) is counted on the path's new series.
func TestPipelineForgetsHandles(t *testing.T) {
	now := time.Unix(50_000, 0)
	reg := prometheus.NewRegistry()
	c := testContract()
	exp := exporter.New(reg, c, exporter.Options{Gateway: "shop", Now: func() time.Time { return now }})
	cfg := testConfig(t, t.TempDir(), "/l/access.log*")
	cfg.Sidecar.ForgetFilesAfter = config.Duration(10 * time.Minute)
	p, err := newPipeline(&cfg.Sidecar, c, exp, nil)
	require.NoError(t, err)
	rnd := rand.New(rand.NewPCG(5, 6))
	read := func(path string) {
		l := loggen.Line("kong", rnd, loggen.Request{})
		require.NoError(t, p.handle(tail.Line{Path: path, Bytes: l, End: int64(len(l)) + 1}))
		p.afterRead()
	}
	const live = "/l/access.log"
	for i := range 100 {
		name := fmt.Sprintf("%s-%d", live, 20260000+i)
		read(live)
		read(name)
		p.setLag([]tail.FileStats{{Path: live}, {Path: name}})
	}
	require.Equal(t, 101, len(p.files))
	now = now.Add(11 * time.Minute)
	p.setLag([]tail.FileStats{{Path: live}})
	p.afterRead()
	require.Equal(t, 1, len(p.files), "handles of forgotten files dropped")
	require.Equal(t, 1, len(p.lagFiles))
	require.Equal(t, []string{live}, filesOf(perFileSeries(t, reg)))
	require.Equal(t, 100.0, value(t, reg, schema.LinesRead.Name, schema.LabelFile, live))

	// The live file is deleted and the reader idles on it (the cached
	// handle stays); past forget_files_after its series go.
	p.setLag(nil)
	now = now.Add(11 * time.Minute)
	p.setLag(nil)
	require.Empty(t, filesOf(perFileSeries(t, reg)))
	// Back: its first line goes through the cached, forgotten handle.
	read(live)
	require.Equal(t, 1.0, value(t, reg, schema.LinesRead.Name, schema.LabelFile, live), "a new series from zero, the line not lost")
	read(live)
	require.Equal(t, 2.0, value(t, reg, schema.LinesRead.Name, schema.LabelFile, live))
	require.Equal(t, 202.0, sum(t, reg, schema.RequestsTotal.Name))
}
