package krakend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/gatewatch/gatewatch/contract"
)

// ErrTemplate is wrapped by the error Load returns for a flexible-config
// template given without the folders needed to render it.
var ErrTemplate = errors.New("KrakenD flexible-configuration template")

// rendering reports whether Load renders the file as a flexible-config
// template, as krakend does with FC_ENABLE=1.
func (o Options) rendering() bool {
	return o.Settings != "" || o.Partials != "" || o.Templates != ""
}

// render executes data as a KrakenD flexible-configuration template: Go
// text/template with the settings folder's JSON files as data, partials for
// include, the templates folder's *.tmpl files for template, marshal and the
// sprig functions templates commonly use.
func render(path string, data []byte, opts Options) ([]byte, error) {
	name := filepath.Base(path)
	// files maps template names to the files they come from, for errors.
	files := map[string]string{name: path}
	fail := func(err error) error { return templateError(err, files, path) }
	vars, err := loadSettings(opts.Settings)
	if err != nil {
		return nil, err
	}
	var tmpls []string
	if opts.Templates != "" {
		entries, err := os.ReadDir(opts.Templates)
		if err != nil {
			return nil, fail(fmt.Errorf("reading the templates folder: %w", err))
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".tmpl") {
				file := filepath.Join(opts.Templates, e.Name())
				tmpls = append(tmpls, file)
				if _, taken := files[e.Name()]; !taken {
					files[e.Name()] = file
				}
			}
		}
	}
	t := template.New(name).Funcs(funcMap(opts.Partials))
	if _, err := t.Parse(string(data)); err != nil {
		return nil, fail(err)
	}
	if len(tmpls) > 0 {
		if _, err := t.ParseFiles(tmpls...); err != nil {
			return nil, fail(err)
		}
	}
	buf := &limitedBuffer{max: maxRendered}
	if err := t.ExecuteTemplate(buf, name, vars); err != nil {
		return nil, fail(err)
	}
	return buf.Bytes(), nil
}

// templateErrRe splits text/template's "template: NAME:LINE[:COL]: MSG".
var templateErrRe = regexp.MustCompile(`^template: ([^:]+):(\d+)(?::(\d+))?: (.*)$`)

// templateError places a text/template error in the file it comes from.
func templateError(err error, files map[string]string, fallback string) error {
	m := templateErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return &contract.Error{File: fallback, Err: fmt.Errorf("flexible configuration: %w", err)}
	}
	file, ok := files[m[1]]
	if !ok {
		file = fallback
	}
	var pos contract.Position
	pos.Line, _ = strconv.Atoi(m[2])
	pos.Column, _ = strconv.Atoi(m[3])
	return &contract.Error{File: file, Pos: pos, Err: &renderError{msg: "flexible configuration: " + m[4], err: err}}
}

// renderError is a template error restated without its place, which the
// enclosing contract.Error carries.
type renderError struct {
	msg string
	err error
}

func (e *renderError) Error() string { return e.msg }
func (e *renderError) Unwrap() error { return e.err }

// maxRendered bounds the rendered configuration, so a runaway range loop
// fails instead of exhausting memory. A variable for tests.
var maxRendered = 64 << 20

// limitedBuffer is a bytes.Buffer that refuses to grow past max bytes.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, fmt.Errorf("the rendered configuration exceeds %d bytes", b.max)
	}
	return b.Buffer.Write(p)
}

// loadSettings reads every *.json file of dir into a map keyed by the file
// name without ".json": settings/service.json becomes .service.
func loadSettings(dir string) (map[string]any, error) {
	vars := map[string]any{}
	if dir == "" {
		return vars, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &contract.Error{File: dir, Err: fmt.Errorf("flexible configuration: reading the settings folder: %w", err)}
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, &contract.Error{File: file, Err: fmt.Errorf("flexible configuration: reading settings: %w", err)}
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			ce := &contract.Error{File: file, Err: fmt.Errorf("flexible configuration: settings must be a JSON object: %w", err)}
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &se):
				ce.Pos = newLineIndex(b).pos(int(se.Offset) - 1)
			case errors.As(err, &te):
				ce.Pos = newLineIndex(b).pos(int(te.Offset) - 1)
			}
			return nil, ce
		}
		vars[strings.TrimSuffix(e.Name(), ".json")] = v
	}
	return vars, nil
}

