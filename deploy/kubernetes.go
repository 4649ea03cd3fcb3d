// Package deploy writes the Kubernetes manifests that run the gatewatch
// sidecar beside a gateway and wire it into a cluster's monitoring and
// autoscaling, and the files of the docker-compose demo stack.
//
// Kubernetes writes one folder that `kubectl kustomize` builds: a
// kustomize Component (included from the gateway's own kustomization with
// `components:`) holding a strategic-merge patch that adds the sidecar to
// the gateway's Deployment, a Service, a ServiceMonitor or PodMonitor, a
// PodDisruptionBudget, the PrometheusRule of the rules generator, and
// either an autoscaling/v2 HorizontalPodAutoscaler fed by
// prometheus-adapter or a KEDA ScaledObject — never both. Output is a pure
// function of the contract and gatewatch.yaml, byte for byte.
package deploy

import (
	"encoding/json"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// File is one generated file: its name inside the output folder and its
// content.
type File struct {
	Name    string
	Content []byte
}

// Names of the files Kubernetes writes.
const (
	KustomizationFile  = "kustomization.yaml"
	SidecarPatchFile   = "sidecar-patch.yaml"
	ServiceFile        = "service.yaml"
	ServiceMonitorFile = "servicemonitor.yaml"
	PodMonitorFile     = "podmonitor.yaml"
	PDBFile            = "poddisruptionbudget.yaml"
	HPAFile            = "horizontalpodautoscaler.yaml"
	ScaledObjectFile   = "scaledobject.yaml"
	PrometheusRuleFile = "prometheusrule.yaml"
	// AdapterFile is prometheus-adapter's configuration (its rules), for
	// the adapter's own deployment; it is not part of the Component.
	AdapterFile = "prometheus-adapter.yaml"
)

// Paths inside the sidecar container.
const (
	configDir = "/etc/gatewatch"
	podLogDir = "/var/log/pods"
	// portName names the sidecar's HTTP port in the pod (at most 15
	// characters, unlikely to clash with a gateway's own ports).
	portName = "gatewatch"
	// nonRootUID is the user of gcr.io/distroless/static:nonroot, the
	// image's base.
	nonRootUID = 65532
)

// Target labels prometheus-operator gives every scraped pod (not
// gatewatch's own labels, which are in package schema): the autoscaling
// queries select and group by them.
const (
	labelNamespace = "namespace"
	labelPod       = "pod"
)

// Volume names the patch adds to the gateway's pod.
const (
	volConfig = "gatewatch-config"
	volState  = "gatewatch-state"
	volLogs   = "gatewatch-logs"
)

// Kubernetes returns the files of the Kubernetes folder for contract c
// and configuration cfg (nil for the defaults), in a fixed order.
func Kubernetes(c *contract.Contract, cfg *config.Config) ([]File, error) {
	if cfg == nil {
		cfg = config.Default()
	}
	g, err := newGen(c, cfg)
	if err != nil {
		return nil, err
	}
	set, err := rules.Generate(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("generating rules: %w", err)
	}
	var files []File
	var resources []string
	add := func(name string, obj any, resource bool) error {
		b, err := marshal(obj)
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		files = append(files, File{Name: name, Content: b})
		if resource {
			resources = append(resources, name)
		}
		return nil
	}
	patch, err := g.sidecarPatch()
	if err != nil {
		return nil, err
	}
	type object struct {
		name     string
		obj      any
		resource bool // listed in the Component's resources
	}
	objs := []object{{SidecarPatchFile, patch, false}, {ServiceFile, g.service(), true}}
	if g.k.Monitor == config.MonitorPod {
		objs = append(objs, object{PodMonitorFile, g.podMonitor(), true})
	} else {
		objs = append(objs, object{ServiceMonitorFile, g.serviceMonitor(), true})
	}
	objs = append(objs, object{PDBFile, g.pdb(), true})
	switch g.k.Autoscaling.Mode {
	case config.AutoscalingAdapter:
		objs = append(objs, object{HPAFile, g.hpa(), true})
	case config.AutoscalingKEDA:
		objs = append(objs, object{ScaledObjectFile, g.scaledObject(), true})
	}
	objs = append(objs, object{PrometheusRuleFile, g.prometheusRule(set), true})
	for _, o := range objs {
		if err := add(o.name, o.obj, o.resource); err != nil {
			return nil, err
		}
	}
	if g.k.Autoscaling.Mode == config.AutoscalingAdapter {
		if err := add(AdapterFile, g.adapterConfig(), false); err != nil {
			return nil, err
		}
	}
	k, err := marshal(g.kustomization(resources))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", KustomizationFile, err)
	}
	return append([]File{{Name: KustomizationFile, Content: k}}, files...), nil
}

