package krakend

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gatewatch/gatewatch/contract"
)

// FuzzLoad feeds arbitrary bytes to Load as JSON and as YAML: it must never
// panic, and it returns either a consistent contract or a *contract.Error.
func FuzzLoad(f *testing.F) {
	if entries, err := os.ReadDir(corpusDir); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(corpusDir, e.Name())); err == nil {
				f.Add(b, false)
			}
		}
	}
	for _, s := range []string{
		`{"version": 3, "endpoints": [{"endpoint": "/a/{b}/*", "backend": {"host": "h"}, "extra_config": {"qos/ratelimit/router": {"max_rate": 1e400}}}]}`,
		`{"version": 2, "port": "80", "endpoints": [{"endpoint": "/x", "method": "post", "timeout": "1h"}]}`,
		"version: 3\nendpoints:\n  - &e {endpoint: /a}\n  - *e\n",
		"{\"endpoints\": [\n\t{\"endpoint\": \"/ü\"}]}",
		`[[[[[[[[[[`,
		`{"a":`,
		"{{ .x }}",
	} {
		f.Add([]byte(s), strings.HasPrefix(s, "version:"))
	}
	f.Fuzz(func(t *testing.T, data []byte, asYAML bool) {
		name := "krakend.json"
		if asYAML {
			name = "krakend.yaml"
		}
		Detect(data)
		c, err := Load(name, data, Options{})
		if err != nil {
			if c != nil {
				t.Fatalf("contract and error both returned: %v", err)
			}
			var ce *contract.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *contract.Error: %T %v", err, err)
			}
			if ce.File != name {
				t.Fatalf("error names %q, want %q", ce.File, name)
			}
			return
		}
		if c.Hash != contract.HashSource(data) || c.Gateway != contract.KrakenD {
			t.Fatalf("inconsistent contract %+v", c)
		}
		for i, e := range c.Endpoints {
			if !strings.HasPrefix(e.Name, "/") || e.Pos.Line < 1 || e.Pos.Column < 1 || len(e.Methods) != 1 {
				t.Fatalf("endpoint %d inconsistent: %+v", i, e)
			}
		}
	})
}

// BenchmarkLoad measures loading the largest corpus configuration.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(corpusDir, "06-NetrunnerDB-krakend_api_gateway.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("corpus file %s is absent: %v", path, err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path, data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseJSON checks the position-keeping JSON reader against
// encoding/json: same values, and every position points at the first
// character of its value.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"a": [1, -2.5e3, "x\u00e9\n", true, false, null], "b": {"c": {}}, "a": "dup"}`,
		"{\n\t\"é\": \"☕\",\r\n  \"k\": [ [], {} ]\n}",
		`"just a string"`, `12`, `[]`,
	} {
		f.Add([]byte(s))
	}
	if entries, err := os.ReadDir(corpusDir); err == nil {
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(corpusDir, e.Name())); err == nil && json.Valid(b) {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseJSON(data)
		if !json.Valid(data) {
			if err == nil {
				t.Fatal("invalid JSON accepted")
			}
			return
		}
		if err != nil {
			var se *syntaxError
			if errors.As(err, &se) && strings.HasPrefix(se.msg, "nesting deeper") {
				return
			}
			t.Fatalf("valid JSON refused: %v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := plain(n); !reflect.DeepEqual(got, want) {
			t.Fatalf("values differ:\n got %#v\nwant %#v", got, want)
		}
		li := newLineIndex(data)
		checkPositions(t, data, li, n)
	})
}

// plain turns a node tree into what encoding/json decodes with UseNumber.
func plain(n *node) any {
	switch n.kind {
	case kindObject:
		m := map[string]any{}
		for i, k := range n.keys {
			m[k] = plain(n.vals[i])
		}
		return m
	case kindArray:
		a := []any{}
		for _, v := range n.vals {
			a = append(a, plain(v))
		}
		return a
	case kindString:
		return n.text
	case kindNumber:
		return json.Number(n.text)
	case kindBool:
		return n.text == "true"
	}
	return nil
}

func checkPositions(t *testing.T, data []byte, li *lineIndex, n *node) {
	off := -1
	// Find the byte offset of n.pos by scanning: positions are increasing,
	// so a linear search from the line start is enough here.
	for o := li.starts[n.pos.Line-1]; o <= len(data); o++ {
		if li.pos(o) == n.pos {
			off = o
			break
		}
	}
	if off < 0 || off >= len(data) {
		t.Fatalf("position %s of a %s is outside the input", n.pos, n.kind)
	}
	first := map[kind]string{kindObject: "{", kindArray: "[", kindString: `"`, kindBool: "tf", kindNull: "n", kindNumber: "-0123456789"}[n.kind]
	if !strings.ContainsRune(first, rune(data[off])) {
		t.Fatalf("position %s of a %s points at %q", n.pos, n.kind, data[off])
	}
	for _, v := range n.vals {
		checkPositions(t, data, li, v)
	}
}

// BenchmarkLoadMinified loads the same configuration on one line, where
// column tracking must stay linear.
func BenchmarkLoadMinified(b *testing.B) {
	path := filepath.Join(corpusDir, "06-NetrunnerDB-krakend_api_gateway.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("corpus file %s is absent: %v", path, err)
	}
	var min bytes.Buffer
	if err := json.Compact(&min, data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(min.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("min.json", min.Bytes(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
