package config

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// KubernetesConfig is the kubernetes section of gatewatch.yaml: how
// `gatewatch generate kubernetes` adds the sidecar to the gateway's pods,
// scrapes it, autoscales the gateway and installs the rules.
type KubernetesConfig struct {
	// Namespace of the generated objects ("" leaves it to kubectl -n or
	// the including kustomization).
	Namespace string `yaml:"namespace"`
	// Deployment is the name of the gateway's Deployment (default: the
	// gateway name as a DNS label).
	Deployment string `yaml:"deployment"`
	// Container is the name of the gateway's container in that
	// Deployment (default "gateway"); with log_source shared_volume the
	// log volume is mounted into it.
	Container string `yaml:"container"`
	// PodLabels select the gateway's pods, for the Service, the
	// PodDisruptionBudget and a PodMonitor (default
	// app.kubernetes.io/name: <deployment>).
	PodLabels map[string]string `yaml:"pod_labels"`
	// Image of the gatewatch sidecar (default gatewatch:latest, what the
	// repository's Dockerfile builds).
	Image string `yaml:"image"`
	// ConfigMap holds gatewatch.yaml and the contract, mounted at
	// /etc/gatewatch (default "gatewatch").
	ConfigMap string `yaml:"config_map"`
	// LogSource is shared_volume (default: an emptyDir both containers
	// mount at the folder of each sidecar.logs path) or pod_logs (the
	// node's /var/log/pods, read-only, with envelope cri).
	LogSource string `yaml:"log_source"`
	// TrackLabel and VersionLabel are the pod labels the downward API
	// passes as GATEWATCH_TRACK and GATEWATCH_VERSION (default track and
	// app.kubernetes.io/version).
	TrackLabel   string `yaml:"track_label"`
	VersionLabel string `yaml:"version_label"`
	// Resources of the sidecar container (default requests cpu 20m,
	// memory 32Mi; limits memory 128Mi).
	Resources ResourcesConfig `yaml:"resources"`
	// Monitor is service_monitor (default) or pod_monitor.
	Monitor string `yaml:"monitor"`
	// OperatorLabels are put on the PrometheusRule and the
	// ServiceMonitor or PodMonitor, for a Prometheus that selects them by
	// label (kube-prometheus-stack: release: <its release name>).
	OperatorLabels map[string]string `yaml:"operator_labels"`
	// MaxUnavailable bounds voluntary disruptions (PodDisruptionBudget,
	// default 1).
	MaxUnavailable int `yaml:"max_unavailable"`
	// Autoscaling configures the HorizontalPodAutoscaler or the KEDA
	// ScaledObject.
	Autoscaling AutoscalingConfig `yaml:"autoscaling"`
}

// ResourcesConfig is a container's requests and limits: cpu and memory as
// Kubernetes quantities.
type ResourcesConfig struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

// AutoscalingConfig scales the gateway on CPU, memory and requests per
// second per pod.
type AutoscalingConfig struct {
	// Mode is adapter (default: an autoscaling/v2 HorizontalPodAutoscaler
	// reading requests per second from prometheus-adapter), keda (a KEDA
	// ScaledObject with a Prometheus trigger instead) or none.
	Mode string `yaml:"mode"`
	// CapacityPerPod is the requests per second one pod should serve:
	// the per-pod target (default 100).
	CapacityPerPod float64 `yaml:"capacity_per_pod"`
	// MinReplicas and MaxReplicas bound the Deployment (default 3 and 10).
	MinReplicas int `yaml:"min_replicas"`
	MaxReplicas int `yaml:"max_replicas"`
	// CPUUtilization and MemoryUtilization are the target utilisations in
	// percent of the pods' requests (default 70 and 80; 0 leaves the
	// resource out).
	CPUUtilization    *int `yaml:"cpu_utilization"`
	MemoryUtilization *int `yaml:"memory_utilization"`
	// ScaleDownStabilization is how long the lowest recommendation must
	// hold before pods are removed (default 5m).
	ScaleDownStabilization Duration `yaml:"scale_down_stabilization"`
	// RateWindow is the rate() window of the requests-per-second query
	// (default 2m).
	RateWindow Duration `yaml:"rate_window"`
	// PrometheusURL is the Prometheus KEDA queries (default
	// http://prometheus-operated.monitoring.svc:9090).
	PrometheusURL string `yaml:"prometheus_url"`
}