// gen holds what every object of one folder shares.
type gen struct {
	cfg        *config.Config
	k          *config.KubernetesConfig
	gateway    string // the gateway label's value
	deployment string
	podLabels  map[string]string
	port       int32
	contract   string // the contract's file name in the ConfigMap
}

func newGen(c *contract.Contract, cfg *config.Config) (*gen, error) {
	g := &gen{cfg: cfg, k: &cfg.Kubernetes, gateway: rules.GatewayName(c, cfg)}
	g.deployment = g.k.Deployment
	if g.deployment == "" {
		g.deployment = dnsLabel(g.gateway)
	}
	g.podLabels = g.k.PodLabels
	if len(g.podLabels) == 0 {
		g.podLabels = map[string]string{"app.kubernetes.io/name": g.deployment}
	}
	_, p, err := net.SplitHostPort(cfg.Sidecar.Listen)
	if err != nil {
		return nil, fmt.Errorf("sidecar.listen %q: %w", cfg.Sidecar.Listen, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("sidecar.listen %q: the pod needs a numeric port such as :9145", cfg.Sidecar.Listen)
	}
	g.port = int32(port)
	if cfg.Contract.Path != "" {
		g.contract = filepath.Base(cfg.Contract.Path)
	}
	return g, nil
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// dnsLabel makes a DNS-1123 label of a gateway name: lower case, runs of
// other characters as "-", at most 63 characters; "gateway" when nothing
// is left.
func dnsLabel(s string) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		return "gateway"
	}
	return s
}

// sidecarName names the objects that belong to the sidecar (the Service
// and the monitor): a DNS-1035 label (a letter first), at most 63
// characters.
func (g *gen) sidecarName() string {
	base := dnsLabel(g.deployment)
	if base[0] < 'a' || base[0] > 'z' {
		base = "gw-" + base
	}
	if len(base) > 53 {
		base = strings.TrimRight(base[:53], "-")
	}
	return base + "-gatewatch"
}

