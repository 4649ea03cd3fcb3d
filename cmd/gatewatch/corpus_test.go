package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatewatch/gatewatch/canary"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/deploy"
	"github.com/gatewatch/gatewatch/internal/crdcheck"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

const crdsDir = "../../../shared/crds"

// corpusRefused lists the corpus files the loaders refuse on purpose, with
// what the error must say (contract/loader's TestCorpus holds the same
// list): `generate all` exits 2 naming the file.
var corpusRefused = map[string]string{
	"krakend/05-NETCRACKER-P2P-Streaming-API-Gateway.json":    "KrakenD flexible-configuration template",
	"krakend/19-Klasmart-Engineering-api-management-poc.json": "KrakenD flexible-configuration template",
	"krakend/26-TaskarCenterAtUW-TDEI-api-gateway.tmpl":       "KrakenD flexible-configuration template",
}

// corpusConfig is the gatewatch.yaml of the walk: a public base URL so
// that the probes hold the contract's checks, Grafana's URL so that the
// alerts link to the dashboards, and the autoscaler, adapter or KEDA
// (every other contract), so that both Kubernetes folders are built.
const corpusConfig = `probe: {base_url: 'https://gw.example.com/api'}
grafana: {url: 'https://grafana.example.com'}
kubernetes: {autoscaling: {mode: %s}}
`

// tools are the external validators; "" when one is not installed.
type tools struct {
	promtool, amtool, blackbox, kubectl string
	flagger, argo, keda                 []crdcheck.CRD
}

func findTools(t testing.TB) *tools {
	t.Helper()
	var tl tools
	for _, b := range []struct {
		path *string
		bin  string
		pkg  string
	}{
		{&tl.promtool, "/usr/bin/promtool", "prometheus"},
		{&tl.amtool, "/usr/bin/amtool", "prometheus-alertmanager"},
		{&tl.blackbox, "/usr/bin/prometheus-blackbox-exporter", "prometheus-blackbox-exporter"},
		{&tl.kubectl, "kubectl", "kubectl"},
	} {
		p, err := exec.LookPath(b.bin)
		if err != nil {
			t.Logf("%s is not installed (Debian package %s): its checks are skipped", b.bin, b.pkg)
			continue
		}
		*b.path = p
	}
	for _, c := range []struct {
		crds *[]crdcheck.CRD
		file string
	}{
		{&tl.flagger, "flagger.app_crds.yaml"},
		{&tl.argo, "argoproj.io_analysistemplates.yaml"},
		{&tl.keda, "keda.sh_scaledobjects.yaml"},
	} {
		p := filepath.Join(crdsDir, c.file)
		if _, err := os.Stat(p); err != nil {
			t.Logf("%s is absent (shared/crds beside the checkout): the objects it defines are decoded but not checked against it", p)
			continue
		}
		crds, err := crdcheck.LoadFile(p)
		require.NoError(t, err, p)
		*c.crds = crds
	}
	return &tl
}

