package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestKubernetesDefaults(t *testing.T) {
	c, err := Load("gw.yaml", []byte("kubernetes: {}\n"))
	require.NoError(t, err)
	k := c.Kubernetes
	require.Equal(t, "gateway", k.Container)
	require.Equal(t, "gatewatch:latest", k.Image)
	require.Equal(t, LogSourceSharedVolume, k.LogSource)
	require.Equal(t, MonitorService, k.Monitor)
	require.Equal(t, 1, k.MaxUnavailable)
	require.Equal(t, map[string]string{"cpu": "20m", "memory": "32Mi"}, k.Resources.Requests)
	a := k.Autoscaling
	require.Equal(t, AutoscalingAdapter, a.Mode)
	require.Equal(t, 3, a.MinReplicas)
	require.Equal(t, 10, a.MaxReplicas)
	require.InDelta(t, 100, a.CapacityPerPod, 0)
	require.Equal(t, 70, *a.CPUUtilization)
	require.Equal(t, 80, *a.MemoryUtilization)
	require.Equal(t, 5*time.Minute, a.ScaleDownStabilization.Std())
	require.Equal(t, 2*time.Minute, a.RateWindow.Std())
}

func TestKubernetesFull(t *testing.T) {
	c, err := Load("gw.yaml", []byte(`
kubernetes:
  namespace: edge
  deployment: api-gateway
  container: krakend
  pod_labels: {app: api-gateway}
  image: registry.example.com/gatewatch:1.2.3
  config_map: gw
  log_source: pod_logs
  resources: {requests: {cpu: 50m}, limits: {cpu: "1", memory: 256Mi}}
  monitor: pod_monitor
  operator_labels: {release: kube-prometheus-stack}
  max_unavailable: 2
  autoscaling:
    mode: keda
    capacity_per_pod: 250.5
    min_replicas: 4
    max_replicas: 40
    cpu_utilization: 0
    scale_down_stabilization: 10m
    rate_window: 1m
    prometheus_url: http://prometheus:9090
`))
	require.NoError(t, err)
	k := c.Kubernetes
	require.Equal(t, "edge", k.Namespace)
	require.Equal(t, map[string]string{"cpu": "50m"}, k.Resources.Requests)
	require.Equal(t, 0, *k.Autoscaling.CPUUtilization)
	require.Equal(t, 80, *k.Autoscaling.MemoryUtilization)
	require.InDelta(t, 250.5, k.Autoscaling.CapacityPerPod, 0)
	require.Equal(t, "keda", k.Autoscaling.Mode)
}

func TestKubernetesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"kubernetes: {replicas: 3}\n", `gw.yaml:1:14: unknown key "replicas" in kubernetes; expected one of: autoscaling, `},
		{"kubernetes:\n  autoscaling: {Mode: keda}\n", `gw.yaml:2:17: unknown key "Mode" in kubernetes.autoscaling`},
		{"kubernetes:\n  namespace: Edge_1\n", `gw.yaml:2:3: kubernetes.namespace: "Edge_1" is not a namespace name`},
		{"kubernetes:\n  container: gatewatch\n", `gw.yaml:2:3: kubernetes.container: "gatewatch" is the sidecar's own container name`},
		{"kubernetes:\n  log_source: stdout\n", `gw.yaml:2:3: kubernetes.log_source: unknown log_source "stdout"; expected shared_volume or pod_logs`},
		{"kubernetes:\n  resources: {requests: {cpu: lots}}\n", `gw.yaml:2:26: kubernetes.resources.requests.cpu: "lots" is not a quantity`},
		{"kubernetes:\n  resources: {limits: {gpu: 1}}\n", `gw.yaml:2:24: kubernetes.resources.limits.gpu: unknown resource "gpu"; expected cpu or memory`},
		{"kubernetes:\n  operator_labels: {release: 'a b'}\n", `gw.yaml:2:21: kubernetes.operator_labels.release: "a b" is not a label value`},
		{"kubernetes:\n  autoscaling: {mode: both}\n", `gw.yaml:2:17: kubernetes.autoscaling.mode: unknown mode "both"`},
		{"kubernetes:\n  autoscaling: {min_replicas: 5, max_replicas: 4}\n", `gw.yaml:2:34: kubernetes.autoscaling.max_replicas: 4 is below min_replicas 5`},
		{"kubernetes:\n  autoscaling: {capacity_per_pod: -1}\n", `gw.yaml:2:17: kubernetes.autoscaling.capacity_per_pod: -1 is out of range`},
		{"kubernetes:\n  autoscaling: {min_replicas: 1}\n", `gw.yaml:1:1: kubernetes.max_unavailable: 1 would let a disruption take every pod of min_replicas 1`},
		{"kubernetes:\n  autoscaling: {rate_window: 10s}\n", `gw.yaml:2:17: kubernetes.autoscaling.rate_window: 10s is out of range`},
		{"kubernetes:\n  autoscaling: {prometheus_url: 'http://u:p@prom:9090'}\n", `gw.yaml:2:17: kubernetes.autoscaling.prometheus_url: "http://u:p@prom:9090" is not an http(s) URL without credentials`},
		{"kubernetes:\n  autoscaling: {cpu_utilization: -5}\n", `gw.yaml:2:17: kubernetes.autoscaling.cpu_utilization: -5 is out of range`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			_, err := Load("gw.yaml", []byte(tc.in))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), "got %q, want prefix %q", err.Error(), tc.want)
		})
	}
}

// FuzzKubernetesSection loads arbitrary kubernetes sections: never a
// panic, every error names the file, and a loaded section is complete.
func FuzzKubernetesSection(f *testing.F) {
	f.Add("kubernetes: {}\n")
	f.Add("kubernetes:\n  namespace: edge\n  log_source: pod_logs\n  resources: {requests: {cpu: 50m}}\n  autoscaling: {mode: keda, capacity_per_pod: 20, min_replicas: 2}\n")
	f.Add("kubernetes:\n  operator_labels: {release: x}\n  pod_labels: {'a/b': c}\n  autoscaling: {cpu_utilization: 0, rate_window: 1h}\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := Load("gw.yaml", []byte(in))
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "gw.yaml"), "error without the file name: %v", err)
			return
		}
		a := c.Kubernetes.Autoscaling
		require.NotNil(t, a.CPUUtilization)
		require.NotNil(t, a.MemoryUtilization)
		require.GreaterOrEqual(t, a.MaxReplicas, a.MinReplicas)
		require.Positive(t, a.CapacityPerPod)
	})
}
