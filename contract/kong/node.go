package kong

// This file holds the yaml.v3 node helpers the loader reads the document
// with. contract/envoy has a copy; keep the two in step.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
)

// maxAliasDepth bounds how many aliases and merge keys are followed from one
// node, so a self-referencing anchor cannot loop.
const maxAliasDepth = 16

// doc is one source file being read.
type doc struct {
	file string
}

// errorf returns a *contract.Error for the element at path, placed at n.
func (d *doc) errorf(n *yaml.Node, path, format string, args ...any) error {
	return &contract.Error{File: d.file, Pos: pos(n), Path: path, Err: fmt.Errorf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse decodes data, YAML or JSON, into the node of its first document. It
// returns nil and no error for a document without content.
func (d *doc) parse(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 is third-party code reading untrusted input; a panic in
		// it must become an error, not take the process down.
		if r := recover(); r != nil {
			root, err = nil, &contract.Error{File: d.file, Err: fmt.Errorf("invalid YAML: the parser failed: %v", r)}
		}
	}()
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, d.yamlError(err)
	}
	if n.Kind == 0 || len(n.Content) == 0 {
		return nil, nil
	}
	return n.Content[0], nil
}

// yamlError turns a yaml.v3 syntax error into a *contract.Error with the
// line yaml.v3 names.
func (d *doc) yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	e := &contract.Error{File: d.file}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	e.Err = fmt.Errorf("invalid YAML: %s", msg)
	return e
}

// resolve follows aliases from n; it returns nil for a nil node or an alias
// chain longer than maxAliasDepth.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == maxAliasDepth {
			return nil
		}
		n = n.Alias
	}
	return n
}

// pos is where n starts in the source.
func pos(n *yaml.Node) contract.Position {
	if n == nil {
		return contract.Position{}
	}
	return contract.Position{Line: n.Line, Column: n.Column}
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// describe names the YAML type of n for error messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "null"
	case n.Tag == "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case n.Tag == "!!bool":
		return "the boolean " + n.Value
	case n.Tag == "!!int" || n.Tag == "!!float":
		return "the number " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

// get returns the value of key in the mapping m, following aliases and
// merge keys ("<<"). It returns nil when m is not a mapping or has no such
// key. A repeated key resolves to its last occurrence.
func get(m *yaml.Node, key string) *yaml.Node {
	_, v := getKV(m, key, nil)
	return v
}

// getKey returns the key node of key in the mapping m, for positions.
func getKey(m *yaml.Node, key string) *yaml.Node {
	k, _ := getKV(m, key, nil)
	return k
}

// getKV looks key up in m and then in the mappings m merges, depth first;
// seen keeps each mapping from being searched twice, so merges that refer
// to each other cost no more than the document's size.
func getKV(m *yaml.Node, key string, seen map[*yaml.Node]bool) (*yaml.Node, *yaml.Node) {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode || seen[m] {
		return nil, nil
	}
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key && k.Tag != "!!merge" {
			return k, m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Tag != "!!merge" {
			continue
		}
		if seen == nil {
			seen = map[*yaml.Node]bool{}
		}
		seen[m] = true
		v := resolve(m.Content[i+1])
		if v == nil {
			continue
		}
		srcs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, s := range srcs {
			if kk, vv := getKV(s, key, seen); vv != nil {
				return kk, vv
			}
		}
	}
	return nil, nil
}

// keys returns the keys of the mapping m in source order, merge keys left
// out.
func keys(m *yaml.Node) []string {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var ks []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Tag != "!!merge" {
			ks = append(ks, k.Value)
		}
	}
	return ks
}

// field joins a parent element path and a key.
func field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index joins a list's element path and an index.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// mapping checks that n is a mapping (or null, which reads as nil).
func (d *doc) mapping(n *yaml.Node, path string) (*yaml.Node, error) {
	r := resolve(n)
	if isNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.MappingNode {
		return nil, d.errorf(n, path, "expected a mapping, got %s", describe(r))
	}
	return r, nil
}

// list returns the items of the list n (nil for null), each resolved.
func (d *doc) list(n *yaml.Node, path string) ([]*yaml.Node, error) {
	r := resolve(n)
	if isNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.SequenceNode {
		return nil, d.errorf(n, path, "expected a list, got %s", describe(r))
	}
	items := make([]*yaml.Node, 0, len(r.Content))
	for _, it := range r.Content {
		items = append(items, resolve(it))
	}
	return items, nil
}

// str returns the text of the scalar n; numbers and booleans read as their
// source text. Null reads as "".
func (d *doc) str(n *yaml.Node, path string) (string, error) {
	r := resolve(n)
	if isNull(r) {
		return "", nil
	}
	if r.Kind != yaml.ScalarNode {
		return "", d.errorf(n, path, "expected a string, got %s", describe(r))
	}
	return r.Value, nil
}

// strs returns a list of strings.
func (d *doc) strs(n *yaml.Node, path string) ([]string, error) {
	items, err := d.list(n, path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, it := range items {
		s, err := d.str(it, index(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// placeholder reports whether s holds an unexpanded variable such as
// ${VAR} or ${{ env "DECK_X" }}.
func placeholder(s string) bool {
	return strings.Contains(s, "${")
}

// number returns the value of the numeric scalar n. ok is false when n is
// absent, null or a placeholder.
func (d *doc) number(n *yaml.Node, path string) (v float64, ok bool, err error) {
	s, err := d.str(n, path)
	if err != nil || s == "" || placeholder(s) {
		return 0, false, err
	}
	v, perr := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if perr != nil {
		return 0, false, d.errorf(n, path, "expected a number, got %s", describe(n))
	}
	return v, true, nil
}

// integer returns the value of the integer scalar n. ok is false when n is
// absent, null or a placeholder.
func (d *doc) integer(n *yaml.Node, path string) (v int, ok bool, err error) {
	f, ok, err := d.number(n, path)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f != float64(int(f)) || f > 1<<31 || f < -(1<<31) {
		return 0, false, d.errorf(n, path, "expected a whole number, got %s", describe(n))
	}
	return int(f), true, nil
}

// boolean returns the value of the boolean scalar n. ok is false when n is
// absent, null or a placeholder.
func (d *doc) boolean(n *yaml.Node, path string) (v, ok bool, err error) {
	s, err := d.str(n, path)
	if err != nil || s == "" || placeholder(s) {
		return false, false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true, nil
	case "false", "no", "off":
		return false, true, nil
	}
	return false, false, d.errorf(n, path, "expected true or false, got %s", describe(n))
}

// sensitiveHeaders are request headers whose values are credentials.
var sensitiveHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true,
	"x-api-key": true, "apikey": true, "api-key": true, "x-auth-token": true,
}

// redactHeader drops the value condition of a header that carries
// credentials, keeping only that it must be present, so that a key a route
// matches on never reaches the contract. It reports whether it did.
func redactHeader(hm *contract.HeaderMatch) bool {
	if !sensitiveHeaders[strings.ToLower(hm.Name)] || (hm.Value == "" && hm.Prefix == "" && hm.Regex == "") {
		return false
	}
	hm.Value, hm.Prefix, hm.Regex, hm.Present = "", "", "", true
	return true
}
