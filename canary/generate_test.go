package canary

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/loader"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func generated(t *testing.T) []GeneratedFile {
	t.Helper()
	cfg, err := config.LoadFile("testdata/gatewatch.yaml")
	require.NoError(t, err)
	ct, err := loader.Load(cfg.Contract.Path, cfg.Contract.Format, loader.Options{})
	require.NoError(t, err)
	files, err := GenerateChecks("shop", ct, cfg)
	require.NoError(t, err)
	return files
}

// TestGenerateGolden compares the files with testdata; run with -update
// after an intended change and review the diff.
func TestGenerateGolden(t *testing.T) {
	files := generated(t)
	again := generated(t)
	require.Equal(t, files, again, "output is not deterministic")
	for _, f := range files {
		path := filepath.Join("testdata", filepath.Base(f.Name))
		if *update {
			require.NoError(t, os.WriteFile(path, f.Content, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), string(f.Content), "%s differs; run go test ./canary -update and review the diff", path)
	}
}

// TestGenerateValidatesAgainstCRDs checks every generated object against
// the Flagger and Argo Rollouts CRDs, the Canary analysis snippet against
// the Canary's spec.analysis schema, and every query with Prometheus'
// parser once Flagger's and Argo's variables are filled in.
func TestGenerateValidatesAgainstCRDs(t *testing.T) {
	flagger := loadCRDs(t, "flagger.app_crds.yaml")
	argo := loadCRDs(t, "argoproj.io_analysistemplates.yaml")
	files := map[string][]byte{}
	for _, f := range generated(t) {
		files[f.Name] = f.Content
	}
	queries := 0
	checkQuery := func(q string) {
		t.Helper()
		q = strings.NewReplacer("{{ interval }}", "1m", "{{args.track}}", "canary").Replace(q)
		_, err := parser.NewParser(parser.Options{}).ParseExpr(q)
		require.NoError(t, err, q)
		queries++
	}
	docs := splitYAML(files[FlaggerTemplatesFile])
	require.Len(t, docs, 2)
	for _, d := range docs {
		require.Empty(t, validateObject(t, flagger, d))
		var mt metricTemplate
		require.NoError(t, yaml.UnmarshalStrict(d, &mt))
		checkQuery(mt.Spec.Query)
	}
	require.Empty(t, validateObject(t, argo, files[ArgoTemplateFile]))
	var at analysisTemplate
	require.NoError(t, yaml.UnmarshalStrict(files[ArgoTemplateFile], &at))
	for _, m := range at.Spec.Metrics {
		checkQuery(m.Provider.Prometheus.Query)
	}
	require.Equal(t, 4, queries)

	var snippet map[string]any
	j, err := yaml.YAMLToJSON(files[FlaggerAnalysisFile])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &snippet))
	require.Len(t, snippet, 1, "the snippet holds analysis alone")
	analysis := flagger["Canary/v1beta1"].schema.Properties["spec"].Properties["analysis"]
	require.NotNil(t, analysis)
	require.Empty(t, validate(analysis, snippet["analysis"], "spec.analysis", false))
	// Every templateRef names a generated MetricTemplate.
	for _, m := range snippet["analysis"].(map[string]any)["metrics"].([]any) {
		ref := m.(map[string]any)["templateRef"].(map[string]any)["name"].(string)
		require.Contains(t, string(files[FlaggerTemplatesFile]), "name: "+ref+"\n")
	}
}

func TestChecksThresholds(t *testing.T) {
	cfg := config.Default()
	ct := &contract.Contract{Endpoints: []contract.Endpoint{{Name: "/a"}, {Name: "/b", Timeout: 5e9}}}
	cs := Checks(ct, cfg)
	require.Equal(t, "error-ratio", cs[0].Name)
	require.InDelta(t, 0.001, cs[0].Max, 0, "the default 99.9 % objective")
	require.InDelta(t, 2.5, cs[1].Max, 0, "half the slowest endpoint's 5s timeout")
	require.Equal(t, "2m", flaggerDuration(120e9))
	require.Equal(t, "90s", flaggerDuration(90e9))
}