// Kubernetes defaults and choices.
const (
	DefaultKubernetesContainer     = "gateway"
	DefaultKubernetesImage         = "gatewatch:latest"
	DefaultKubernetesConfigMap     = "gatewatch"
	DefaultTrackLabel              = "track"
	DefaultVersionLabel            = "app.kubernetes.io/version"
	DefaultCapacityPerPod          = 100
	DefaultMinReplicas             = 3
	DefaultMaxReplicas             = 10
	DefaultCPUUtilization          = 70
	DefaultMemoryUtilization       = 80
	DefaultScaleDownWindow         = 5 * time.Minute
	DefaultRateWindow              = 2 * time.Minute
	DefaultKubernetesPrometheusURL = "http://prometheus-operated.monitoring.svc:9090"

	LogSourceSharedVolume = "shared_volume"
	LogSourcePodLogs      = "pod_logs"

	AutoscalingAdapter = "adapter"
	AutoscalingKEDA    = "keda"
	AutoscalingNone    = "none"

	MonitorService = "service_monitor"
	MonitorPod     = "pod_monitor"
)

func (c *KubernetesConfig) applyDefaults() {
	if c.Container == "" {
		c.Container = DefaultKubernetesContainer
	}
	if c.Image == "" {
		c.Image = DefaultKubernetesImage
	}
	if c.ConfigMap == "" {
		c.ConfigMap = DefaultKubernetesConfigMap
	}
	if c.LogSource == "" {
		c.LogSource = LogSourceSharedVolume
	}
	if c.TrackLabel == "" {
		c.TrackLabel = DefaultTrackLabel
	}
	if c.VersionLabel == "" {
		c.VersionLabel = DefaultVersionLabel
	}
	if c.Resources.Requests == nil && c.Resources.Limits == nil {
		c.Resources = ResourcesConfig{
			Requests: map[string]string{"cpu": "20m", "memory": "32Mi"},
			Limits:   map[string]string{"memory": "128Mi"},
		}
	}
	if c.Monitor == "" {
		c.Monitor = MonitorService
	}
	if c.MaxUnavailable == 0 {
		c.MaxUnavailable = 1
	}
	a := &c.Autoscaling
	if a.Mode == "" {
		a.Mode = AutoscalingAdapter
	}
	if a.CapacityPerPod == 0 {
		a.CapacityPerPod = DefaultCapacityPerPod
	}
	if a.MinReplicas == 0 {
		a.MinReplicas = DefaultMinReplicas
	}
	if a.MaxReplicas == 0 {
		a.MaxReplicas = DefaultMaxReplicas
	}
	if a.CPUUtilization == nil {
		v := DefaultCPUUtilization
		a.CPUUtilization = &v
	}
	if a.MemoryUtilization == nil {
		v := DefaultMemoryUtilization
		a.MemoryUtilization = &v
	}
	if a.ScaleDownStabilization == 0 {
		a.ScaleDownStabilization = Duration(DefaultScaleDownWindow)
	}
	if a.RateWindow == 0 {
		a.RateWindow = Duration(DefaultRateWindow)
	}
	if a.PrometheusURL == "" {
		a.PrometheusURL = DefaultKubernetesPrometheusURL
	}
}

