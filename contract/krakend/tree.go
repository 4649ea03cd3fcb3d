package krakend

import (
	"bytes"
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
// the offset and the context of a syntax error); the decoder's token stream
// then yields the values, and its input offset their positions.
func parseJSON(data []byte) (*node, error) {
	li := newLineIndex(data)
	if !json.Valid(data) {
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
	p := &jsonParser{
		data: data,
		li:   li,
		dec:  json.NewDecoder(bytes.NewReader(data)),
	}
	p.dec.UseNumber()
	return p.value(0)
}

type jsonParser struct {
	data []byte
	li   *lineIndex
	dec  *json.Decoder
}

// start returns the offset of the next token: the decoder's offset moved
// past blanks and the separators it consumes itself.
func (p *jsonParser) start() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// token reads the next token of input already known to be valid JSON.
func (p *jsonParser) token() (json.Token, contract.Position, error) {
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, contract.Position{}, &syntaxError{pos: p.li.pos(off), msg: "invalid JSON: " + err.Error()}
	}
	return tok, p.li.pos(off), nil
}

func (p *jsonParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, &syntaxError{pos: p.li.pos(p.start()), msg: fmt.Sprintf("nesting deeper than %d levels", maxDepth)}
	}
	tok, pos, err := p.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kindObject, pos: pos}
			for p.dec.More() {
				ktok, _, err := p.token()
				if err != nil {
					return nil, err
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				// The decoder only yields strings as keys.
				k, _ := ktok.(string)
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			if _, _, err := p.token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: kindArray, pos: pos}
			for p.dec.More() {
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			if _, _, err := p.token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, &syntaxError{pos: pos, msg: fmt.Sprintf("invalid JSON: unexpected %q", rune(t))}
	case string:
		return &node{kind: kindString, pos: pos, text: t}, nil
	case json.Number:
		return &node{kind: kindNumber, pos: pos, text: string(t)}, nil
	case bool:
		return &node{kind: kindBool, pos: pos, text: strconv.FormatBool(t)}, nil
	case nil:
		return &node{kind: kindNull, pos: pos}, nil
	}
	return nil, &syntaxError{pos: pos, msg: fmt.Sprintf("invalid JSON: unexpected token %v", tok)}
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
