package deploy

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/internal/crdcheck"
	"github.com/gatewatch/gatewatch/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	kedaCRD   = "../../shared/crds/keda.sh_scaledobjects.yaml"
	corpusDir = "../../shared/corpus"
	kubectl   = "kubectl"
)

// kedaSetup is a second configuration of the example: KEDA, the node's
// pod logs, a PodMonitor, a namespace and operator labels.
const kedaSetup = `contract: {path: ../examples/krakend.json}
gateway: {name: shop}
sidecar:
  logs:
    - path: /var/log/pods/edge_shop-*/krakend/*.log
      envelope: cri
kubernetes:
  namespace: edge
  deployment: shop
  container: krakend
  pod_labels: {app: shop}
  image: registry.example.com/gatewatch:1.2.3
  log_source: pod_logs
  monitor: pod_monitor
  operator_labels: {release: kube-prometheus-stack}
  resources: {requests: {cpu: 50m, memory: 48Mi}}
  autoscaling:
    mode: keda
    capacity_per_pod: 250
    min_replicas: 2
    max_replicas: 20
    memory_utilization: 0
    prometheus_url: http://prometheus.monitoring.svc:9090
`

type setup struct {
	name string
	load func(t testing.TB) (*contract.Contract, *config.Config)
}

func fromFile(path string) func(t testing.TB) (*contract.Contract, *config.Config) {
	return func(t testing.TB) (*contract.Contract, *config.Config) {
		t.Helper()
		cfg, err := config.LoadFile(path)
		require.NoError(t, err)
		return loadContract(t, cfg)
	}
}

func fromYAML(y string) func(t testing.TB) (*contract.Contract, *config.Config) {
	return func(t testing.TB) (*contract.Contract, *config.Config) {
		t.Helper()
		cfg, err := config.Load("gatewatch.yaml", []byte(y))
		require.NoError(t, err)
		return loadContract(t, cfg)
	}
}

func loadContract(t testing.TB, cfg *config.Config) (*contract.Contract, *config.Config) {
	t.Helper()
	c, err := loader.Load(cfg.Contract.Path, cfg.Contract.Format, loader.Options{})
	require.NoError(t, err)
	return c, cfg
}

var setups = []setup{
	{"shop", fromFile("../examples/gatewatch.yaml")},
	{"shop-keda", fromYAML(kedaSetup)},
}

func generate(t testing.TB, s setup) []File {
	t.Helper()
	c, cfg := s.load(t)
	files, err := Kubernetes(c, cfg)
	require.NoError(t, err)
	return files
}

// TestGolden compares the output with testdata/<setup>/; run with -update
// after an intended change and review the diff.
func TestGolden(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			files := generate(t, s)
			dir := filepath.Join("testdata", s.name)
			if *update {
				require.NoError(t, os.RemoveAll(dir))
				require.NoError(t, os.MkdirAll(dir, 0o755))
				for _, f := range files {
					require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Content, 0o644))
				}
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				want, err := os.ReadFile(filepath.Join(dir, f.Name))
				require.NoError(t, err)
				require.Equal(t, string(want), string(f.Content), "%s/%s differs; run go test ./deploy -update and review the diff", dir, f.Name)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				require.Contains(t, names, e.Name(), "%s/%s is no longer generated; run -update", dir, e.Name())
			}
			// Byte-identical on a second run.
			again := generate(t, s)
			require.Equal(t, files, again)
		})
	}
}

// checkFiles decodes every file strictly into its API type and checks
// what the decision says each object must hold; it returns the objects.
type objects struct {
	patch   appsv1.Deployment
	service corev1.Service
	sm      *monitoringv1.ServiceMonitor
	pm      *monitoringv1.PodMonitor
	pdb     policyv1.PodDisruptionBudget
	hpa     *autoscalingv2.HorizontalPodAutoscaler
	so      *ScaledObject
	pr      monitoringv1.PrometheusRule
	adapter *AdapterConfig
	kust    Kustomization
}

