// Package yamldoc holds the yaml.v3 node helpers the Kong and Envoy loaders
// read a gateway configuration with: typed reads of scalars, lists and
// mappings that fail with a *contract.Error placed at the node, lookups that
// follow aliases and merge keys ("<<") within bounds, and the collection of
// the problems and notes of one load.
package yamldoc

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
)

// MaxAliasDepth bounds how many aliases and merge keys are followed from one
// node, so a self-referencing anchor cannot loop.
const MaxAliasDepth = 16

// Doc is one source file being read: where it came from, and the problems
// and notes found in it so far.
type Doc struct {
	// File names the source in every error.
	File string
	// Notes are the remarks recorded with Note, in the order they were made.
	Notes []contract.Note

	errs []error
}

// MaxErrors bounds how many problems Fail records for one Doc.
const MaxErrors = 50

// Fail records a problem; loading goes on with the next element so that
// every problem of the file is reported at once. Problems past MaxErrors
// are dropped.
func (d *Doc) Fail(err error) {
	if len(d.errs) < MaxErrors {
		d.errs = append(d.errs, err)
	}
}

// Err returns the problems recorded with Fail: nil, the one problem, or all
// of them joined, one per line, in file order (by the position of each
// *contract.Error; others keep their place).
func (d *Doc) Err() error {
	sort.SliceStable(d.errs, func(i, j int) bool {
		var a, b *contract.Error
		if !errors.As(d.errs[i], &a) || !errors.As(d.errs[j], &b) {
			return false
		}
		return a.Pos.Line < b.Pos.Line || (a.Pos.Line == b.Pos.Line && a.Pos.Column < b.Pos.Column)
	})
	switch len(d.errs) {
	case 0:
		return nil
	case 1:
		return d.errs[0]
	}
	return errors.Join(d.errs...)
}

// Note records a remark about the element at path, placed at n.
func (d *Doc) Note(n *yaml.Node, path, format string, args ...any) {
	d.Notes = append(d.Notes, contract.Note{Pos: Pos(n), Path: path, Text: fmt.Sprintf(format, args...)})
}

