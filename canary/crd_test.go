package canary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// A small, strict OpenAPI v3 validator for the subset of structural
// schemas the Flagger and Argo Rollouts CRDs use: type, properties,
// required, enum, additionalProperties, x-kubernetes-preserve-unknown-fields,
// x-kubernetes-int-or-string, items, pattern, minimum/maximum,
// minLength/maxLength, oneOf, anyOf and not. A field the schema does not
// declare is an error, as kubectl apply --validate=strict makes it.
// format, default and x-kubernetes-validations (CEL) are not checked.

type crdSchema struct {
	Type                 string                `json:"type"`
	Properties           map[string]*crdSchema `json:"properties"`
	Required             []string              `json:"required"`
	Enum                 []any                 `json:"enum"`
	AdditionalProperties *additional           `json:"additionalProperties"`
	Items                *crdSchema            `json:"items"`
	PreserveUnknown      bool                  `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString          bool                  `json:"x-kubernetes-int-or-string"`
	Pattern              string                `json:"pattern"`
	Minimum              *float64              `json:"minimum"`
	Maximum              *float64              `json:"maximum"`
	MinLength            *int                  `json:"minLength"`
	MaxLength            *int                  `json:"maxLength"`
	OneOf                []*crdSchema          `json:"oneOf"`
	AnyOf                []*crdSchema          `json:"anyOf"`
	Not                  *crdSchema            `json:"not"`
}

// additional is additionalProperties: a boolean or a schema.
type additional struct {
	allowed bool
	schema  *crdSchema
}

func (a *additional) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("true")) || bytes.Equal(b, []byte("false")) {
		a.allowed = string(b) == "true"
		return nil
	}
	a.schema = &crdSchema{}
	return json.Unmarshal(b, a.schema)
}

type crdKind struct {
	group, version, kind string
	schema               *crdSchema
}

// loadCRDs reads the CustomResourceDefinitions of a (multi-document) file
// under ../shared/crds, or skips the test when the folder is absent.
func loadCRDs(t *testing.T, file string) map[string]crdKind {
	t.Helper()
	path := "../../shared/crds/" + file
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		path = "/work/shared/crds/" + file
		b, err = os.ReadFile(path)
	}
	if os.IsNotExist(err) {
		t.Skipf("CRD schemas not found (%s): run beside ../shared", file)
	}
	require.NoError(t, err)
	out := map[string]crdKind{}
	for _, doc := range splitYAML(b) {
		var crd struct {
			Kind string `json:"kind"`
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema *crdSchema `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		j, err := yaml.YAMLToJSON(doc)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(j, &crd))
		require.Equal(t, "CustomResourceDefinition", crd.Kind)
		for _, v := range crd.Spec.Versions {
			require.NotNil(t, v.Schema.OpenAPIV3Schema, "%s %s has no schema", crd.Spec.Names.Kind, v.Name)
			out[crd.Spec.Names.Kind+"/"+v.Name] = crdKind{crd.Spec.Group, v.Name, crd.Spec.Names.Kind, v.Schema.OpenAPIV3Schema}
		}
	}
	return out
}

func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// validateObject checks one Kubernetes object (YAML) against its CRD:
// apiVersion and kind, then the schema.
func validateObject(t *testing.T, crds map[string]crdKind, doc []byte) []string {
	t.Helper()
	var obj map[string]any
	j, err := yaml.YAMLToJSON(doc)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(j, &obj))
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	group, version, _ := strings.Cut(apiVersion, "/")
	c, ok := crds[kind+"/"+version]
	if !ok || c.group != group {
		return []string{fmt.Sprintf("no CRD for apiVersion %q kind %q", apiVersion, kind)}
	}
	return validate(c.schema, obj, "", true)
}

