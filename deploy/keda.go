package deploy

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KEDAAPIVersion is the API version of KEDA's ScaledObject.
const KEDAAPIVersion = "keda.sh/v1alpha1"

// The types below are the part of KEDA's ScaledObject (kedacore/keda
// v2.21.0, apis/keda/v1alpha1) that gatewatch writes, with KEDA's json
// tags. KEDA's own module needs a newer Go and controller-runtime.

// ScaledObject scales a Deployment on KEDA triggers.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ScaledObjectSpec `json:"spec"`
}

// ScaledObjectSpec is the spec of a ScaledObject.
type ScaledObjectSpec struct {
	ScaleTargetRef  ScaleTarget     `json:"scaleTargetRef"`
	PollingInterval *int32          `json:"pollingInterval,omitempty"`
	CooldownPeriod  *int32          `json:"cooldownPeriod,omitempty"`
	MinReplicaCount *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount *int32          `json:"maxReplicaCount,omitempty"`
	Advanced        *AdvancedConfig `json:"advanced,omitempty"`
	Triggers        []ScaleTrigger  `json:"triggers"`
}

// ScaleTarget names the scaled object (default apps/v1 Deployment).
type ScaleTarget struct {
	Name       string `json:"name"`
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
}

// AdvancedConfig holds the settings of the HorizontalPodAutoscaler KEDA
// creates.
type AdvancedConfig struct {
	HorizontalPodAutoscalerConfig *HPAConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
}

// HPAConfig names KEDA's HorizontalPodAutoscaler and sets its behavior.
type HPAConfig struct {
	Name     string                                         `json:"name,omitempty"`
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
}

// ScaleTrigger is one scaler: its type, metadata (all strings) and the
// kind of target.
type ScaleTrigger struct {
	Type       string                         `json:"type"`
	Name       string                         `json:"name,omitempty"`
	Metadata   map[string]string              `json:"metadata"`
	MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}