// TestGenerateAllCorpus runs `gatewatch generate all` on every contract of
// the corpus as a user does, and checks every file written with its
// validator: promtool (check rules with the duplicate-rules lint, test
// rules, check config on both scrape files), amtool check-config,
// blackbox_exporter --config.check, strict case-sensitive decoding of
// every Kubernetes object into its API type, KEDA's, Flagger's and Argo
// Rollouts' CRD schemas, kubectl kustomize on the kubernetes folder alone
// and as a component of a gateway's Deployment, the PromQL parser on every
// query of the dashboards, the canary checks and the autoscalers (each
// selector naming a declared metric or a recorded series), and JSON for
// the Elasticsearch files. A file no validator knows fails the test. The
// refused templates must exit 2 naming the file. Contracts are checked in
// parallel; generating runs one at a time (gw swaps the output streams).
func TestGenerateAllCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not found at %s (it lives in shared/ beside the checkout): %v", corpusDir, err)
	}
	tl := findTools(t)
	var (
		mu        sync.Mutex // serialises gw; counts
		generated int
		refused   int
	)
	generate := func(t *testing.T, args ...string) (int, string, string) {
		mu.Lock()
		defer mu.Unlock()
		return gw(t, args...)
	}
	t.Run("corpus", func(t *testing.T) {
		i := 0
		for _, kind := range []string{"krakend", "kong", "envoy"} {
			files, err := filepath.Glob(filepath.Join(corpusDir, kind, "*"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, f := range files {
				rel := kind + "/" + filepath.Base(f)
				mode := []string{config.AutoscalingAdapter, config.AutoscalingKEDA}[i%2]
				i++
				t.Run(rel, func(t *testing.T) {
					t.Parallel()
					dir := t.TempDir()
					cfgFile := filepath.Join(t.TempDir(), "gatewatch.yaml")
					require.NoError(t, os.WriteFile(cfgFile, fmt.Appendf(nil, corpusConfig, mode), 0o644))
					code, out, errOut := generate(t, "generate", "all", "-c", cfgFile, "--contract", f, "--output-dir", dir)
					if want, ok := corpusRefused[rel]; ok {
						require.Equal(t, 2, code, "a refused template: the tool cannot do its job")
						require.Contains(t, errOut, want)
						require.Contains(t, errOut, f, "the error names the file")
						mu.Lock()
						refused++
						mu.Unlock()
						return
					}
					require.Equal(t, 0, code, errOut)
					checkGenerated(t, tl, f, cfgFile, dir, out)
					mu.Lock()
					generated++
					mu.Unlock()
				})
			}
		}
	})
	require.Equal(t, len(corpusRefused), refused, "every refused template was met")
	require.Greater(t, generated, 40)
}

// checkGenerated checks every file `generate all` wrote into dir for the
// contract file f with gatewatch.yaml cfgFile; out is what it printed.
func checkGenerated(t testing.TB, tl *tools, f, cfgFile, dir, out string) {
	t.Helper()
	cfg, err := config.LoadFile(cfgFile)
	require.NoError(t, err)
	c, err := loader.Load(f, "auto", loader.Options{})
	require.NoError(t, err)
	gateway := rules.GatewayName(c, cfg)

	files := readTree(t, dir)
	for _, name := range keys(files) {
		require.Contains(t, out, filepath.Join(dir, filepath.FromSlash(name)), "the command names every file it writes")
	}
	checked := map[string]bool{}
	check := func(names ...string) {
		for _, n := range names {
			require.Contains(t, files, n, "%s was not written", n)
			checked[n] = true
		}
	}
	run := func(bin string, args ...string) {
		t.Helper()
		if bin != "" {
			runTool(t, dir, bin, args...)
		}
	}

	// Prometheus: rules, their unit tests, both scrape jobs.
	check(rulesFile, rulesTestFile, scrapeFile, "probes/"+probe.ScrapeFile)
	run(tl.promtool, "check", "rules", "--lint=duplicate-rules", "--lint-fatal", rulesFile)
	run(tl.promtool, "test", "rules", rulesTestFile)
	run(tl.promtool, "check", "config", scrapeFile, "probes/"+probe.ScrapeFile)
	checkScrape(t, files[scrapeFile], gateway)
	var pr monitoringv1.PrometheusRule
	check(prometheusRuleFile)
	require.NoError(t, crdcheck.DecodeStrict(files[prometheusRuleFile], &pr, "monitoring.coreos.com/v1", "PrometheusRule"), prometheusRuleFile)

	// Alertmanager.
	check(alertmanagerFile)
	run(tl.amtool, "check-config", alertmanagerFile)

	// Probes: blackbox modules, Probe objects.
	check("probes/"+probe.BlackboxFile, "probes/"+probe.ProbesFile)
	run(tl.blackbox, "--config.file="+filepath.Join("probes", probe.BlackboxFile), "--config.check")
	docs, err := crdcheck.Documents(files["probes/"+probe.ProbesFile])
	require.NoError(t, err)
	for _, d := range docs {
		var p monitoringv1.Probe
		require.NoError(t, crdcheck.DecodeStrict(d, &p, "monitoring.coreos.com/v1", "Probe"), probe.ProbesFile)
	}

	allowed := allowedNames(t, files[rulesFile])
	checkKubernetes(t, tl, files, check, allowed, gateway, filepath.Join(dir, kubernetesDir))
	checkCanary(t, tl, files, check, allowed)
	checkDashboards(t, files, check, allowed, gateway)

	// Elasticsearch: JSON, NDJSON for the saved objects.
	for name, b := range files {
		if !strings.HasPrefix(name, elasticsearchDir+"/") {
			continue
		}
		check(name)
		if strings.HasSuffix(name, ".ndjson") {
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				require.True(t, json.Valid([]byte(l)), "%s: %s", name, l)
			}
			continue
		}
		require.True(t, json.Valid(b), name)
	}

	for _, name := range keys(files) {
		require.True(t, checked[name], "%s has no validator in TestGenerateAllCorpus; add one", name)
	}
}

