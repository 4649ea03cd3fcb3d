package sidecar

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// TestAgreesWithMtail reads the same Envoy log with the sidecar and with
// mtail running bench/mtail/gateway.mtail (the program bench-compare.sh
// measures), and requires both to count the same requests by method and
// status code — an independent check of decoding, and of the comparison's
// fairness.
func TestAgreesWithMtail(t *testing.T) {
	bin, err := exec.LookPath("mtail")
	if err != nil {
		t.Skip("mtail is not installed (Debian package mtail); CI installs it")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeLines(t, log, "envoy", rand.New(rand.NewPCG(17, 18)), 2000)

	cfg := testConfig(t, filepath.Join(dir, "state"), log)
	cfg.Sidecar.Logs[0].Format = "envoy"
	reg := prometheus.NewRegistry()
	s, err := New(cfg, testContract(), nil, reg, Options{Once: true})
	require.NoError(t, err)
	require.NoError(t, s.Run(context.Background()))
	ours := map[[2]string]float64{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != schema.RequestsTotal.Name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ours[methodCode(m.GetLabel())] += m.GetCounter().GetValue()
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--one_shot", "--one_shot_format", "prometheus",
		"--logs", log, "--progs", filepath.Join("..", "bench", "mtail"))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	require.NoError(t, cmd.Run(), "mtail: %s", stderr.String())
	p := expfmt.NewTextParser(model.UTF8Validation)
	theirs, err := p.TextToMetricFamilies(&out)
	require.NoError(t, err)
	mf := theirs[schema.RequestsTotal.Name]
	require.NotNil(t, mf, "mtail exported no %s", schema.RequestsTotal.Name)
	mt := map[[2]string]float64{}
	for _, m := range mf.GetMetric() {
		mt[methodCode(m.GetLabel())] += m.GetCounter().GetValue() + m.GetUntyped().GetValue()
	}
	require.Equal(t, mt, ours)
	total := 0.0
	for _, v := range ours {
		total += v
	}
	require.Equal(t, 2000.0, total)
}

func methodCode(ls []*dto.LabelPair) [2]string {
	var k [2]string
	for _, l := range ls {
		switch l.GetName() {
		case schema.LabelMethod:
			k[0] = l.GetValue()
		case schema.LabelCode:
			k[1] = l.GetValue()
		}
	}
	return k
}
