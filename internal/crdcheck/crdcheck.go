// Package crdcheck validates objects against the structural OpenAPI v3
// schema of a CustomResourceDefinition, for tests of generated custom
// resources whose Go modules are too heavy to import (KEDA, Flagger, Argo
// Rollouts; ../shared/crds).
//
// It checks what a structural schema says about shape: type (with
// format int32/int64 and x-kubernetes-int-or-string), properties (an
// unknown field is an error unless x-kubernetes-preserve-unknown-fields is
// set), required, enum, items, additionalProperties, anyOf, minimum,
// maximum, minLength, minItems and pattern. CEL rules
// (x-kubernetes-validations) are not evaluated. As in the API server, the
// root's metadata is not checked against the schema (the server validates
// it as ObjectMeta); decode it into metav1.ObjectMeta to check it.
package crdcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Schema is the part of an OpenAPI v3 schema that structural schemas use.
type Schema struct {
	Type                 string             `json:"type,omitempty"`
	Format               string             `json:"format,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	Enum                 []any              `json:"enum,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	AdditionalProperties *Additional        `json:"additionalProperties,omitempty"`
	AnyOf                []*Schema          `json:"anyOf,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Maximum              *float64           `json:"maximum,omitempty"`
	MinLength            *int               `json:"minLength,omitempty"`
	MinItems             *int               `json:"minItems,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	Nullable             bool               `json:"nullable,omitempty"`
	PreserveUnknown      bool               `json:"x-kubernetes-preserve-unknown-fields,omitempty"`
	IntOrString          bool               `json:"x-kubernetes-int-or-string,omitempty"`
}

// Additional is additionalProperties: false, true or a schema for every
// value.
type Additional struct {
	Allowed bool
	Schema  *Schema
}

// UnmarshalJSON reads a boolean or a schema.
func (a *Additional) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &a.Allowed); err == nil {
		return nil
	}
	a.Allowed = true
	a.Schema = new(Schema)
	return json.Unmarshal(b, a.Schema)
}

// CRD is one version of a custom resource: its API version, kind and
// schema.
type CRD struct {
	APIVersion string // group/version
	Kind       string
	Schema     *Schema
}

