package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// checkKeys walks n beside the Go value v and reports the first mapping key
// that no yaml tag of the corresponding struct declares, with its line and
// the keys that were expected. yaml.v3's own KnownFields check is lost
// inside custom unmarshalers (go-yaml/yaml#460), so gatewatch does it here.
func checkKeys(file string, n *yaml.Node, v any, where string) error {
	return checkNode(file, n, reflect.TypeOf(v), where)
}

func checkNode(file string, n *yaml.Node, t reflect.Type, where string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if isNull(n) {
		return nil // the zero value (or the default)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		// Decode it alone, so that its error gets a place and a key path.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return fmt.Errorf("%s:%d:%d: %s: %s", file, n.Line, n.Column, where, lineless(err))
		}
		return nil
	}
	if err := checkScalar(n, t); err != nil {
		return fmt.Errorf("%s:%d:%d: %s: %v", file, n.Line, n.Column, where, err)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				slices.Sort(names)
				in := where
				if in == "" {
					in = "the top level"
				}
				return fmt.Errorf("%s:%d:%d: unknown key %q in %s; expected one of: %s",
					file, k.Line, k.Column, k.Value, in, strings.Join(names, ", "))
			}
			if err := checkNode(file, val, ft, join(where, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			if err := checkNode(file, c, t.Elem(), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkNode(file, n.Content[i+1], t.Elem(), join(where, n.Content[i].Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

// yamlFields maps the yaml keys of struct t (following ",inline") to their
// field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					m[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// lineless removes yaml.v3's "line N: " (the caller gives the place) and
// its "yaml: " prefix.
func lineless(err error) string {
	msg := yamlMessage(err)
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 && strings.Trim(rest[:i], "0123456789") == "" {
			return rest[i+2:]
		}
	}
	return msg
}

// expectation says in words what a value of type t looks like, for
// errors; "" for types whose own errors say it.
func expectation(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[SecretRef]():
		return "`{file: PATH}` or `{env: NAME}` (the secret itself never goes in this file)"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, not negative"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a single value (a string)"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct:
		keys := make([]string, 0)
		for k := range yamlFields(t) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return "a mapping with the keys " + strings.Join(keys, ", ")
	case reflect.Map:
		return "a mapping"
	}
	return ""
}

// checkScalar reports a node that does not fit t: a list where a mapping
// belongs, "high" where a number does. The message says what was expected
// in words, not Go type names.
func checkScalar(n *yaml.Node, t reflect.Type) error {
	want := expectation(t)
	if want == "" {
		return nil
	}
	kind := t.Kind()
	var ok bool
	switch kind {
	case reflect.Struct, reflect.Map:
		ok = n.Kind == yaml.MappingNode
	case reflect.Slice, reflect.Array:
		ok = n.Kind == yaml.SequenceNode
	default:
		ok = n.Kind == yaml.ScalarNode && n.Decode(reflect.New(t).Interface()) == nil
	}
	if ok {
		return nil
	}
	return fmt.Errorf("expected %s, got %s", want, describe(n))
}

// describe names what a node holds: "the text \"high\"", "a list", "a
// mapping".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}