// labels are the labels of every generated object.
func (g *gen) labels(extra map[string]string) map[string]string {
	l := map[string]string{
		"app.kubernetes.io/name":       "gatewatch",
		"app.kubernetes.io/instance":   dnsLabel(g.deployment),
		"app.kubernetes.io/managed-by": "gatewatch",
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

func (g *gen) meta(name string, extra map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: g.k.Namespace, Labels: g.labels(extra)}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// logMount is one folder of access logs the sidecar reads.
type logMount struct{ volume, dir string }

// logMounts returns the folders holding the sidecar's logs, checked
// against the log source.
func (g *gen) logMounts() ([]logMount, error) {
	var dirs []string
	for i, l := range g.cfg.Sidecar.Logs {
		at := fmt.Sprintf("sidecar.logs[%d].path %q", i, l.Path)
		switch {
		case l.Path == "-":
			return nil, fmt.Errorf("%s: standard input cannot be read in a pod; have the gateway write its access log to a file on the shared volume (kubernetes.log_source: shared_volume), or read /var/log/pods (kubernetes.log_source: pod_logs)", at)
		case !path.IsAbs(l.Path):
			return nil, fmt.Errorf("%s: a path in the pod must be absolute, such as %s", at, config.DefaultSidecarLog)
		}
		underPods := strings.HasPrefix(l.Path, podLogDir+"/")
		if g.k.LogSource == config.LogSourcePodLogs {
			if !underPods {
				return nil, fmt.Errorf("%s: with kubernetes.log_source pod_logs every log must be under %s/ (such as %s/*_gateway-*/krakend/*.log)", at, podLogDir, podLogDir)
			}
			if l.Envelope != "cri" {
				return nil, fmt.Errorf("sidecar.logs[%d].envelope: files under %s are written by the container runtime; set envelope: cri", i, podLogDir)
			}
			continue
		}
		if underPods {
			return nil, fmt.Errorf("%s: %s is the node's folder; set kubernetes.log_source: pod_logs to read it", at, podLogDir)
		}
		dir := staticDir(l.Path)
		if dir == "/" {
			return nil, fmt.Errorf("%s: the log needs a folder of its own to share, such as /var/log/gateway/", at)
		}
		if !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	if g.k.LogSource == config.LogSourcePodLogs {
		return []logMount{{volume: volLogs, dir: podLogDir}}, nil
	}
	slices.Sort(dirs)
	ms := make([]logMount, len(dirs))
	for i, d := range dirs {
		ms[i] = logMount{volume: volLogs, dir: d}
		if len(dirs) > 1 {
			ms[i].volume = volLogs + "-" + strconv.Itoa(i+1)
		}
	}
	return ms, nil
}

// staticDir is the folder of a log path before any glob character.
func staticDir(p string) string {
	if i := strings.IndexAny(p, "*?["); i >= 0 {
		p = p[:i]
		if !strings.HasSuffix(p, "/") {
			return path.Dir(p)
		}
		return path.Clean(p)
	}
	return path.Dir(p)
}

// stateDirs are the folders the sidecar writes (checkpoints); the root
// filesystem is read-only.
func (g *gen) stateDirs() []string {
	dirs := []string{path.Clean(g.cfg.Sidecar.CheckpointDir)}
	if g.cfg.Shipper.Enabled {
		if d := path.Dir(g.cfg.ShipperCheckpointPath()); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func (g *gen) sidecarPatch() (*appsv1.Deployment, error) {
	logs, err := g.logMounts()
	if err != nil {
		return nil, err
	}
	for _, d := range g.stateDirs() {
		if !path.IsAbs(d) {
			return nil, fmt.Errorf("checkpoint folder %q: a path in the pod must be absolute, such as %s", d, config.DefaultCheckpointDir)
		}
	}
	args := []string{"sidecar"}
	if g.cfg.File != "" {
		args = append(args, "-c", configDir+"/gatewatch.yaml")
	}
	if g.contract != "" {
		args = append(args, "--contract", configDir+"/"+g.contract)
	}
	var volumes []corev1.Volume
	mounts := []corev1.VolumeMount{{Name: volConfig, MountPath: configDir, ReadOnly: true}}
	volumes = append(volumes, corev1.Volume{Name: volConfig, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: g.k.ConfigMap}},
	}})
	var gatewayMounts []corev1.VolumeMount
	for _, m := range logs {
		src := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		if g.k.LogSource == config.LogSourcePodLogs {
			t := corev1.HostPathDirectory
			src = corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: podLogDir, Type: &t}}
		} else {
			gatewayMounts = append(gatewayMounts, corev1.VolumeMount{Name: m.volume, MountPath: m.dir})
		}
		volumes = append(volumes, corev1.Volume{Name: m.volume, VolumeSource: src})
		mounts = append(mounts, corev1.VolumeMount{Name: m.volume, MountPath: m.dir, ReadOnly: true})
	}
	for i, d := range g.stateDirs() {
		name := volState
		if i > 0 {
			name += "-" + strconv.Itoa(i+1)
		}
		volumes = append(volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: d})
	}
	res, err := g.resources()
	if err != nil {
		return nil, err
	}
	env := []corev1.EnvVar{
		{Name: "GATEWATCH_TRACK", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: labelPath(g.k.TrackLabel)}}},
		{Name: "GATEWATCH_VERSION", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: labelPath(g.k.VersionLabel)}}},
	}
	if _, ok := res.Limits[corev1.ResourceMemory]; ok {
		// The Go runtime keeps its heap under the container's limit.
		env = append(env, corev1.EnvVar{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
			ContainerName: config.SidecarContainer, Resource: "limits.memory", Divisor: resource.MustParse("1"),
		}}})
	}
	probe := func(p string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: p, Port: intstr.FromString(portName)}},
			PeriodSeconds: 10, TimeoutSeconds: 2, FailureThreshold: 3,
		}
	}
	uid := int64(nonRootUID)
	sidecar := corev1.Container{
		Name:           config.SidecarContainer,
		Image:          g.k.Image,
		Args:           args,
		Env:            env,
		Ports:          []corev1.ContainerPort{{Name: portName, ContainerPort: g.port, Protocol: corev1.ProtocolTCP}},
		LivenessProbe:  probe("/healthz"),
		ReadinessProbe: probe("/readyz"),
		Resources:      res,
		VolumeMounts:   mounts,
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr(true),
			RunAsUser:                &uid,
			RunAsGroup:               &uid,
			ReadOnlyRootFilesystem:   ptr(true),
			AllowPrivilegeEscalation: ptr(false),
			Privileged:               ptr(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	containers := []corev1.Container{sidecar}
	if len(gatewayMounts) > 0 {
		// Merged by name into the gateway's own container: only the
		// mounts are added.
		containers = append([]corev1.Container{{Name: g.k.Container, VolumeMounts: gatewayMounts}}, containers...)
	}
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: metav1.ObjectMeta{Name: g.deployment},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: containers,
			Volumes:    volumes,
		}}},
	}, nil
}