type crdFile struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Schema struct {
				OpenAPIV3Schema *Schema `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// LoadFile reads every CustomResourceDefinition of a (multi-document) YAML
// file and returns one CRD per served version.
func LoadFile(path string) ([]CRD, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	crds, err := Load(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return crds, nil
}

// Load reads every CustomResourceDefinition of YAML documents b.
func Load(b []byte) ([]CRD, error) {
	var out []CRD
	docs, err := Documents(b)
	if err != nil {
		return nil, err
	}
	for i, d := range docs {
		var f crdFile
		if err := yaml.Unmarshal(d, &f); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if f.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range f.Spec.Versions {
			if v.Schema.OpenAPIV3Schema == nil {
				return nil, fmt.Errorf("document %d: %s version %s has no openAPIV3Schema", i+1, f.Spec.Names.Kind, v.Name)
			}
			out = append(out, CRD{APIVersion: f.Spec.Group + "/" + v.Name, Kind: f.Spec.Names.Kind, Schema: v.Schema.OpenAPIV3Schema})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no CustomResourceDefinition with a schema")
	}
	return out, nil
}

// Find returns the CRD of apiVersion and kind.
func Find(crds []CRD, apiVersion, kind string) (CRD, bool) {
	for _, c := range crds {
		if c.APIVersion == apiVersion && c.Kind == kind {
			return c, true
		}
	}
	return CRD{}, false
}

// Documents splits a multi-document YAML stream, dropping empty documents.
func Documents(b []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(d))) == 0 {
			continue
		}
		docs = append(docs, d)
	}
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}

// ValidateYAML checks one YAML document: its apiVersion and kind must be
// the CRD's, and the object must satisfy its schema. Every problem is
// returned, each naming its field path.
func (c CRD) ValidateYAML(doc []byte) []error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return []error{err}
	}
	var obj any
	if err := json.Unmarshal(j, &obj); err != nil {
		return []error{err}
	}
	return c.Validate(obj)
}

// Validate checks a decoded JSON object (maps, slices, float64, string,
// bool, nil) against the CRD.
func (c CRD) Validate(obj any) []error {
	m, ok := obj.(map[string]any)
	if !ok {
		return []error{fmt.Errorf("expected an object, got %s", typeName(obj))}
	}
	var errs []error
	if m["apiVersion"] != c.APIVersion || m["kind"] != c.Kind {
		errs = append(errs, fmt.Errorf("apiVersion %v, kind %v: expected %s, %s", m["apiVersion"], m["kind"], c.APIVersion, c.Kind))
	}
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "metadata" {
			rest[k] = v
		}
	}
	v := &validator{}
	v.check("", c.Schema, rest)
	return append(errs, v.errs...)
}

type validator struct{ errs []error }

func (v *validator) errorf(path, format string, args ...any) {
	if path == "" {
		path = "."
	}
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (v *validator) check(path string, s *Schema, x any) {
	if s == nil {
		return
	}
	if x == nil {
		if !s.Nullable {
			v.errorf(path, "null is not allowed")
		}
		return
	}
	if len(s.AnyOf) > 0 {
		ok := false
		for _, alt := range s.AnyOf {
			sub := &validator{}
			sub.check(path, alt, x)
			if len(sub.errs) == 0 {
				ok = true
				break
			}
		}
		if !ok {
			v.errorf(path, "%s matches none of anyOf", typeName(x))
		}
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return equal(e, x) }) {
		v.errorf(path, "%v is not one of %v", x, s.Enum)
	}
	if s.IntOrString {
		switch x := x.(type) {
		case string:
		case float64:
			if x != math.Trunc(x) {
				v.errorf(path, "%v is neither an integer nor a string", x)
			}
		default:
			v.errorf(path, "expected an integer or a string, got %s", typeName(x))
		}
		v.checkString(path, s, x)
		return
	}
	switch s.Type {
	case "object":
		m, ok := x.(map[string]any)
		if !ok {
			v.errorf(path, "expected an object, got %s", typeName(x))
			return
		}
		v.checkObject(path, s, m)
	case "array":
		a, ok := x.([]any)
		if !ok {
			v.errorf(path, "expected an array, got %s", typeName(x))
			return
		}
		if s.MinItems != nil && len(a) < *s.MinItems {
			v.errorf(path, "%d items; expected at least %d", len(a), *s.MinItems)
		}
		for i, e := range a {
			v.check(path+"["+strconv.Itoa(i)+"]", s.Items, e)
		}
	case "string":
		if _, ok := x.(string); !ok {
			v.errorf(path, "expected a string, got %s", typeName(x))
			return
		}
		v.checkString(path, s, x)
	case "integer":
		f, ok := x.(float64)
		if !ok || f != math.Trunc(f) {
			v.errorf(path, "expected an integer, got %s", typeName(x))
			return
		}
		if s.Format == "int32" && (f < math.MinInt32 || f > math.MaxInt32) {
			v.errorf(path, "%v does not fit int32", f)
		}
		v.checkNumber(path, s, f)
	case "number":
		f, ok := x.(float64)
		if !ok {
			v.errorf(path, "expected a number, got %s", typeName(x))
			return
		}
		v.checkNumber(path, s, f)
	case "boolean":
		if _, ok := x.(bool); !ok {
			v.errorf(path, "expected a boolean, got %s", typeName(x))
		}
	case "":
		// No type: only anyOf and the like constrain it.
	default:
		v.errorf(path, "schema has unknown type %q", s.Type)
	}
}

func (v *validator) checkObject(path string, s *Schema, m map[string]any) {
	for _, r := range s.Required {
		if _, ok := m[r]; !ok {
			v.errorf(join(path, r), "required field is missing")
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if ps, ok := s.Properties[k]; ok {
			v.check(join(path, k), ps, m[k])
			continue
		}
		switch {
		case s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
			v.check(join(path, k), s.AdditionalProperties.Schema, m[k])
		case s.AdditionalProperties != nil && s.AdditionalProperties.Allowed, s.PreserveUnknown:
		default:
			names := make([]string, 0, len(s.Properties))
			for n := range s.Properties {
				names = append(names, n)
			}
			sort.Strings(names)
			v.errorf(join(path, k), "unknown field; expected one of: %s", strings.Join(names, ", "))
		}
	}
}

func (v *validator) checkString(path string, s *Schema, x any) {
	str, ok := x.(string)
	if !ok {
		return
	}
	if s.MinLength != nil && len([]rune(str)) < *s.MinLength {
		v.errorf(path, "%q is shorter than %d", str, *s.MinLength)
	}
	if s.Pattern != "" {
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			v.errorf(path, "schema pattern %q does not compile: %v", s.Pattern, err)
		} else if !re.MatchString(str) {
			v.errorf(path, "%q does not match %s", str, s.Pattern)
		}
	}
}

func (v *validator) checkNumber(path string, s *Schema, f float64) {
	if s.Minimum != nil && f < *s.Minimum {
		v.errorf(path, "%v is below the minimum %v", f, *s.Minimum)
	}
	if s.Maximum != nil && f > *s.Maximum {
		v.errorf(path, "%v is above the maximum %v", f, *s.Maximum)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func typeName(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", x)
}