// funcMap is KrakenD's flexible-config functions (marshal, include) and the
// sprig functions real templates use, with sprig's argument order.
func funcMap(partials string) template.FuncMap {
	return template.FuncMap{
		"marshal": marshal,
		"include": func(name string) (string, error) {
			if partials == "" {
				return "", fmt.Errorf("include %q: no partials folder given", name)
			}
			b, err := os.ReadFile(filepath.Join(partials, name))
			if err != nil {
				return "", fmt.Errorf("reading the partial: %w", err)
			}
			return string(b), nil
		},
		// sprig
		"env":        os.Getenv,
		"toJson":     marshal,
		"default":    dflt,
		"empty":      empty,
		"coalesce":   coalesce,
		"ternary":    ternary,
		"quote":      func(s ...any) string { return joinMapped(s, func(x string) string { return fmt.Sprintf("%q", x) }) },
		"squote":     func(s ...any) string { return joinMapped(s, func(x string) string { return "'" + x + "'" }) },
		"upper":      strings.ToUpper,
		"lower":      strings.ToLower,
		"trim":       strings.TrimSpace,
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"trimAll":    func(cut, s string) string { return strings.Trim(s, cut) },
		"replace":    func(old, repl, s string) string { return strings.ReplaceAll(s, old, repl) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"splitList":  func(sep, s string) []string { return strings.Split(s, sep) },
		"join":       join,
		"list":       func(v ...any) []any { return v },
		"dict":       dict,
		"hasKey":     func(m map[string]any, k string) bool { _, ok := m[k]; return ok },
		"keys":       keys,
		"toString":   func(v any) string { return fmt.Sprint(v) },
		"add":        func(v ...any) (int64, error) { return fold(0, v, func(x, y int64) int64 { return x + y }) },
		"mul":        func(v ...any) (int64, error) { return fold(1, v, func(x, y int64) int64 { return x * y }) },
		"sub":        sub,
	}
}

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("marshal: %w", err)
	}
	return string(b), nil
}

func empty(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return r.Len() == 0
	case reflect.Bool:
		return !r.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return r.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return r.Float() == 0
	case reflect.Pointer, reflect.Interface:
		return r.IsNil()
	}
	return false
}

// dflt is sprig's default: `{{ .x | default "y" }}` gives "y" when .x is empty.
func dflt(d any, given ...any) any {
	if len(given) == 0 || empty(given[0]) {
		return d
	}
	return given[0]
}

// ternary is sprig's ternary: `{{ ternary "yes" "no" .flag }}`.
func ternary(yes, no any, cond bool) any {
	if cond {
		return yes
	}
	return no
}

func coalesce(v ...any) any {
	for _, x := range v {
		if !empty(x) {
			return x
		}
	}
	return nil
}

func joinMapped(v []any, f func(string) string) string {
	out := make([]string, 0, len(v))
	for _, x := range v {
		if x != nil {
			out = append(out, f(fmt.Sprint(x)))
		}
	}
	return strings.Join(out, " ")
}

func join(sep string, v any) string {
	r := reflect.ValueOf(v)
	if r.Kind() != reflect.Slice && r.Kind() != reflect.Array {
		return fmt.Sprint(v)
	}
	out := make([]string, r.Len())
	for i := range out {
		out[i] = fmt.Sprint(r.Index(i).Interface())
	}
	return strings.Join(out, sep)
}

func dict(v ...any) (map[string]any, error) {
	if len(v)%2 != 0 {
		return nil, errors.New("dict: expected key and value pairs")
	}
	m := make(map[string]any, len(v)/2)
	for i := 0; i < len(v); i += 2 {
		m[fmt.Sprint(v[i])] = v[i+1]
	}
	return m, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sub(a, b any) (int64, error) {
	x, err := toInt64(a)
	if err != nil {
		return 0, err
	}
	y, err := toInt64(b)
	if err != nil {
		return 0, err
	}
	return x - y, nil
}

// fold combines numbers left to right, starting from acc.
func fold(acc int64, v []any, f func(x, y int64) int64) (int64, error) {
	for _, x := range v {
		n, err := toInt64(x)
		if err != nil {
			return 0, err
		}
		acc = f(acc, n)
	}
	return acc, nil
}

func toInt64(v any) (int64, error) {
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(r.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return int64(r.Float()), nil
	}
	return 0, fmt.Errorf("expected a number, got %T", v)
}