func checkFiles(t testing.TB, files []File, keda *crdcheck.CRD) *objects {
	t.Helper()
	var o objects
	names := map[string]bool{}
	for _, f := range files {
		names[f.Name] = true
		var err error
		switch f.Name {
		case KustomizationFile:
			err = crdcheck.DecodeStrict(f.Content, &o.kust, "kustomize.config.k8s.io/v1alpha1", "Component")
		case SidecarPatchFile:
			err = crdcheck.DecodeStrict(f.Content, &o.patch, "apps/v1", "Deployment")
		case ServiceFile:
			err = crdcheck.DecodeStrict(f.Content, &o.service, "v1", "Service")
		case ServiceMonitorFile:
			o.sm = new(monitoringv1.ServiceMonitor)
			err = crdcheck.DecodeStrict(f.Content, o.sm, "monitoring.coreos.com/v1", "ServiceMonitor")
		case PodMonitorFile:
			o.pm = new(monitoringv1.PodMonitor)
			err = crdcheck.DecodeStrict(f.Content, o.pm, "monitoring.coreos.com/v1", "PodMonitor")
		case PDBFile:
			err = crdcheck.DecodeStrict(f.Content, &o.pdb, "policy/v1", "PodDisruptionBudget")
		case HPAFile:
			o.hpa = new(autoscalingv2.HorizontalPodAutoscaler)
			err = crdcheck.DecodeStrict(f.Content, o.hpa, "autoscaling/v2", "HorizontalPodAutoscaler")
		case ScaledObjectFile:
			o.so = new(ScaledObject)
			err = crdcheck.DecodeStrict(f.Content, o.so, KEDAAPIVersion, "ScaledObject")
			if err == nil && keda != nil {
				require.Empty(t, keda.ValidateYAML(f.Content), "%s against KEDA's CRD", f.Name)
			}
		case PrometheusRuleFile:
			err = crdcheck.DecodeStrict(f.Content, &o.pr, "monitoring.coreos.com/v1", "PrometheusRule")
		case AdapterFile:
			o.adapter = new(AdapterConfig)
			err = crdcheck.DecodeStrict(f.Content, o.adapter, "", "")
		default:
			t.Fatalf("unexpected file %s", f.Name)
		}
		require.NoError(t, err, f.Name)
	}
	// The Component lists exactly the generated objects but the patch.
	for _, r := range o.kust.Resources {
		require.True(t, names[r], "kustomization lists %s, which is not generated", r)
	}
	require.Len(t, o.kust.Resources, len(files)-2-boolInt(o.adapter != nil))
	require.Equal(t, SidecarPatchFile, o.kust.Patches[0].Path)
	// Never both autoscalers for one Deployment.
	require.False(t, o.hpa != nil && o.so != nil, "both a HorizontalPodAutoscaler and a ScaledObject")
	require.Equal(t, o.hpa != nil, o.adapter != nil, "adapter rules without the HorizontalPodAutoscaler or the reverse")
	return &o
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func loadKEDA(t testing.TB) *crdcheck.CRD {
	t.Helper()
	if _, err := os.Stat(kedaCRD); err != nil {
		t.Skipf("%s is absent: the CRD check needs shared/crds beside the repository", kedaCRD)
	}
	crds, err := crdcheck.LoadFile(kedaCRD)
	require.NoError(t, err)
	c, ok := crdcheck.Find(crds, KEDAAPIVersion, "ScaledObject")
	require.True(t, ok)
	return &c
}

func sidecarOf(t testing.TB, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == config.SidecarContainer {
			return c
		}
	}
	t.Fatalf("no %s container in %s", config.SidecarContainer, d.Name)
	return corev1.Container{}
}

