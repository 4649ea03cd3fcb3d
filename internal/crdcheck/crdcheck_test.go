package crdcheck

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kedaCRD is KEDA's ScaledObject CRD in the shared folder beside the
// repository.
const kedaCRD = "../../../shared/crds/keda.sh_scaledobjects.yaml"

func loadKEDA(t *testing.T) CRD {
	t.Helper()
	if _, err := os.Stat(kedaCRD); err != nil {
		t.Skipf("%s is absent: the CRD checks need shared/crds beside the repository", kedaCRD)
	}
	crds, err := LoadFile(kedaCRD)
	require.NoError(t, err)
	c, ok := Find(crds, "keda.sh/v1alpha1", "ScaledObject")
	require.True(t, ok, "no keda.sh/v1alpha1 ScaledObject in %s", kedaCRD)
	return c
}

const goodScaledObject = `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: gateway
  labels: {app: gateway}
spec:
  scaleTargetRef: {name: gateway}
  minReplicaCount: 3
  maxReplicaCount: 10
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 300
          policies: [{type: Percent, value: 50, periodSeconds: 60}]
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus:9090
        query: sum(rate(x[2m]))
        threshold: "100"
`

func TestValidateGood(t *testing.T) {
	c := loadKEDA(t)
	require.Empty(t, c.ValidateYAML([]byte(goodScaledObject)))
}

func TestValidateBad(t *testing.T) {
	c := loadKEDA(t)
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown field", "minReplicaCount: 3", "minReplicas: 3", "spec.minReplicas: unknown field; expected one of: advanced, "},
		{"wrong case", "maxReplicaCount: 10", "MaxReplicaCount: 10", "spec.MaxReplicaCount: unknown field"},
		{"wrong type", "minReplicaCount: 3", "minReplicaCount: three", "spec.minReplicaCount: expected an integer, got a string"},
		{"below minimum", "maxReplicaCount: 10", "maxReplicaCount: 0", "spec.maxReplicaCount: 0 is below the minimum 1"},
		{"missing required", "  scaleTargetRef: {name: gateway}\n", "", "spec.scaleTargetRef: required field is missing"},
		{"metadata values are strings", `threshold: "100"`, "threshold: 100", "spec.triggers[0].metadata.threshold: expected a string, got a number"},
		{"enum", "    - type: prometheus\n", "    - type: prometheus\n      authenticationRef: {name: a, kind: Secret}\n", `spec.triggers[0].authenticationRef.kind: Secret is not one of [TriggerAuthentication ClusterTriggerAuthentication]`},
		{"no triggers", "  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://prometheus:9090\n        query: sum(rate(x[2m]))\n        threshold: \"100\"\n", "  triggers: []\n", "spec.triggers: 0 items; expected at least 1"},
		{"wrong kind", "kind: ScaledObject", "kind: ScaledJob", "kind ScaledJob: expected keda.sh/v1alpha1, ScaledObject"},
		{"int-or-string", "stabilizationWindowSeconds: 300", "stabilizationWindowSeconds: 300\n          tolerance: [1]", "tolerance: expected an integer or a string, got an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(goodScaledObject, tc.from, tc.to, 1)
			require.NotEqual(t, goodScaledObject, doc, "the case changes nothing")
			errs := c.ValidateYAML([]byte(doc))
			require.NotEmpty(t, errs)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			require.Contains(t, strings.Join(msgs, "\n"), tc.want)
		})
	}
}

func TestAdditionalPropertiesBool(t *testing.T) {
	crds, err := Load([]byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.com
  names: {kind: Thing}
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            spec:
              type: object
              properties:
                free: {type: object, x-kubernetes-preserve-unknown-fields: true}
                open: {type: object, additionalProperties: true}
                closed: {type: object, additionalProperties: false, properties: {a: {type: string}}}
`))
	require.NoError(t, err)
	c, ok := Find(crds, "example.com/v1", "Thing")
	require.True(t, ok)
	ok1 := c.ValidateYAML([]byte("apiVersion: example.com/v1\nkind: Thing\nspec: {free: {x: 1}, open: {y: [2]}, closed: {a: b}}\n"))
	require.Empty(t, ok1)
	bad := c.ValidateYAML([]byte("apiVersion: example.com/v1\nkind: Thing\nspec: {closed: {b: c}}\n"))
	require.Len(t, bad, 1)
	require.EqualError(t, bad[0], "spec.closed.b: unknown field; expected one of: a")
}

func TestDocuments(t *testing.T) {
	docs, err := Documents([]byte("# head\n---\na: 1\n---\n# only a comment\n---\nb: 2\n"))
	require.NoError(t, err)
	require.Len(t, docs, 2)
}

func TestDecodeStrict(t *testing.T) {
	type spec struct {
		Replicas int `json:"replicas"`
	}
	type obj struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       spec   `json:"spec"`
	}
	good := "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: 3}\n"
	var o obj
	require.NoError(t, DecodeStrict([]byte(good), &o, "apps/v1", "Deployment"))
	require.Equal(t, 3, o.Spec.Replicas)
	for _, tc := range []struct{ name, doc, want string }{
		{"wrong case", "apiVersion: apps/v1\nkind: Deployment\nspec: {Replicas: 3}\n", `unknown field "spec.Replicas"`},
		{"unknown", "apiVersion: apps/v1\nkind: Deployment\nspec: {replica: 3}\n", `unknown field "spec.replica"`},
		{"duplicate", "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: 3, replicas: 4}\n", `key "replicas" already set in map`},
		{"wrong kind", "apiVersion: v1\nkind: Service\nspec: {replicas: 3}\n", `apiVersion "v1", kind "Service"; expected "apps/v1", "Deployment"`},
		{"second document", good + "---\n" + good, "2 YAML documents; expected exactly one"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: three}\n", "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeStrict([]byte(tc.doc), &obj{}, "apps/v1", "Deployment")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