func labelPath(label string) string { return "metadata.labels['" + label + "']" }

func (g *gen) resources() (corev1.ResourceRequirements, error) {
	conv := func(m map[string]string) (corev1.ResourceList, error) {
		if len(m) == 0 {
			return nil, nil
		}
		l := corev1.ResourceList{}
		for k, v := range m {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				return nil, fmt.Errorf("kubernetes.resources %s: %q is not a quantity", k, v)
			}
			l[corev1.ResourceName(k)] = q
		}
		return l, nil
	}
	req, err := conv(g.k.Resources.Requests)
	if err != nil {
		return corev1.ResourceRequirements{}, err
	}
	lim, err := conv(g.k.Resources.Limits)
	if err != nil {
		return corev1.ResourceRequirements{}, err
	}
	return corev1.ResourceRequirements{Requests: req, Limits: lim}, nil
}

func (g *gen) service() *corev1.Service {
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: g.meta(g.sidecarName(), nil),
		Spec: corev1.ServiceSpec{
			Selector: g.podLabels,
			Ports: []corev1.ServicePort{{
				Name: portName, Port: g.port, TargetPort: intstr.FromString(portName), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// relabelings give every target the gateway and job labels the rules
// select: up{gateway=..., job=...} exists even when the sidecar is down.
// The sidecar's own gateway label wins (honorLabels).
func (g *gen) relabelings() []monitoringv1.RelabelConfig {
	gw, job := g.gateway, g.cfg.Alerting.Job
	return []monitoringv1.RelabelConfig{
		{Action: "replace", TargetLabel: schema.LabelGateway, Replacement: &gw},
		{Action: "replace", TargetLabel: model.JobLabel, Replacement: &job},
	}
}

func (g *gen) serviceMonitor() *monitoringv1.ServiceMonitor {
	return &monitoringv1.ServiceMonitor{
		TypeMeta:   typeMeta("monitoring.coreos.com/v1", monitoringv1.ServiceMonitorsKind),
		ObjectMeta: g.meta(g.sidecarName(), g.k.OperatorLabels),
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector: metav1.LabelSelector{MatchLabels: g.labels(nil)},
			Endpoints: []monitoringv1.Endpoint{{
				Port: portName, Path: "/metrics", HonorLabels: true, RelabelConfigs: g.relabelings(),
			}},
		},
	}
}

func (g *gen) podMonitor() *monitoringv1.PodMonitor {
	port := portName
	return &monitoringv1.PodMonitor{
		TypeMeta:   typeMeta("monitoring.coreos.com/v1", monitoringv1.PodMonitorsKind),
		ObjectMeta: g.meta(g.sidecarName(), g.k.OperatorLabels),
		Spec: monitoringv1.PodMonitorSpec{
			Selector: metav1.LabelSelector{MatchLabels: g.podLabels},
			PodMetricsEndpoints: []monitoringv1.PodMetricsEndpoint{{
				Port: &port, Path: "/metrics", HonorLabels: true, RelabelConfigs: g.relabelings(),
			}},
		},
	}
}

func (g *gen) pdb() *policyv1.PodDisruptionBudget {
	mu := intstr.FromInt32(int32(g.k.MaxUnavailable))
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
		ObjectMeta: g.meta(g.deployment, nil),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &mu,
			Selector:       &metav1.LabelSelector{MatchLabels: g.podLabels},
		},
	}
}

// RequestsPerSecondMetric is the custom metric prometheus-adapter serves
// from schema.RequestsTotal by its rule ("^(.*)_total$" as
// "${1}_per_second"): gatewatch_http_requests_per_second.
func RequestsPerSecondMetric() string {
	return strings.TrimSuffix(schema.RequestsTotal.Name, "_total") + "_per_second"
}

func (g *gen) behavior() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	w := int32(g.k.Autoscaling.ScaleDownStabilization.Std().Seconds())
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: &w,
			// At most half the pods a minute, so that a dip in traffic
			// (or in the metric) cannot empty the Deployment at once.
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}},
		},
	}
}