// checkScrape checks the decision on the scrape job: honor_labels, and
// the gateway label set to the gateway's name (so that up has it).
func checkScrape(t testing.TB, b []byte, gateway string) {
	t.Helper()
	var sc struct {
		ScrapeConfigs []struct {
			HonorLabels    bool `json:"honor_labels"`
			RelabelConfigs []struct {
				TargetLabel string `json:"target_label"`
				Replacement string `json:"replacement"`
			} `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &sc), scrapeFile)
	require.Len(t, sc.ScrapeConfigs, 1, scrapeFile)
	job := sc.ScrapeConfigs[0]
	require.True(t, job.HonorLabels, "%s: honor_labels", scrapeFile)
	require.True(t, slices.ContainsFunc(job.RelabelConfigs, func(r struct {
		TargetLabel string `json:"target_label"`
		Replacement string `json:"replacement"`
	}) bool {
		return r.TargetLabel == schema.LabelGateway && r.Replacement == gateway
	}), "%s sets the gateway label to %q", scrapeFile, gateway)
}

// allowedNames are what a generated query may name: the schema's metrics
// (with a histogram's series), the series rules.yml records, and
// Prometheus' own up and ALERTS.
func allowedNames(t testing.TB, rulesYAML []byte) map[string]bool {
	t.Helper()
	ok := map[string]bool{schema.PrometheusUp: true, schema.PrometheusAlerts: true}
	for _, m := range schema.Schema {
		ok[m.Name] = true
		if m.Type == schema.Histogram {
			for _, s := range []string{schema.BucketSuffix, schema.SumSuffix, schema.CountSuffix} {
				ok[m.Name+s] = true
			}
		}
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Record string `json:"record"`
			} `json:"rules"`
		} `json:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(rulesYAML, &rf), rulesFile)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				ok[r.Record] = true
			}
		}
	}
	// The objective series are named on this branch; the rules that
	// record them arrive with the labels branch (the dashboards' tests
	// accept the same two).
	for _, pending := range []string{rules.SLOObjective(), rules.SLOLatencyThreshold()} {
		ok[pending] = true
	}
	return ok
}

// checkQuery parses q with the PromQL parser and checks that every
// selector names an allowed series and, when gateway is set, selects that
// gateway.
func checkQuery(t testing.TB, where, q string, allowed map[string]bool, gateway string) {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	require.NoError(t, err, "%s: %s", where, q)
	sels := 0
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		sels++
		require.True(t, allowed[vs.Name], "%s: %s names %q, which neither the schema nor rules.yml declares", where, q, vs.Name)
		if gateway != "" {
			require.True(t, slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
				return m.Name == schema.LabelGateway && m.Type == labels.MatchEqual && m.Value == gateway
			}), "%s: %s does not select gateway=%q", where, vs.String(), gateway)
		}
		return nil
	})
	require.Positive(t, sels, "%s: %s selects no series", where, q)
}