// Errorf returns a *contract.Error for the element at path, placed at n.
func (d *Doc) Errorf(n *yaml.Node, path, format string, args ...any) error {
	return &contract.Error{File: d.File, Pos: Pos(n), Path: path, Err: fmt.Errorf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse decodes data, YAML or JSON, into the node of its first document. It
// returns nil and no error for a document without content.
func (d *Doc) Parse(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 is third-party code reading untrusted input; a panic in
		// it must become an error, not take the process down.
		if r := recover(); r != nil {
			root, err = nil, &contract.Error{File: d.File, Err: fmt.Errorf("invalid YAML: the parser failed: %v", r)}
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
func (d *Doc) yamlError(err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	e := &contract.Error{File: d.File}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	e.Err = fmt.Errorf("invalid YAML: %s", msg)
	return e
}

// Resolve follows aliases from n; it returns nil for a nil node or an alias
// chain longer than MaxAliasDepth.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == MaxAliasDepth {
			return nil
		}
		n = n.Alias
	}
	return n
}

// Pos is where n starts in the source.
func Pos(n *yaml.Node) contract.Position {
	if n == nil {
		return contract.Position{}
	}
	return contract.Position{Line: n.Line, Column: n.Column}
}

// IsNull reports whether n is absent or an explicit null.
func IsNull(n *yaml.Node) bool {
	n = Resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// Describe names the YAML type of n for error messages.
func Describe(n *yaml.Node) string {
	n = Resolve(n)
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

// Get returns the value of key in the mapping m, following aliases and
// merge keys ("<<"). It returns nil when m is not a mapping or has no such
// key. A repeated key resolves to its last occurrence.
func Get(m *yaml.Node, key string) *yaml.Node {
	_, v := getKV(m, key, nil)
	return v
}

// GetKey returns the key node of key in the mapping m, for positions.
func GetKey(m *yaml.Node, key string) *yaml.Node {
	k, _ := getKV(m, key, nil)
	return k
}

// getKV looks key up in m and then in the mappings m merges, depth first;
// seen keeps each mapping from being searched twice, so merges that refer
// to each other cost no more than the document's size.
func getKV(m *yaml.Node, key string, seen map[*yaml.Node]bool) (*yaml.Node, *yaml.Node) {
	m = Resolve(m)
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
		v := Resolve(m.Content[i+1])
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

// Keys returns the keys of the mapping m in source order, merge keys left
// out.
func Keys(m *yaml.Node) []string {
	m = Resolve(m)
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

// Field joins a parent element path and a key.
func Field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index joins a list's element path and an index.
func Index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// Mapping checks that n is a mapping (or null, which reads as nil).
func (d *Doc) Mapping(n *yaml.Node, path string) (*yaml.Node, error) {
	r := Resolve(n)
	if IsNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.MappingNode {
		return nil, d.Errorf(n, path, "expected a mapping, got %s", Describe(r))
	}
	return r, nil
}

// List returns the items of the list n (nil for null), each resolved.
func (d *Doc) List(n *yaml.Node, path string) ([]*yaml.Node, error) {
	r := Resolve(n)
	if IsNull(r) {
		return nil, nil
	}
	if r.Kind != yaml.SequenceNode {
		return nil, d.Errorf(n, path, "expected a list, got %s", Describe(r))
	}
	items := make([]*yaml.Node, 0, len(r.Content))
	for _, it := range r.Content {
		items = append(items, Resolve(it))
	}
	return items, nil
}

// Str returns the text of the scalar n; numbers and booleans read as their
// source text. Null reads as "".
func (d *Doc) Str(n *yaml.Node, path string) (string, error) {
	r := Resolve(n)
	if IsNull(r) {
		return "", nil
	}
	if r.Kind != yaml.ScalarNode {
		return "", d.Errorf(n, path, "expected a string, got %s", Describe(r))
	}
	return r.Value, nil
}

// Strs returns a list of strings.
func (d *Doc) Strs(n *yaml.Node, path string) ([]string, error) {
	items, err := d.List(n, path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, it := range items {
		s, err := d.Str(it, Index(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Placeholder reports whether s holds an unexpanded variable such as
// ${VAR} or ${{ env "DECK_X" }}.
func Placeholder(s string) bool {
	return strings.Contains(s, "${")
}

// Number returns the value of the numeric scalar n. ok is false when n is
// absent, null or a placeholder.
func (d *Doc) Number(n *yaml.Node, path string) (v float64, ok bool, err error) {
	s, err := d.Str(n, path)
	if err != nil || s == "" || Placeholder(s) {
		return 0, false, err
	}
	v, perr := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if perr != nil {
		return 0, false, d.Errorf(n, path, "expected a number, got %s", Describe(n))
	}
	return v, true, nil
}

// Integer returns the value of the integer scalar n. ok is false when n is
// absent, null or a placeholder.
func (d *Doc) Integer(n *yaml.Node, path string) (v int, ok bool, err error) {
	f, ok, err := d.Number(n, path)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f != float64(int(f)) || f > 1<<31 || f < -(1<<31) {
		return 0, false, d.Errorf(n, path, "expected a whole number, got %s", Describe(n))
	}
	return int(f), true, nil
}

// Boolean returns the value of the boolean scalar n. ok is false when n is
// absent, null or a placeholder.
func (d *Doc) Boolean(n *yaml.Node, path string) (v, ok bool, err error) {
	s, err := d.Str(n, path)
	if err != nil || s == "" || Placeholder(s) {
		return false, false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true, nil
	case "false", "no", "off":
		return false, true, nil
	}
	return false, false, d.Errorf(n, path, "expected true or false, got %s", Describe(n))
}

// sensitiveHeaders are request headers whose values are credentials.
var sensitiveHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true,
	"x-api-key": true, "apikey": true, "api-key": true, "x-auth-token": true,
}

// RedactHeader drops the value condition of a header that carries
// credentials, keeping only that it must be present, so that a key a route
// matches on never reaches the contract. It reports whether it did.
func RedactHeader(hm *contract.HeaderMatch) bool {
	if !sensitiveHeaders[strings.ToLower(hm.Name)] || (hm.Value == "" && hm.Prefix == "" && hm.Regex == "") {
		return false
	}
	hm.Value, hm.Prefix, hm.Regex, hm.Present = "", "", "", true
	return true
}

// Root returns the top-level mapping of data, or nil when data is not YAML
// or JSON or its top level is not a mapping. It is for telling what kind of
// file data is.
func Root(data []byte) *yaml.Node {
	d := &Doc{}
	root, err := d.Parse(data)
	if err != nil || root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	return root
}

// ParseMapping parses data as Parse does and requires a top-level mapping
// with at least one of keys, the keys that make a file the loader's kind.
// An empty file, a top level of another type and a mapping with none of
// keys are errors that wrap notMine, the error for a file of another kind;
// for the last, guess says what the file looks like instead.
func (d *Doc) ParseMapping(data []byte, notMine error, guess func(root *yaml.Node) string, keys ...string) (*yaml.Node, error) {
	root, err := d.Parse(data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &contract.Error{File: d.File, Err: fmt.Errorf("%w: the file is empty", notMine)}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &contract.Error{File: d.File, Pos: Pos(root),
			Err: fmt.Errorf("%w: the top level is %s, expected a mapping with %s", notMine, Describe(root), keys[0])}
	}
	for _, k := range keys {
		if Get(root, k) != nil {
			return root, nil
		}
	}
	return nil, &contract.Error{File: d.File, Pos: Pos(root),
		Err: fmt.Errorf("%w: no %s; %s", notMine, keys[0], guess(root))}
}

// Each reads the list n at path and each of its items with read, given the
// item and its path. Problems, the list's and each item's, are recorded
// with Fail; an item with a problem does not stop the others.
func (d *Doc) Each(n *yaml.Node, path string, read func(item *yaml.Node, path string) error) {
	items, err := d.List(n, path)
	if err != nil {
		d.Fail(err)
	}
	for i, it := range items {
		if err := read(it, Index(path, i)); err != nil {
			d.Fail(err)
		}
	}
}

// Name checks that n is a mapping (or null) and returns its "name", which
// must be a string that is not empty; missing is the text of the error
// when it is absent or empty, such as "expected the cluster's name".
func (d *Doc) Name(n *yaml.Node, path, missing string) (string, error) {
	if _, err := d.Mapping(n, path); err != nil {
		return "", err
	}
	name, err := d.Str(Get(n, "name"), Field(path, "name"))
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", d.Errorf(n, path, "%s", missing)
	}
	return name, nil
}

// GuessManifest says what root, the top level of a file a loader does not
// take, is when it is a Kubernetes manifest: a ConfigMap with a data text
// that contains marker is named with the key whose text is the product's
// configuration; any other manifest by its kind. ok is false for a file
// that is no manifest.
func GuessManifest(root *yaml.Node, marker, product string) (guess string, ok bool) {
	if Get(root, "apiVersion") == nil || Get(root, "kind") == nil {
		return "", false
	}
	k := ""
	if n := Resolve(Get(root, "kind")); n != nil {
		k = n.Value
	}
	if k == "ConfigMap" {
		for _, dk := range Keys(Get(root, "data")) {
			if n := Resolve(Get(Get(root, "data"), dk)); n != nil && strings.Contains(n.Value, marker) {
				return fmt.Sprintf("it looks like a Kubernetes ConfigMap; the %s configuration is the text of data.%s, extract it into its own file", product, dk), true
			}
		}
	}
	return fmt.Sprintf("it looks like a Kubernetes manifest (kind: %s)", k), true
}

// GuessKeys names the first eight top-level keys of root, for a file no
// guess fits.
func GuessKeys(root *yaml.Node) string {
	ks := Keys(root)
	if len(ks) > 8 {
		ks = append(ks[:8], "...")
	}
	return "its top-level keys are " + strings.Join(ks, ", ")
}
