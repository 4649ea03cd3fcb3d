package krakend

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
)

// kind is the JSON type of a node.
type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	switch k {
	case kindBool:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindArray:
		return "array"
	case kindObject:
		return "object"
	}
	return "null"
}

// node is one value of a parsed configuration, JSON or YAML, with the place
// where it starts in the source.
type node struct {
	kind kind
	pos  contract.Position
	// text is a string's value, a number's literal or "true"/"false".
	text string
	// keys and vals hold an object's members in source order, or an array's
	// items in vals.
	keys []string
	vals []*node
}

// get returns the member key of an object, nil when n is not an object or has
// no such member. A repeated key resolves to its last occurrence, as
// encoding/json (and so KrakenD) does.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return n.vals[i]
		}
	}
	return nil
}

// describe names a node's type for error messages, with a short value for
// scalars: `number 3000`, `string "x"`.
func (n *node) describe() string {
	switch n.kind {
	case kindNumber, kindBool:
		return n.kind.String() + " " + n.text
	case kindString:
		s := n.text
		if utf8.RuneCountInString(s) > 40 {
			r := []rune(s)
			s = string(r[:40]) + "..."
		}
		return "string " + strconv.Quote(s)
	}
	return n.kind.String()
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

// lineIndex turns byte offsets into 1-based line and column, counting
// columns in characters (a tab is one column).
type lineIndex struct {
	data   []byte
	starts []int
}

func newLineIndex(data []byte) *lineIndex {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{data: data, starts: starts}
}

func (li *lineIndex) pos(off int) contract.Position {
	if off < 0 {
		off = 0
	}
	if off > len(li.data) {
		off = len(li.data)
	}
	line := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	col := utf8.RuneCount(li.data[li.starts[line]:off]) + 1
	return contract.Position{Line: line + 1, Column: col}
}

// syntaxError is a parse failure at a place in the source.
type syntaxError struct {
	pos contract.Position
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// parseJSON parses data as one JSON value, recording where every value
// starts. encoding/json validates the whole input first (its scanner gives
// the offset and the context of a syntax error); a small recursive-descent
// reader then walks the input, known to be valid, keeping line and column
// as it goes.
func parseJSON(data []byte) (*node, error) {
	if !json.Valid(data) {
		li := newLineIndex(data)
		var raw json.RawMessage
		err := json.Unmarshal(data, &raw)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, &syntaxError{pos: li.pos(0), msg: fmt.Sprintf("invalid JSON: %v", err)}
		}
		at := int(se.Offset) - 1 // Offset counts the offending byte.
		if strings.HasPrefix(se.Error(), "unexpected end of JSON input") {
			at = len(data)
		}
		return nil, &syntaxError{pos: li.pos(at), msg: "invalid JSON: " + se.Error()}
	}
	p := &jsonReader{data: data, line: 1, col: 1}
	return p.value(0)
}

// jsonReader reads valid JSON, tracking the line and column (in
// characters) of its offset.
type jsonReader struct {
	data      []byte
	off       int
	line, col int
}

func (r *jsonReader) pos() contract.Position { return contract.Position{Line: r.line, Column: r.col} }

// peek returns the byte at the offset, 0 at the end.
func (r *jsonReader) peek() byte {
	if r.off < len(r.data) {
		return r.data[r.off]
	}
	return 0
}

// advance moves at least n bytes on, by whole characters, counting them
// as utf8.RuneCount does (an invalid byte is one character).
func (r *jsonReader) advance(n int) {
	for end := r.off + n; r.off < end && r.off < len(r.data); {
		b := r.data[r.off]
		switch {
		case b == '\n':
			r.off++
			r.line++
			r.col = 1
			continue
		case b < utf8.RuneSelf:
			r.off++
		default:
			_, size := utf8.DecodeRune(r.data[r.off:])
			r.off += size
		}
		r.col++
	}
}

func (r *jsonReader) skipSpace() {
	for {
		switch r.peek() {
		case ' ', '\t', '\r', '\n':
			r.advance(1)
		default:
			return
		}
	}
}

// expect consumes c after blanks; the input is valid, so a mismatch is a
// bug in the reader, reported rather than panicking.
func (r *jsonReader) expect(c byte) error {
	r.skipSpace()
	if r.peek() != c {
		return &syntaxError{pos: r.pos(), msg: fmt.Sprintf("invalid JSON: expected %q", c)}
	}
	r.advance(1)
	return nil
}

func (r *jsonReader) value(depth int) (*node, error) {
	r.skipSpace()
	pos := r.pos()
	if depth > maxDepth {
		return nil, &syntaxError{pos: pos, msg: fmt.Sprintf("nesting deeper than %d levels", maxDepth)}
	}
	switch c := r.peek(); c {
	case '{':
		r.advance(1)
		n := &node{kind: kindObject, pos: pos}
		r.skipSpace()
		if r.peek() == '}' {
			r.advance(1)
			return n, nil
		}
		for {
			r.skipSpace()
			k, err := r.str()
			if err != nil {
				return nil, err
			}
			if err := r.expect(':'); err != nil {
				return nil, err
			}
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k)
			n.vals = append(n.vals, v)
			r.skipSpace()
			if r.peek() != ',' {
				return n, r.expect('}')
			}
			r.advance(1)
		}
	case '[':
		r.advance(1)
		n := &node{kind: kindArray, pos: pos}
		r.skipSpace()
		if r.peek() == ']' {
			r.advance(1)
			return n, nil
		}
		for {
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
			r.skipSpace()
			if r.peek() != ',' {
				return n, r.expect(']')
			}
			r.advance(1)
		}
	case '"':
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: kindString, pos: pos, text: s}, nil
	case 't':
		r.advance(4)
		return &node{kind: kindBool, pos: pos, text: "true"}, nil
	case 'f':
		r.advance(5)
		return &node{kind: kindBool, pos: pos, text: "false"}, nil
	case 'n':
		r.advance(4)
		return &node{kind: kindNull, pos: pos}, nil
	default:
		start := r.off
		for strings.IndexByte("+-0123456789.eE", r.peek()) >= 0 && r.off < len(r.data) {
			r.advance(1)
		}
		if r.off == start {
			return nil, &syntaxError{pos: pos, msg: fmt.Sprintf("invalid JSON: unexpected %q", c)}
		}
		return &node{kind: kindNumber, pos: pos, text: string(r.data[start:r.off])}, nil
	}
}