// kubeKinds maps apiVersion and kind to a new value of the Go type the
// object decodes into.
var kubeKinds = map[string]func() any{
	"kustomize.config.k8s.io/v1alpha1 Component": func() any { return new(deploy.Kustomization) },
	"apps/v1 Deployment":                         func() any { return new(appsv1.Deployment) },
	"v1 Service":                                 func() any { return new(corev1.Service) },
	"monitoring.coreos.com/v1 ServiceMonitor":    func() any { return new(monitoringv1.ServiceMonitor) },
	"monitoring.coreos.com/v1 PodMonitor":        func() any { return new(monitoringv1.PodMonitor) },
	"monitoring.coreos.com/v1 PrometheusRule":    func() any { return new(monitoringv1.PrometheusRule) },
	"policy/v1 PodDisruptionBudget":              func() any { return new(policyv1.PodDisruptionBudget) },
	"autoscaling/v2 HorizontalPodAutoscaler":     func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	deploy.KEDAAPIVersion + " ScaledObject":      func() any { return new(deploy.ScaledObject) },
	" ":                                          func() any { return new(deploy.AdapterConfig) }, // prometheus-adapter's rules: no kind
}

// typeMeta reads a document's apiVersion and kind.
func typeMeta(t testing.TB, where string, doc []byte) (string, string) {
	t.Helper()
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	require.NoError(t, yaml.Unmarshal(doc, &tm), where)
	return tm.APIVersion, tm.Kind
}

func checkKubernetes(t testing.TB, tl *tools, files map[string][]byte, check func(...string), allowed map[string]bool, gateway, dir string) {
	t.Helper()
	var (
		kust      deploy.Kustomization
		resources int
		autoscale []string
	)
	for _, name := range keys(files) {
		base, ok := strings.CutPrefix(name, kubernetesDir+"/")
		if !ok {
			continue
		}
		check(name)
		av, kind := typeMeta(t, name, files[name])
		newObj := kubeKinds[av+" "+kind]
		require.NotNil(t, newObj, "%s: apiVersion %q, kind %q is not a kind the folder holds", name, av, kind)
		obj := newObj()
		require.NoError(t, crdcheck.DecodeStrict(files[name], obj, av, kind), name)
		switch o := obj.(type) {
		case *deploy.Kustomization:
			kust = *o
		case *deploy.ScaledObject:
			autoscale = append(autoscale, kind)
			if tl.keda != nil {
				crd, ok := crdcheck.Find(tl.keda, av, kind)
				require.True(t, ok)
				require.Empty(t, crd.ValidateYAML(files[name]), "%s against KEDA's CRD", name)
			}
			for _, tr := range o.Spec.Triggers {
				if q := tr.Metadata["query"]; q != "" {
					checkQuery(t, name, q, allowed, gateway)
				}
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			autoscale = append(autoscale, kind)
		case *deploy.AdapterConfig:
			for _, r := range o.Rules {
				q := strings.NewReplacer("<<.Series>>", schema.RequestsTotal.Name,
					"<<.LabelMatchers>>", `namespace="edge",pod=~"a|b",`+schema.LabelGateway+`="`+gateway+`"`,
					"<<.GroupBy>>", "pod").Replace(r.MetricsQuery)
				checkQuery(t, name, q, allowed, gateway)
				checkQuery(t, name, r.SeriesQuery, allowed, "")
			}
		}
		if base != deploy.KustomizationFile && base != deploy.SidecarPatchFile && base != deploy.AdapterFile {
			resources++
		}
	}
	require.Len(t, autoscale, 1, "exactly one autoscaler for the Deployment")
	require.Len(t, kust.Resources, resources, "the Component lists every object of the folder")
	for _, r := range kust.Resources {
		require.Contains(t, files, kubernetesDir+"/"+r, "kustomization.yaml lists %s", r)
	}
	require.Len(t, kust.Patches, 1)
	if tl.kubectl == "" {
		return
	}
	built, err := crdcheck.Documents(kustomize(t, tl.kubectl, dir))
	require.NoError(t, err)
	require.Len(t, built, resources, "kubectl kustomize builds the Component's objects")

	// As a component of the gateway's kustomization: the patch applies
	// to the Deployment it targets.
	app := filepath.Join(filepath.Dir(dir), "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "deployment.yaml"), []byte(strings.ReplaceAll(gatewayDeployment, "NAME", kust.Patches[0].Target.Name)), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\ncomponents: [../"+kubernetesDir+"]\n"), 0o644))
	built, err = crdcheck.Documents(kustomize(t, tl.kubectl, app))
	require.NoError(t, err)
	require.Len(t, built, resources+1)
	found := false
	for _, doc := range built {
		if av, kind := typeMeta(t, "kustomize build", doc); av == "apps/v1" && kind == "Deployment" {
			var d appsv1.Deployment
			require.NoError(t, crdcheck.DecodeStrict(doc, &d, av, kind), "the patched Deployment")
			require.True(t, slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == config.SidecarContainer }), "the patch adds the sidecar")
			require.Equal(t, "devopsfaith/krakend:2.13", d.Spec.Template.Spec.Containers[0].Image, "the gateway's container is kept")
			found = true
		}
	}
	require.True(t, found, "no Deployment in the build")
}