// TestObjects checks the decisions in the decoded objects of both setups.
func TestObjects(t *testing.T) {
	keda := loadKEDA(t)
	t.Run("shop", func(t *testing.T) {
		o := checkFiles(t, generate(t, setups[0]), keda)
		sc := sidecarOf(t, &o.patch)
		require.Equal(t, []string{"sidecar", "-c", "/etc/gatewatch/gatewatch.yaml", "--contract", "/etc/gatewatch/krakend.json"}, sc.Args)
		sec := sc.SecurityContext
		require.True(t, *sec.RunAsNonRoot && *sec.ReadOnlyRootFilesystem && !*sec.AllowPrivilegeEscalation)
		require.Equal(t, []corev1.Capability{"ALL"}, sec.Capabilities.Drop)
		require.Equal(t, "/healthz", sc.LivenessProbe.HTTPGet.Path)
		require.Equal(t, "/readyz", sc.ReadinessProbe.HTTPGet.Path)
		require.Equal(t, "metadata.labels['track']", sc.Env[0].ValueFrom.FieldRef.FieldPath)
		require.Equal(t, "GATEWATCH_TRACK", sc.Env[0].Name)
		require.Equal(t, "GATEWATCH_VERSION", sc.Env[1].Name)
		// The gateway's container mounts the shared log folder; the
		// sidecar reads it read-only.
		gw := o.patch.Spec.Template.Spec.Containers[0]
		require.Equal(t, "gateway", gw.Name)
		require.Equal(t, []corev1.VolumeMount{{Name: volLogs, MountPath: "/var/log/gateway"}}, gw.VolumeMounts)
		require.Contains(t, sc.VolumeMounts, corev1.VolumeMount{Name: volLogs, MountPath: "/var/log/gateway", ReadOnly: true})
		require.Contains(t, sc.VolumeMounts, corev1.VolumeMount{Name: volState, MountPath: "/var/lib/gatewatch"})
		require.Equal(t, int32(9145), o.service.Spec.Ports[0].Port)
		// honorLabels and the gateway label (decision), job for up{}.
		ep := o.sm.Spec.Endpoints[0]
		require.True(t, ep.HonorLabels)
		require.Equal(t, schema.LabelGateway, ep.RelabelConfigs[0].TargetLabel)
		require.Equal(t, "shop-gateway", *ep.RelabelConfigs[0].Replacement)
		require.Equal(t, "gatewatch", *ep.RelabelConfigs[1].Replacement)
		require.Equal(t, o.service.Labels, o.sm.Spec.Selector.MatchLabels, "the ServiceMonitor selects the Service")
		// HPA: 3 to 10, CPU, memory and requests per second per pod.
		h := o.hpa.Spec
		require.Equal(t, int32(3), *h.MinReplicas)
		require.Equal(t, int32(10), h.MaxReplicas)
		require.Len(t, h.Metrics, 3)
		pods := h.Metrics[2].Pods
		require.Equal(t, "gatewatch_http_requests_per_second", pods.Metric.Name)
		require.Equal(t, "100", pods.Target.AverageValue.String())
		require.Equal(t, map[string]string{schema.LabelGateway: "shop-gateway"}, pods.Metric.Selector.MatchLabels)
		require.Equal(t, int32(300), *h.Behavior.ScaleDown.StabilizationWindowSeconds)
		require.Equal(t, "shop-gateway", o.hpa.Spec.ScaleTargetRef.Name)
		require.Equal(t, 1, o.pdb.Spec.MaxUnavailable.IntValue())
		// The adapter's rule names the metric the HPA reads.
		r := o.adapter.Rules[0]
		require.Equal(t, RequestsPerSecondMetric(), regexp.MustCompile(r.Name.Matches).ReplaceAllString(schema.RequestsTotal.Name, r.Name.As))
		rendered := strings.NewReplacer("<<.Series>>", schema.RequestsTotal.Name, "<<.LabelMatchers>>", `namespace="edge",pod=~"a|b"`, "<<.GroupBy>>", "pod").Replace(r.MetricsQuery)
		checkQuery(t, rendered)
		checkQuery(t, r.SeriesQuery)
		require.NotEmpty(t, o.pr.Spec.Groups)
	})
	t.Run("shop-keda", func(t *testing.T) {
		o := checkFiles(t, generate(t, setups[1]), keda)
		require.NotNil(t, o.so)
		require.NotNil(t, o.pm)
		require.Nil(t, o.sm)
		sc := sidecarOf(t, &o.patch)
		require.Len(t, o.patch.Spec.Template.Spec.Containers, 1, "pod logs need no mount in the gateway's container")
		require.Equal(t, "/var/log/pods", o.patch.Spec.Template.Spec.Volumes[1].HostPath.Path)
		require.Contains(t, sc.VolumeMounts, corev1.VolumeMount{Name: volLogs, MountPath: "/var/log/pods", ReadOnly: true})
		require.Equal(t, []string{"sidecar", "-c", "/etc/gatewatch/gatewatch.yaml", "--contract", "/etc/gatewatch/krakend.json"}, sc.Args)
		require.Equal(t, "registry.example.com/gatewatch:1.2.3", sc.Image)
		require.Equal(t, "edge", o.so.Namespace)
		require.Equal(t, "edge", o.pr.Namespace)
		require.Equal(t, "kube-prometheus-stack", o.pr.Labels["release"])
		require.Equal(t, "kube-prometheus-stack", o.pm.Labels["release"])
		require.Equal(t, map[string]string{"app": "shop"}, o.pm.Spec.Selector.MatchLabels)
		require.True(t, o.pm.Spec.PodMetricsEndpoints[0].HonorLabels)
		s := o.so.Spec
		require.Equal(t, int32(2), *s.MinReplicaCount)
		require.Equal(t, int32(20), *s.MaxReplicaCount)
		require.Len(t, s.Triggers, 2, "prometheus and cpu; memory is 0")
		p := s.Triggers[0]
		require.Equal(t, "prometheus", p.Type)
		require.Equal(t, "250", p.Metadata["threshold"])
		require.Equal(t, `sum(rate(gatewatch_http_requests_total{gateway="shop", namespace="edge"}[2m]))`, p.Metadata["query"])
		checkQuery(t, p.Metadata["query"])
		require.Equal(t, "cpu", s.Triggers[1].Type)
		require.Equal(t, "70", s.Triggers[1].Metadata["value"])
	})
}