func (g *gen) capacity() resource.Quantity {
	return *resource.NewMilliQuantity(int64(g.k.Autoscaling.CapacityPerPod*1000+0.5), resource.DecimalSI)
}

func (g *gen) hpa() *autoscalingv2.HorizontalPodAutoscaler {
	a := &g.k.Autoscaling
	minR := int32(a.MinReplicas)
	var metrics []autoscalingv2.MetricSpec
	for _, r := range []struct {
		name corev1.ResourceName
		pct  int
	}{{corev1.ResourceCPU, *a.CPUUtilization}, {corev1.ResourceMemory, *a.MemoryUtilization}} {
		if r.pct == 0 {
			continue
		}
		u := int32(r.pct)
		metrics = append(metrics, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: r.name, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u,
			}},
		})
	}
	q := g.capacity()
	metrics = append(metrics, autoscalingv2.MetricSpec{
		Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{
				Name:     RequestsPerSecondMetric(),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{schema.LabelGateway: g.gateway}},
			},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
		},
	})
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   typeMeta("autoscaling/v2", "HorizontalPodAutoscaler"),
		ObjectMeta: g.meta(g.deployment, nil),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: g.deployment},
			MinReplicas:    &minR,
			MaxReplicas:    int32(a.MaxReplicas),
			Metrics:        metrics,
			Behavior:       g.behavior(),
		},
	}
}

// RequestsPerSecondQuery is the KEDA trigger's query: the requests per
// second of every pod of the gateway together (KEDA divides it by the
// number of pods, as the HorizontalPodAutoscaler does with the adapter's
// per-pod metric).
func (g *gen) requestsPerSecondQuery() string {
	ms := []string{schema.LabelGateway + "=" + strconv.Quote(g.gateway)}
	if g.k.Namespace != "" {
		ms = append(ms, labelNamespace+"="+strconv.Quote(g.k.Namespace))
	}
	return "sum(rate(" + schema.RequestsTotal.Name + "{" + strings.Join(ms, ", ") + "}[" + g.k.Autoscaling.RateWindow.String() + "]))"
}

func (g *gen) scaledObject() *ScaledObject {
	a := &g.k.Autoscaling
	minR, maxR := int32(a.MinReplicas), int32(a.MaxReplicas)
	q := g.capacity()
	triggers := []ScaleTrigger{{
		Type: "prometheus",
		Name: "requests-per-second",
		Metadata: map[string]string{
			"serverAddress": a.PrometheusURL,
			"query":         g.requestsPerSecondQuery(),
			"threshold":     q.String(),
		},
		MetricType: autoscalingv2.AverageValueMetricType,
	}}
	for _, r := range []struct {
		name string
		pct  int
	}{{"cpu", *a.CPUUtilization}, {"memory", *a.MemoryUtilization}} {
		if r.pct == 0 {
			continue
		}
		triggers = append(triggers, ScaleTrigger{
			Type: r.name, MetricType: autoscalingv2.UtilizationMetricType,
			Metadata: map[string]string{"value": strconv.Itoa(r.pct)},
		})
	}
	return &ScaledObject{
		TypeMeta:   typeMeta(KEDAAPIVersion, "ScaledObject"),
		ObjectMeta: g.meta(g.deployment, nil),
		Spec: ScaledObjectSpec{
			ScaleTargetRef:  ScaleTarget{APIVersion: "apps/v1", Kind: "Deployment", Name: g.deployment},
			MinReplicaCount: &minR,
			MaxReplicaCount: &maxR,
			Advanced: &AdvancedConfig{HorizontalPodAutoscalerConfig: &HPAConfig{
				Behavior: g.behavior(),
			}},
			Triggers: triggers,
		},
	}
}