// gatewayDeployment is a gateway's own Deployment, for building the
// generated folder as a component.
const gatewayDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  replicas: 3
  selector: {matchLabels: {app.kubernetes.io/name: NAME}}
  template:
    metadata: {labels: {app.kubernetes.io/name: NAME, track: stable}}
    spec:
      containers:
        - name: gateway
          image: devopsfaith/krakend:2.13
`

func kustomize(t testing.TB, kubectl, dir string) []byte {
	t.Helper()
	cmd := exec.Command(kubectl, "kustomize", dir)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	require.NoError(t, err, "kubectl kustomize %s: %s", dir, errb.String())
	return out
}

// canaryVars are the values Flagger and Argo Rollouts give the templates'
// variables.
var canaryVars = strings.NewReplacer("{{ interval }}", "1m", "{{args.track}}", "canary")

func checkCanary(t testing.TB, tl *tools, files map[string][]byte, check func(...string), allowed map[string]bool) {
	t.Helper()
	check(canary.FlaggerTemplatesFile, canary.ArgoTemplateFile, canary.FlaggerAnalysisFile)
	queries := 0
	for _, f := range []struct {
		name string
		crds []crdcheck.CRD
	}{
		{canary.FlaggerTemplatesFile, tl.flagger},
		{canary.ArgoTemplateFile, tl.argo},
	} {
		docs, err := crdcheck.Documents(files[f.name])
		require.NoError(t, err)
		require.NotEmpty(t, docs, f.name)
		for _, d := range docs {
			av, kind := typeMeta(t, f.name, d)
			if f.crds != nil {
				crd, ok := crdcheck.Find(f.crds, av, kind)
				require.True(t, ok, "%s: no CRD for %s %s", f.name, av, kind)
				require.Empty(t, crd.ValidateYAML(d), "%s against its CRD", f.name)
			}
			var obj any
			require.NoError(t, yaml.Unmarshal(d, &obj))
			eachString(obj, "query", func(q string) {
				checkQuery(t, f.name, canaryVars.Replace(q), allowed, "")
				queries++
			})
		}
	}
	require.Positive(t, queries, "the canary checks hold queries")

	// The analysis snippet: Canary's spec.analysis schema.
	var snippet map[string]any
	require.NoError(t, yaml.Unmarshal(files[canary.FlaggerAnalysisFile], &snippet))
	require.Len(t, snippet, 1, "the snippet holds analysis alone")
	if tl.flagger == nil {
		return
	}
	crd, ok := crdcheck.Find(tl.flagger, "flagger.app/v1beta1", "Canary")
	require.True(t, ok)
	analysis := crd.Schema.Properties["spec"].Properties["analysis"]
	require.NotNil(t, analysis)
	only := crdcheck.CRD{APIVersion: crd.APIVersion, Kind: crd.Kind, Schema: &crdcheck.Schema{
		Type: "object", Properties: map[string]*crdcheck.Schema{
			"apiVersion": {Type: "string"}, "kind": {Type: "string"},
			"spec": {Type: "object", Properties: map[string]*crdcheck.Schema{"analysis": analysis}},
		},
	}}
	require.Empty(t, only.Validate(map[string]any{"apiVersion": crd.APIVersion, "kind": crd.Kind, "spec": snippet}), canary.FlaggerAnalysisFile)
}

// eachString calls fn with every string value of key anywhere in v, a
// decoded JSON or YAML document.
func eachString(v any, key string, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if s, ok := x[k].(string); ok && k == key {
				fn(s)
				continue
			}
			eachString(x[k], key, fn)
		}
	case []any:
		for _, e := range x {
			eachString(e, key, fn)
		}
	}
}

// grafanaVars give Grafana's variables values before a query is parsed:
// its intervals a duration, a dashboard variable a label value.
var (
	grafanaInterval = regexp.MustCompile(`\$__\w+`)
	grafanaVar      = regexp.MustCompile(`\$\{?\w+(:\w+)?\}?`)
	labelValues     = regexp.MustCompile(`^label_values\((.+), ([a-z_]+)\)$`)
)

func checkDashboards(t testing.TB, files map[string][]byte, check func(...string), allowed map[string]bool, gateway string) {
	t.Helper()
	dashboards := 0
	for _, name := range keys(files) {
		if !strings.HasPrefix(name, grafanaDir+"/") {
			continue
		}
		check(name)
		if strings.HasSuffix(name, ".yaml") { // provisioning
			var m map[string]any
			require.NoError(t, yaml.UnmarshalStrict(files[name], &m), name)
			require.Equal(t, float64(1), m["apiVersion"], name)
			continue
		}
		dashboards++
		var d any
		require.NoError(t, json.Unmarshal(files[name], &d), name)
		queries := 0
		eachString(d, "expr", func(q string) {
			checkQuery(t, name, grafanaVar.ReplaceAllString(grafanaInterval.ReplaceAllString(q, "5m"), "x"), allowed, gateway)
			queries++
		})
		for _, v := range d.(map[string]any)["templating"].(map[string]any)["list"].([]any) {
			if s, ok := v.(map[string]any)["query"].(string); ok && v.(map[string]any)["type"] == "query" {
				sm := labelValues.FindStringSubmatch(s)
				require.NotNil(t, sm, "%s: variable query %q is not label_values(selector, label)", name, s)
				checkQuery(t, name, grafanaVar.ReplaceAllString(sm[1], "x"), allowed, gateway)
			}
		}
		require.Positive(t, queries, "%s has no query", name)
	}
	require.Equal(t, 4, dashboards, "overview, endpoint, sidecar and probes")
}

// catcher is a testing.TB that records a failure instead of failing the
// test: FailNow ends the goroutine it runs in.
type catcher struct {
	testing.TB
	failed bool
	msg    string
}

func (c *catcher) Errorf(format string, args ...any) {
	c.failed = true
	c.msg += fmt.Sprintf(format, args...)
}

func (c *catcher) FailNow() {
	c.failed = true
	runtime.Goexit()
}

// TestCorpusValidatorsCatch shows that the corpus walk's checks can fail:
// the example's `generate all` passes them, and each mutation of one
// file, of the kind its validator exists to catch, makes them fail.
func TestCorpusValidatorsCatch(t *testing.T) {
	tl := findTools(t)
	contract := "../../examples/krakend.json"
	cfgFile := filepath.Join(t.TempDir(), "gatewatch.yaml")
	require.NoError(t, os.WriteFile(cfgFile, fmt.Appendf(nil, corpusConfig, config.AutoscalingAdapter), 0o644))
	dir := t.TempDir()
	code, out, errOut := gw(t, "generate", "all", "-c", cfgFile, "--contract", contract, "--output-dir", dir)
	require.Equal(t, 0, code, errOut)
	orig := readTree(t, dir) // before the check builds its app folder beside them
	checkGenerated(t, tl, contract, cfgFile, dir, out)

	for _, m := range []struct {
		name, file, old, new string
		missing              bool // the program or schema the check needs is absent
	}{
		{"promtool check rules", rulesFile, "expr: ", "expr: sum(", tl.promtool == ""},
		{"promtool test rules", rulesTestFile, "severity: page", "severity: pager", tl.promtool == ""},
		{"promtool check config", "probes/" + probe.ScrapeFile, "scrape_configs:", "scrape_configs:\n  - job_name: x\n    scrape_interval: soon", tl.promtool == ""},
		{"honor_labels", scrapeFile, "honor_labels: true", "honor_labels: false", false},
		{"amtool", alertmanagerFile, "route:", "bogus_key: 1\nroute:", tl.amtool == ""},
		{"blackbox --config.check", "probes/" + probe.BlackboxFile, "modules:", "bogus_key: 1\nmodules:", tl.blackbox == ""},
		{"strict decoding: wrong case", kubernetesDir + "/" + deploy.ServiceFile, "\nspec:", "\nSpec:", false},
		{"strict decoding: second document", prometheusRuleFile, "apiVersion:", "kind: x\n---\napiVersion:", false},
		{"kustomization lists a missing file", kubernetesDir + "/" + deploy.KustomizationFile, "- service.yaml", "- missing.yaml", false},
		{"kubectl kustomize: patch of no Deployment", kubernetesDir + "/" + deploy.KustomizationFile, "kind: Deployment", "kind: StatefulSet", tl.kubectl == ""},
		{"Argo CRD", canary.ArgoTemplateFile, "\nspec:\n", "\nspec:\n  bogusField: 1\n", tl.argo == nil},
		{"dashboard query", "", `"expr": "sum (`, `"expr": "sum ((`, false},
		{"dashboard names an unknown series", "", `"expr": "sum (rate(gatewatch_http_requests_total{`, `"expr": "sum (rate(gatewatch_no_such_series{`, false},
		{"a file without validator", "extra.txt", "", "", false},
	} {
		t.Run(m.name, func(t *testing.T) {
			if m.missing {
				t.Skip("the program or schema this check needs is absent (see the log above)")
			}
			d := filepath.Join(t.TempDir(), "out")
			for name, b := range orig {
				if m.file == "" && strings.HasSuffix(name, "-overview.json") {
					m.file = name
				}
				p := filepath.Join(d, filepath.FromSlash(name))
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.WriteFile(p, b, 0o644))
			}
			b, ok := orig[m.file]
			if ok {
				require.Contains(t, string(b), m.old)
			}
			b = []byte(strings.Replace(string(b), m.old, m.new, 1))
			require.NoError(t, os.WriteFile(filepath.Join(d, filepath.FromSlash(m.file)), b, 0o644))
			c := &catcher{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				checkGenerated(c, tl, contract, cfgFile, d, strings.ReplaceAll(out, dir, d)+filepath.Join(d, "extra.txt"))
			}()
			<-done
			require.True(t, c.failed, "the checks pass a %s mutation", m.name)
			t.Logf("caught: %s", lastLines(c.msg, 4))
		})
	}
}

// lastLines is the last n lines of s, where a failure says what and why.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