// checkQuery parses q and checks that every metric it names is declared
// in the schema.
func checkQuery(t testing.TB, q string) {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	require.NoError(t, err, q)
	known := map[string]bool{}
	for _, m := range schema.Schema {
		known[m.Name] = true
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			require.True(t, known[vs.Name], "%s names %s, which the schema does not declare", q, vs.Name)
		}
		return nil
	})
}

func TestModes(t *testing.T) {
	c, _ := setups[0].load(t)
	for _, tc := range []struct {
		mode       string
		want, none []string
	}{
		{config.AutoscalingAdapter, []string{HPAFile, AdapterFile}, []string{ScaledObjectFile}},
		{config.AutoscalingKEDA, []string{ScaledObjectFile}, []string{HPAFile, AdapterFile}},
		{config.AutoscalingNone, nil, []string{HPAFile, AdapterFile, ScaledObjectFile}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cfg, err := config.Load("gw.yaml", []byte("kubernetes: {autoscaling: {mode: "+tc.mode+"}}\n"))
			require.NoError(t, err)
			files, err := Kubernetes(c, cfg)
			require.NoError(t, err)
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
			}
			for _, w := range tc.want {
				require.Contains(t, names, w)
			}
			for _, n := range tc.none {
				require.NotContains(t, names, n)
			}
			// A gatewatch.yaml without a contract path: the sidecar
			// reads its contract from the configuration.
			o := checkFiles(t, files, nil)
			require.Equal(t, []string{"sidecar", "-c", "/etc/gatewatch/gatewatch.yaml"}, sidecarOf(t, &o.patch).Args)
		})
	}
}