func (c *KubernetesConfig) validate(v *validator) {
	at := func(p ...any) []any { return append([]any{"kubernetes"}, p...) }
	if c.Namespace != "" {
		for _, e := range validation.IsDNS1123Label(c.Namespace) {
			v.errorf(at("namespace"), "%q is not a namespace name: %s", c.Namespace, e)
		}
	}
	if c.Deployment != "" {
		for _, e := range validation.IsDNS1123Subdomain(c.Deployment) {
			v.errorf(at("deployment"), "%q is not a Deployment name: %s", c.Deployment, e)
		}
	}
	for _, e := range validation.IsDNS1123Label(c.Container) {
		v.errorf(at("container"), "%q is not a container name: %s", c.Container, e)
	}
	if c.Container == SidecarContainer {
		v.errorf(at("container"), "%q is the sidecar's own container name; name the gateway's container", c.Container)
	}
	for _, e := range validation.IsDNS1123Subdomain(c.ConfigMap) {
		v.errorf(at("config_map"), "%q is not a ConfigMap name: %s", c.ConfigMap, e)
	}
	if strings.TrimSpace(c.Image) != c.Image || strings.ContainsAny(c.Image, " \t\n") {
		v.errorf(at("image"), "%q is not an image reference such as registry.example.com/gatewatch:1.2.3", c.Image)
	}
	validateLabels(v, at("pod_labels"), c.PodLabels)
	validateLabels(v, at("operator_labels"), c.OperatorLabels)
	for _, k := range []struct{ key, val string }{{"track_label", c.TrackLabel}, {"version_label", c.VersionLabel}} {
		for _, e := range validation.IsQualifiedName(k.val) {
			v.errorf(at(k.key), "%q is not a label key: %s", k.val, e)
		}
	}
	if !slices.Contains([]string{LogSourceSharedVolume, LogSourcePodLogs}, c.LogSource) {
		v.errorf(at("log_source"), "unknown log_source %q; expected shared_volume or pod_logs", c.LogSource)
	}
	if !slices.Contains([]string{MonitorService, MonitorPod}, c.Monitor) {
		v.errorf(at("monitor"), "unknown monitor %q; expected service_monitor or pod_monitor", c.Monitor)
	}
	for name, m := range map[string]map[string]string{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
		for _, k := range sortedKeys(m) {
			if k != "cpu" && k != "memory" {
				v.errorf(at("resources", name, k), "unknown resource %q; expected cpu or memory", k)
				continue
			}
			if _, err := resource.ParseQuantity(m[k]); err != nil {
				v.errorf(at("resources", name, k), "%q is not a quantity such as 100m, 0.5 or 64Mi", m[k])
			}
		}
	}
	if c.MaxUnavailable < 0 {
		v.errorf(at("max_unavailable"), "must be at least 1 (default 1)")
	}
	a := &c.Autoscaling
	aa := func(p string) []any { return at("autoscaling", p) }
	if !slices.Contains([]string{AutoscalingAdapter, AutoscalingKEDA, AutoscalingNone}, a.Mode) {
		v.errorf(aa("mode"), "unknown mode %q; expected adapter (HorizontalPodAutoscaler and prometheus-adapter), keda (a KEDA ScaledObject) or none", a.Mode)
	}
	if a.CapacityPerPod <= 0 || a.CapacityPerPod > 1e6 {
		v.errorf(aa("capacity_per_pod"), "%v is out of range; expected requests per second per pod, more than 0 (default 100)", a.CapacityPerPod)
	}
	if a.MinReplicas < 1 {
		v.errorf(aa("min_replicas"), "must be at least 1 (default 3)")
	}
	if a.MaxReplicas < a.MinReplicas {
		v.errorf(aa("max_replicas"), "%d is below min_replicas %d", a.MaxReplicas, a.MinReplicas)
	}
	if a.MinReplicas >= 1 && c.MaxUnavailable >= a.MinReplicas && a.Mode != AutoscalingNone {
		v.errorf(at("max_unavailable"), "%d would let a disruption take every pod of min_replicas %d; expected less than min_replicas", c.MaxUnavailable, a.MinReplicas)
	}
	for _, u := range []struct {
		key string
		val *int
	}{{"cpu_utilization", a.CPUUtilization}, {"memory_utilization", a.MemoryUtilization}} {
		if *u.val < 0 || *u.val > 1000 {
			v.errorf(aa(u.key), "%d is out of range; expected a percentage of the pods' requests, 1 to 1000, or 0 to leave it out", *u.val)
		}
	}
	if w := a.ScaleDownStabilization.Std(); w < 0 || w > time.Hour {
		v.errorf(aa("scale_down_stabilization"), "%s is out of range; expected 0 to 1h (default 5m)", a.ScaleDownStabilization)
	}
	if w := a.RateWindow.Std(); w < 30*time.Second || w > time.Hour {
		v.errorf(aa("rate_window"), "%s is out of range; expected 30s to 1h, at least four scrape intervals (default 2m)", a.RateWindow)
	}
	if u, err := url.Parse(a.PrometheusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		v.errorf(aa("prometheus_url"), "%q is not an http(s) URL without credentials such as http://prometheus-operated.monitoring.svc:9090", a.PrometheusURL)
	}
}

// SidecarContainer is the name of the sidecar's container in the gateway's
// pod.
const SidecarContainer = "gatewatch"

func validateLabels(v *validator, at []any, m map[string]string) {
	for _, k := range sortedKeys(m) {
		for _, e := range validation.IsQualifiedName(k) {
			v.errorf(append(at, k), "%q is not a label key: %s", k, e)
		}
		for _, e := range validation.IsValidLabelValue(m[k]) {
			v.errorf(append(at, k), "%q is not a label value: %s", m[k], e)
		}
	}
}
