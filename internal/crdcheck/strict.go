package crdcheck

import (
	"encoding/json"
	"errors"
	"fmt"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// DecodeStrict decodes b, which must hold exactly one YAML document, into
// obj (a k8s.io/api or prometheus-operator type, or one of our own)
// strictly and case-sensitively: unknown, duplicate and wrong-case fields
// are errors, and apiVersion and kind must be the ones given ("" skips
// the check, for files that are not API objects). sigs.k8s.io/yaml's
// UnmarshalStrict alone would accept a wrong-case key, a wrong kind and a
// second document (REFERENCE §13).
func DecodeStrict(b []byte, obj any, apiVersion, kind string) error {
	docs, err := Documents(b)
	if err != nil {
		return err
	}
	if len(docs) != 1 {
		return fmt.Errorf("%d YAML documents; expected exactly one", len(docs))
	}
	j, err := yaml.YAMLToJSONStrict(docs[0])
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		return errors.Join(strictErrs...)
	}
	if apiVersion == "" && kind == "" {
		return nil
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(j, &tm); err != nil {
		return err
	}
	if tm.APIVersion != apiVersion || tm.Kind != kind {
		return fmt.Errorf("apiVersion %q, kind %q; expected %q, %q", tm.APIVersion, tm.Kind, apiVersion, kind)
	}
	return nil
}