func TestLogErrors(t *testing.T) {
	c, _ := setups[0].load(t)
	for _, tc := range []struct{ in, want string }{
		{"sidecar: {logs: [{path: '-'}]}\n", `sidecar.logs[0].path "-": standard input cannot be read in a pod`},
		{"sidecar: {logs: [{path: /var/log/pods/x/*.log, envelope: cri}]}\n", `sidecar.logs[0].path "/var/log/pods/x/*.log": /var/log/pods is the node's folder; set kubernetes.log_source: pod_logs`},
		{"kubernetes: {log_source: pod_logs}\n", `sidecar.logs[0].path "/var/log/gateway/access.log": with kubernetes.log_source pod_logs every log must be under /var/log/pods/`},
		{"kubernetes: {log_source: pod_logs}\nsidecar: {logs: [{path: /var/log/pods/x/*.log}]}\n", `sidecar.logs[0].envelope: files under /var/log/pods are written by the container runtime; set envelope: cri`},
		{"sidecar: {logs: [{path: /access.log}]}\n", `sidecar.logs[0].path "/access.log": the log needs a folder of its own`},
		{"sidecar: {listen: ':metrics'}\n", `sidecar.listen ":metrics": the pod needs a numeric port`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			cfg, err := config.Load("gw.yaml", []byte(tc.in))
			require.NoError(t, err)
			_, err = Kubernetes(c, cfg)
			require.EqualError(t, err, tc.want[:len(tc.want)]+errTail(err, tc.want))
		})
	}
}

// errTail returns the rest of err's message after want, so that a case
// states the start of the message.
func errTail(err error, want string) string {
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		return ""
	}
	return strings.TrimPrefix(err.Error(), want)
}

func TestLogMounts(t *testing.T) {
	c, _ := setups[0].load(t)
	cfg, err := config.Load("gw.yaml", []byte("sidecar:\n  logs:\n    - {path: '/var/log/kong/access.log*'}\n    - {path: /var/log/kong/admin.log}\n    - {path: '/srv/logs/*/access.log'}\n"))
	require.NoError(t, err)
	files, err := Kubernetes(c, cfg)
	require.NoError(t, err)
	o := checkFiles(t, files, nil)
	gw := o.patch.Spec.Template.Spec.Containers[0]
	require.Equal(t, []corev1.VolumeMount{
		{Name: "gatewatch-logs-1", MountPath: "/srv/logs"},
		{Name: "gatewatch-logs-2", MountPath: "/var/log/kong"},
	}, gw.VolumeMounts)
}

// TestNoSecrets: secrets named in gatewatch.yaml are read by the sidecar at
// run time; nothing generated holds their values.
func TestNoSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("file-secret-93f1\n"), 0o600))
	t.Setenv("GW_TEST_ES_PASSWORD", "env-secret-77a2")
	c, _ := setups[0].load(t)
	cfg, err := config.Load("gw.yaml", []byte(`shipper:
  enabled: true
  urls: [http://es:9200]
  auth: {username: u, password: {env: GW_TEST_ES_PASSWORD}}
sidecar: {logs: [{path: /var/log/gateway/access.log}]}
alerting: {pagerduty: {page: {routing_key_file: `+keyFile+`}}}
`))
	require.NoError(t, err)
	files, err := Kubernetes(c, cfg)
	require.NoError(t, err)
	for _, f := range files {
		require.NotContains(t, string(f.Content), "file-secret-93f1", f.Name)
		require.NotContains(t, string(f.Content), "env-secret-77a2", f.Name)
	}
}

// kustomize builds dir with kubectl and returns the output.
func kustomize(t testing.TB, dir string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "kubectl kustomize %s: %s", dir, errb.String())
	return out.Bytes()
}

func needKubectl(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath(kubectl); err != nil {
		t.Skip("kubectl is not installed (Debian package kubectl); the kustomize builds are skipped")
	}
}

func writeFiles(t testing.TB, dir string, files []File) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), f.Content, 0o644))
	}
}

// gatewayBase is a gateway's own kustomization: its Deployment, with the
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
          resources: {requests: {cpu: 100m, memory: 64Mi}}