// AdapterConfig is prometheus-adapter's configuration file: the rules
// that turn Prometheus series into custom metrics (docs/config.md of
// kubernetes-sigs/prometheus-adapter).
type AdapterConfig struct {
	Rules []AdapterRule `json:"rules"`
}

// AdapterRule is one discovery rule of prometheus-adapter.
type AdapterRule struct {
	SeriesQuery  string           `json:"seriesQuery"`
	Resources    AdapterResources `json:"resources"`
	Name         AdapterName      `json:"name"`
	MetricsQuery string           `json:"metricsQuery"`
}

// AdapterResources maps series labels to Kubernetes resources.
type AdapterResources struct {
	Overrides map[string]AdapterResource `json:"overrides"`
}

// AdapterResource is one Kubernetes resource a label names.
type AdapterResource struct {
	Resource string `json:"resource"`
}

// AdapterName renames the series into the metric's name.
type AdapterName struct {
	Matches string `json:"matches"`
	As      string `json:"as"`
}

// adapterConfig serves RequestsPerSecondMetric for every gateway's pods:
// the HorizontalPodAutoscaler picks its gateway with a metric selector,
// so that two gateways do not declare the same metric twice.
func (g *gen) adapterConfig() *AdapterConfig {
	return &AdapterConfig{Rules: []AdapterRule{{
		SeriesQuery: schema.RequestsTotal.Name + "{" + labelNamespace + `!="",` + labelPod + `!=""}`,
		Resources: AdapterResources{Overrides: map[string]AdapterResource{
			labelNamespace: {Resource: "namespace"},
			labelPod:       {Resource: "pod"},
		}},
		Name:         AdapterName{Matches: "^(.*)_total$", As: "${1}_per_second"},
		MetricsQuery: "sum(rate(<<.Series>>{<<.LabelMatchers>>}[" + g.k.Autoscaling.RateWindow.String() + "])) by (<<.GroupBy>>)",
	}}}
}

func (g *gen) prometheusRule(s *rules.Set) *monitoringv1.PrometheusRule {
	pr := s.PrometheusRule()
	pr.Namespace = g.k.Namespace
	for k, v := range g.k.OperatorLabels {
		pr.Labels[k] = v
	}
	return pr
}

// Kustomization is a kustomize Component: resources and patches that a
// gateway's kustomization includes with `components:`.
type Kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Patches    []Patch  `json:"patches"`
}

// Patch is a kustomize patch from a file, applied to the objects its
// target selects.
type Patch struct {
	Path   string      `json:"path"`
	Target PatchTarget `json:"target"`
}

// PatchTarget selects the objects a patch applies to.
type PatchTarget struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
}

func (g *gen) kustomization(resources []string) *Kustomization {
	return &Kustomization{
		APIVersion: "kustomize.config.k8s.io/v1alpha1",
		Kind:       "Component",
		Resources:  resources,
		Patches: []Patch{{Path: SidecarPatchFile, Target: PatchTarget{
			Group: "apps", Version: "v1", Kind: "Deployment", Name: g.deployment,
		}}},
	}
}

func ptr[T any](v T) *T { return &v }

// marshal writes an object as YAML with sorted keys, leaving out what the
// API types write for unset fields: nulls, empty objects and the status.
// In a strategic-merge patch a null would delete the field. An emptyDir
// volume's {} is meaningful and kept.
func marshal(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	return yaml.Marshal(prune(m))
}

func prune(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			v = prune(v)
			if sub, ok := v.(map[string]any); v == nil || ok && len(sub) == 0 && k != "emptyDir" {
				delete(x, k)
				continue
			}
			x[k] = v
		}
	case []any:
		for i, v := range x {
			x[i] = prune(v)
		}
	}
	return x
}