// str reads a string literal; one with escapes or invalid UTF-8 (which
// encoding/json turns into U+FFFD) goes through encoding/json.
func (r *jsonReader) str() (string, error) {
	pos := r.pos()
	if r.peek() != '"' {
		return "", &syntaxError{pos: pos, msg: "invalid JSON: expected a string"}
	}
	start := r.off
	r.advance(1)
	escaped := false
	for r.off < len(r.data) {
		switch r.data[r.off] {
		case '\\':
			escaped = true
			r.advance(2)
			continue
		case '"':
			r.advance(1)
			raw := r.data[start:r.off]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", &syntaxError{pos: pos, msg: "invalid JSON: " + err.Error()}
			}
			return s, nil
		}
		r.advance(1)
	}
	return "", &syntaxError{pos: pos, msg: "invalid JSON: unterminated string"}
}

// maxYAMLNodes bounds the nodes built from a YAML document, aliases
// expanded, so an alias bomb is refused instead of exhausting memory.
const maxYAMLNodes = 1 << 20

var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parseYAML parses a krakend.yaml document into the same tree as JSON.
func parseYAML(data []byte) (*node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		var pos contract.Position
		if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
			if m[1] != "" {
				pos.Line, _ = strconv.Atoi(m[1])
			}
			msg = m[2]
		}
		return nil, &syntaxError{pos: pos, msg: "invalid YAML: " + msg}
	}
	if doc.Kind == 0 {
		return nil, &syntaxError{pos: contract.Position{Line: 1, Column: 1}, msg: "empty document: expected a KrakenD configuration object"}
	}
	c := &yamlConverter{}
	return c.convert(&doc, 0)
}

type yamlConverter struct {
	count int
}

func (c *yamlConverter) convert(y *yaml.Node, depth int) (*node, error) {
	pos := contract.Position{Line: y.Line, Column: y.Column}
	c.count++
	if c.count > maxYAMLNodes || depth > maxDepth {
		return nil, &syntaxError{pos: pos, msg: "YAML document too large or too deeply nested (aliases expanded)"}
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: kindNull, pos: pos}, nil
		}
		return c.convert(y.Content[0], depth+1)
	case yaml.AliasNode:
		if y.Alias == nil {
			return &node{kind: kindNull, pos: pos}, nil
		}
		n, err := c.convert(y.Alias, depth+1)
		if err != nil {
			return nil, err
		}
		cp := *n
		cp.pos = pos
		return &cp, nil
	case yaml.MappingNode:
		n := &node{kind: kindObject, pos: pos}
		// Keys merged in with "<<" come first, so the mapping's own keys win
		// (get returns the last occurrence).
		var merged node
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, &syntaxError{pos: contract.Position{Line: k.Line, Column: k.Column}, msg: "invalid YAML for KrakenD: mapping keys must be plain strings"}
			}
			val, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			if k.ShortTag() == "!!merge" {
				sources := []*node{val}
				if val.kind == kindArray {
					sources = val.vals
				}
				for _, src := range sources {
					if src.kind != kindObject {
						return nil, &syntaxError{pos: src.pos, msg: "invalid YAML: a merge (<<) needs a mapping or a list of mappings"}
					}
					merged.keys = append(merged.keys, src.keys...)
					merged.vals = append(merged.vals, src.vals...)
				}
				continue
			}
			n.keys = append(n.keys, k.Value)
			n.vals = append(n.vals, val)
		}
		if len(merged.keys) > 0 {
			n.keys = append(merged.keys, n.keys...)
			n.vals = append(merged.vals, n.vals...)
		}
		return n, nil
	case yaml.SequenceNode:
		n := &node{kind: kindArray, pos: pos}
		for _, item := range y.Content {
			val, err := c.convert(item, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, val)
		}
		return n, nil
	case yaml.ScalarNode:
		switch y.ShortTag() {
		case "!!null":
			return &node{kind: kindNull, pos: pos}, nil
		case "!!bool":
			return &node{kind: kindBool, pos: pos, text: y.Value}, nil
		case "!!int", "!!float":
			return &node{kind: kindNumber, pos: pos, text: y.Value}, nil
		}
		return &node{kind: kindString, pos: pos, text: y.Value}, nil
	}
	return nil, &syntaxError{pos: pos, msg: "invalid YAML: unsupported node"}
}