`

// TestKustomize builds the generated folder alone and as a component of a
// gateway's kustomization: the patched Deployment decodes strictly and
// holds the sidecar and the gateway's log mount.
func TestKustomize(t *testing.T) {
	needKubectl(t)
	files := generate(t, setups[0])
	root := t.TempDir()
	gen := filepath.Join(root, "gatewatch")
	writeFiles(t, gen, files)
	alone := kustomize(t, gen)
	docs, err := crdcheck.Documents(alone)
	require.NoError(t, err)
	require.Len(t, docs, 5, "Service, ServiceMonitor, PodDisruptionBudget, HorizontalPodAutoscaler, PrometheusRule")

	app := filepath.Join(root, "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "deployment.yaml"), []byte(strings.ReplaceAll(gatewayDeployment, "NAME", "shop-gateway")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources: [deployment.yaml]\ncomponents: [../gatewatch]\n"), 0o644))
	docs, err = crdcheck.Documents(kustomize(t, app))
	require.NoError(t, err)
	require.Len(t, docs, 6)
	var d appsv1.Deployment
	found := false
	for _, doc := range docs {
		if regexp.MustCompile(`(?m)^kind: Deployment$`).Match(doc) {
			require.NoError(t, crdcheck.DecodeStrict(doc, &d, "apps/v1", "Deployment"))
			found = true
		}
	}
	require.True(t, found, "no Deployment in the build")
	require.Equal(t, "shop", d.Namespace)
	cs := d.Spec.Template.Spec.Containers
	require.Len(t, cs, 2)
	require.Equal(t, "devopsfaith/krakend:2.13", cs[0].Image, "the gateway's container is kept")
	require.Equal(t, []corev1.VolumeMount{{Name: volLogs, MountPath: "/var/log/gateway"}}, cs[0].VolumeMounts)
	sc := sidecarOf(t, &d)
	require.Equal(t, "gatewatch:latest", sc.Image)
	var vols []string
	for _, v := range d.Spec.Template.Spec.Volumes {
		vols = append(vols, v.Name)
	}
	slices.Sort(vols)
	require.Equal(t, []string{volConfig, volLogs, volState}, vols)

	// The KEDA folder builds too: the ScaledObject instead of the HPA.
	keda := filepath.Join(root, "keda")
	writeFiles(t, keda, generate(t, setups[1]))
	docs, err = crdcheck.Documents(kustomize(t, keda))
	require.NoError(t, err)
	require.Len(t, docs, 5, "Service, PodMonitor, PodDisruptionBudget, ScaledObject, PrometheusRule")
	var kinds []string
	for _, doc := range docs {
		kinds = append(kinds, regexp.MustCompile(`(?m)^kind: (\w+)$`).FindStringSubmatch(string(doc))[1])
	}
	slices.Sort(kinds)
	require.Equal(t, []string{"PodDisruptionBudget", "PodMonitor", "PrometheusRule", "ScaledObject", "Service"}, kinds)
}

// TestCorpus generates the folder for every contract of the corpus with
// each autoscaler: every file decodes strictly, the ScaledObject passes
// KEDA's CRD, every query parses, and kubectl kustomize builds the
// adapter folders.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not found at %s (it lives in shared/ beside the checkout)", corpusDir)
	}
	keda := loadKEDA(t)
	_, haveKubectl := exec.LookPath(kubectl)
	n := 0
	for _, kind := range []string{"krakend", "kong", "envoy"} {
		paths, err := filepath.Glob(filepath.Join(corpusDir, kind, "*"))
		require.NoError(t, err)
		for _, p := range paths {
			c, err := loader.Load(p, "auto", loader.Options{})
			if err != nil {
				if strings.Contains(err.Error(), "flexible-configuration template") {
					continue // refused on purpose by the loader
				}
				require.NoError(t, err, p)
			}
			for _, mode := range []string{config.AutoscalingAdapter, config.AutoscalingKEDA} {
				t.Run(kind+"/"+filepath.Base(p)+"/"+mode, func(t *testing.T) {
					cfg, err := config.Load("gw.yaml", []byte("kubernetes: {autoscaling: {mode: "+mode+"}}\n"))
					require.NoError(t, err)
					cfg.Contract.Path = p
					files, err := Kubernetes(c, cfg)
					require.NoError(t, err)
					o := checkFiles(t, files, keda)
					if o.so != nil {
						checkQuery(t, o.so.Spec.Triggers[0].Metadata["query"])
					}
					if mode == config.AutoscalingAdapter && haveKubectl == nil {
						dir := t.TempDir()
						writeFiles(t, dir, files)
						kustomize(t, dir)
					}
				})
				n++
			}
		}
	}
	require.Positive(t, n)
	if haveKubectl != nil {
		t.Log("kubectl is not installed: the corpus folders were decoded but not built")
	}
}

func largeContract(n int) *contract.Contract {
	c := &contract.Contract{Gateway: contract.Kong, Name: "large"}
	for i := range n {
		c.Endpoints = append(c.Endpoints, contract.Endpoint{Name: "/v1/res" + strconv.Itoa(i) + "/{id}", Methods: []string{"GET"}})
	}
	return c
}

// TestLargeContract: only the PrometheusRule grows with the contract; the
// other objects are the same for 10 and 1,000 endpoints.
func TestLargeContract(t *testing.T) {
	small, err := Kubernetes(largeContract(10), nil)
	require.NoError(t, err)
	large, err := Kubernetes(largeContract(1000), nil)
	require.NoError(t, err)
	require.Equal(t, len(small), len(large))
	for i := range small {
		if small[i].Name == PrometheusRuleFile {
			continue
		}
		require.Equal(t, string(small[i].Content), string(large[i].Content), small[i].Name)
	}
}

// BenchmarkKubernetes1000 measures the folder for a 1,000-endpoint
// contract (most of it the rules generator's PrometheusRule).
func BenchmarkKubernetes1000(b *testing.B) {
	c := largeContract(1000)
	for b.Loop() {
		if _, err := Kubernetes(c, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestQueriesWithPromtool evaluates the autoscalers' queries in promtool's
// rule-test engine over two pods of the gateway (10 and 20 requests per
// second) and one pod of another gateway: KEDA's query gives the gateway's
// total, the adapter's rule — with the matchers prometheus-adapter builds
// from the HPA's pods and metric selector — one value per pod.
func TestQueriesWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus); the queries are only parsed")
	}
	c, cfg := setups[1].load(t) // KEDA, namespace edge, gateway shop
	files, err := Kubernetes(c, cfg)
	require.NoError(t, err)
	o := checkFiles(t, files, nil)
	kedaQuery := o.so.Spec.Triggers[0].Metadata["query"]
	cfg.Kubernetes.Autoscaling.Mode = config.AutoscalingAdapter
	files, err = Kubernetes(c, cfg)
	require.NoError(t, err)
	o = checkFiles(t, files, nil)
	adapterQuery := strings.NewReplacer(
		"<<.Series>>", schema.RequestsTotal.Name,
		"<<.LabelMatchers>>", `namespace="edge",pod=~"shop-a|shop-b",`+schema.LabelGateway+`="shop"`,
		"<<.GroupBy>>", "pod",
	).Replace(o.adapter.Rules[0].MetricsQuery)
	series := func(gateway, pod string, perMinute int) string {
		return "      - series: '" + schema.RequestsTotal.Name + `{` + schema.LabelGateway + `="` + gateway + `",namespace="edge",pod="` + pod + `",code="200"}'` + "\n" +
			"        values: '0+" + strconv.Itoa(perMinute) + "x10'\n"
	}
	test := "rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n" +
		series("shop", "shop-a", 600) + series("shop", "shop-b", 1200) + series("other", "other-a", 6000) +
		"    promql_expr_test:\n" +
		"      - expr: '" + kedaQuery + "'\n        eval_time: 10m\n        exp_samples:\n          - {labels: '{}', value: 30}\n" +
		"      - expr: '" + adapterQuery + "'\n        eval_time: 10m\n        exp_samples:\n" +
		"          - {labels: '{pod=\"shop-a\"}', value: 10}\n          - {labels: '{pod=\"shop-b\"}', value: 20}\n"
	path := filepath.Join(t.TempDir(), "queries_test.yml")
	require.NoError(t, os.WriteFile(path, []byte(test), 0o644))
	out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s\n%s", out, test)
}