// validate returns every violation of s by v at path.
func validate(s *crdSchema, v any, path string, root bool) []string {
	var errs []string
	fail := func(format string, args ...any) {
		p := path
		if p == "" {
			p = "(root)"
		}
		errs = append(errs, p+": "+fmt.Sprintf(format, args...))
	}
	switch {
	case s.IntOrString:
		if f, ok := v.(float64); ok && f != math.Trunc(f) {
			fail("%v is neither an integer nor a string", v)
		} else if _, isString := v.(string); !ok && !isString {
			fail("%v is neither an integer nor a string", v)
		}
	case s.Type != "":
		if !hasType(s.Type, v) {
			fail("expected %s, got %T (%v)", s.Type, v, v)
			return errs
		}
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		fail("%v is not one of %v", v, s.Enum)
	}
	if str, ok := v.(string); ok {
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			fail("%q does not match %s", str, s.Pattern)
		}
		if s.MinLength != nil && len(str) < *s.MinLength {
			fail("%q is shorter than %d", str, *s.MinLength)
		}
		if s.MaxLength != nil && len(str) > *s.MaxLength {
			fail("%q is longer than %d", str, *s.MaxLength)
		}
	}
	if f, ok := v.(float64); ok {
		if s.Minimum != nil && f < *s.Minimum {
			fail("%v is below %v", f, *s.Minimum)
		}
		if s.Maximum != nil && f > *s.Maximum {
			fail("%v is above %v", f, *s.Maximum)
		}
	}
	if m, ok := v.(map[string]any); ok {
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				fail("required field %q is missing", r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			switch {
			case s.Properties[k] != nil:
				if root && k == "metadata" {
					continue // ObjectMeta: the API server's own validation
				}
				errs = append(errs, validate(s.Properties[k], m[k], p, false)...)
			case s.AdditionalProperties != nil && s.AdditionalProperties.schema != nil:
				errs = append(errs, validate(s.AdditionalProperties.schema, m[k], p, false)...)
			case s.AdditionalProperties != nil && s.AdditionalProperties.allowed, s.PreserveUnknown:
			case s.Type == "" && s.Properties == nil:
				// A oneOf/anyOf branch holding only "required".
			default:
				fail("unknown field %q", k)
			}
		}
	}
	if a, ok := v.([]any); ok && s.Items != nil {
		for i, x := range a {
			errs = append(errs, validate(s.Items, x, fmt.Sprintf("%s[%d]", path, i), false)...)
		}
	}
	if len(s.OneOf) > 0 {
		n := 0
		for _, o := range s.OneOf {
			if len(validate(o, v, path, false)) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d of the oneOf schemas; expected exactly 1", n)
		}
	}
	if len(s.AnyOf) > 0 && !slices.ContainsFunc(s.AnyOf, func(o *crdSchema) bool { return len(validate(o, v, path, false)) == 0 }) {
		fail("matches none of the anyOf schemas")
	}
	if s.Not != nil && len(validate(s.Not, v, path, false)) == 0 {
		fail("matches a schema it must not")
	}
	return errs
}

func hasType(typ string, v any) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "boolean":
		_, ok := v.(bool)
		return ok
	}
	return false
}

// TestValidatorCatches makes sure the validator fails objects that break
// the schemas, so that the golden files' passing means something.
func TestValidatorCatches(t *testing.T) {
	flagger := loadCRDs(t, "flagger.app_crds.yaml")
	argo := loadCRDs(t, "argoproj.io_analysistemplates.yaml")
	cases := []struct {
		name string
		crds map[string]crdKind
		doc  string
		want string
	}{
		{"ok", flagger, "apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: a}\nspec: {provider: {type: prometheus}, query: up}\n", ""},
		{"unknown field", flagger, "apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: a}\nspec: {provider: {type: prometheus}, query: up, querry: x}\n", `spec: unknown field "querry"`},
		{"missing required", flagger, "apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: a}\nspec: {provider: {type: prometheus}}\n", `spec: required field "query" is missing`},
		{"enum", flagger, "apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: a}\nspec: {provider: {type: prom}, query: up}\n", `spec.provider.type: prom is not one of`},
		{"wrong type", flagger, "apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: a}\nspec: {provider: {type: prometheus, insecureSkipVerify: 'yes'}, query: up}\n", `spec.provider.insecureSkipVerify: expected boolean`},
		{"wrong kind", flagger, "apiVersion: flagger.app/v1beta1\nkind: MetricTemplates\n", `no CRD for apiVersion`},
		{"pattern and oneOf", flagger, "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: a}\nspec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n  service: {port: 80}\n  analysis: {interval: 1h, threshold: 5}\n", `spec.analysis.interval: "1h" does not match`},
		{"int or string", argo, "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: a}\nspec:\n  metrics: [{name: m, count: 1.5, provider: {prometheus: {query: up}}}]\n", `spec.metrics[0].count: 1.5 is neither an integer nor a string`},
		{"argo unknown provider field", argo, "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: a}\nspec:\n  metrics: [{name: m, provider: {prometheus: {query: up, adress: x}}}]\n", `spec.metrics[0].provider.prometheus: unknown field "adress"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := validateObject(t, tc.crds, []byte(tc.doc))
			if tc.want == "" {
				require.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs)
			require.Contains(t, strings.Join(errs, "\n"), tc.want)
		})
	}
}
