package krakend

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

// flexibleOptions names the settings, partials and templates folders of dir
// that exist.
func flexibleOptions(dir string) Options {
	var o Options
	for name, field := range map[string]*string{"settings": &o.Settings, "partials": &o.Partials, "templates": &o.Templates} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			*field = filepath.Join(dir, name)
		}
	}
	return o
}

// TestLoadFlexible renders testdata/flexible/krakend.tmpl the way krakend
// does with FC_ENABLE=1 and checks the contract read from the result.
func TestLoadFlexible(t *testing.T) {
	t.Setenv("GATEWATCH_TEST_ENV", "prod")
	path := filepath.Join("testdata", "flexible", "krakend.tmpl")
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	opts := flexibleOptions(filepath.Join("testdata", "flexible"))
	opts.Out = filepath.Join(t.TempDir(), "out.json")
	c, err := Load(path, data, opts)
	require.NoError(t, err)

	require.Equal(t, "shop (PROD)", c.Name, "settings value, env and sprig default|upper")
	require.Equal(t, path, c.Source)
	require.Equal(t, contract.HashSource(data), c.Hash, "the hash is of the template, the file in git")
	require.Equal(t, contract.Defaults{Port: 8080, Timeout: 2500 * time.Millisecond, Hosts: []string{"http://shop-api:9000"}}, c.Defaults)

	rl := &contract.RateLimit{Requests: 50, Period: time.Minute}
	hosts := []string{"http://shop-api:9000"}
	require.Equal(t, []contract.Endpoint{{
		Name: "/v1/products", Path: "/v1/products", Match: contract.MatchExact, Methods: []string{"GET"},
		Timeout: 2500 * time.Millisecond, RateLimit: rl, Public: true, Pos: pos(9, 5),
		Backends: []contract.Backend{{Hosts: hosts, URL: "/products"}},
	}, {
		Name: "/v1/products/{id}", Path: "/v1/products/{id}", Match: contract.MatchExact, Methods: []string{"GET"},
		Params: []string{"id"}, Timeout: 2500 * time.Millisecond, RateLimit: rl, Public: true, Pos: pos(18, 5),
		Backends: []contract.Backend{{Hosts: hosts, URL: "/products/{id}"}},
	}, {
		Name: "/v1/orders", Path: "/v1/orders", Match: contract.MatchExact, Methods: []string{"POST"},
		Timeout: 2500 * time.Millisecond, RateLimit: rl, Public: true, Pos: pos(27, 5),
		Auth:     contract.Auth{Required: true, Kinds: []string{"jwt"}},
		Backends: []contract.Backend{{Hosts: hosts, URL: "/orders"}},
	}}, c.Endpoints)

	// Out holds the rendered JSON, which endpoint positions refer to.
	out, err := os.ReadFile(opts.Out)
	require.NoError(t, err)
	var rendered struct {
		Endpoints []struct {
			Endpoint    string                     `json:"endpoint"`
			ExtraConfig map[string]json.RawMessage `json:"extra_config"`
		} `json:"endpoints"`
		ExtraConfig map[string]any `json:"extra_config"`
	}
	require.NoError(t, json.Unmarshal(out, &rendered))
	require.Len(t, rendered.Endpoints, 3)
	require.Contains(t, rendered.ExtraConfig, "telemetry/logging", "marshal of a settings object")
	require.Contains(t, rendered.Endpoints[2].ExtraConfig, "auth/validator", "template from the templates folder")
	lines := splitLines(out)
	require.Equal(t, `      "endpoint": "/v1/orders",`, lines[c.Endpoints[2].Pos.Line])
	require.Equal(t, []contract.Note{{Text: "positions refer to the rendered configuration " + opts.Out + ", not to the template"}}, c.Notes)
}

func splitLines(b []byte) []string {
	var lines []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			lines = append(lines, string(b[start:i]))
			start = i + 1
		}
	}
	return append(lines, string(b[start:]))
}

// TestLoadFlexibleErrors injects each kind of fault into a copy of the
// flexible-config testdata.
func TestLoadFlexibleErrors(t *testing.T) {
	cases := []struct {
		name   string
		tmpl   string
		modify func(t *testing.T, dir string)
		want   string
	}{
		{
			name:   "missing partial",
			tmpl:   `{"version": 3, "extra_config": { {{ include "nope.json" }} }}`,
			modify: func(*testing.T, string) {},
			want:   `DIR/krakend.tmpl:1:36: flexible configuration: executing "krakend.tmpl" at <include "nope.json">: error calling include: reading the partial: open DIR/partials/nope.json: no such file or directory`,
		},
		{
			name: "settings file that is not JSON",
			tmpl: `{"version": 3}`,
			modify: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "settings", "broken.json"), []byte("{\n  \"port\": 80,\n  \"name\" \"x\"\n}"), 0o644))
			},
			want: `DIR/settings/broken.json:3:10: flexible configuration: settings must be a JSON object: invalid character '"' after object key`,
		},
		{
			name:   "template syntax error",
			tmpl:   "{\n  \"version\": 3,\n  \"port\": {{ .service.port }\n}",
			modify: func(*testing.T, string) {},
			want:   `DIR/krakend.tmpl:3: flexible configuration: unexpected "}" in operand`,
		},
		{
			name:   "missing setting renders <no value>",
			tmpl:   "{\n  \"version\": 3,\n  \"port\": {{ .service.no_such_port }}\n}",
			modify: func(*testing.T, string) {},
			want:   `DIR/krakend.tmpl (rendered):3:11: invalid JSON: invalid character '<' looking for beginning of value (the rendered text contains "<no value>": the template reads a setting that is missing)`,
		},
		{
			name:   "unknown template",
			tmpl:   `{"version": 3, "extra_config": { {{ template "missing.tmpl" . }} }}`,
			modify: func(*testing.T, string) {},
			want:   `DIR/krakend.tmpl:1:45: flexible configuration: executing "krakend.tmpl" at <{{template "missing.tmpl" .}}>: template "missing.tmpl" not defined`,
		},
		{
			name: "error inside a template of the templates folder",
			tmpl: `{"version": 3, "extra_config": { {{ template "jwt.tmpl" .nothing }} }}`,
			modify: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "jwt.tmpl"), []byte("\"auth/validator\": {\n  \"alg\": {{ marshal (index . \"alg\") }}\n}"), 0o644))
			},
			want: `DIR/templates/jwt.tmpl:2:21: flexible configuration: executing "jwt.tmpl" at <index . "alg">: error calling index: index of untyped nil`,
		},
		{
			name: "settings folder missing",
			tmpl: `{"version": 3}`,
			modify: func(t *testing.T, dir string) {
				require.NoError(t, os.RemoveAll(filepath.Join(dir, "settings")))
			},
			want: `DIR/settings: flexible configuration: reading the settings folder: open DIR/settings: no such file or directory`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join("testdata", "flexible"))
			opts := flexibleOptions(dir)
			tc.modify(t, dir)
			path := filepath.Join(dir, "krakend.tmpl")
			c, err := Load(path, []byte(tc.tmpl), opts)
			require.Nil(t, c)
			require.EqualError(t, err, strings.ReplaceAll(tc.want, "DIR", dir))
			var ce *contract.Error
			require.ErrorAs(t, err, &ce)
		})
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

func TestLoadFlexibleOutUnwritable(t *testing.T) {
	dir := filepath.Join("testdata", "flexible")
	opts := flexibleOptions(dir)
	opts.Out = filepath.Join(t.TempDir(), "no-such-dir", "out.json")
	_, err := Load(filepath.Join(dir, "x.tmpl"), []byte(`{"version": 3}`), opts)
	require.EqualError(t, err, opts.Out+": writing the rendered configuration of testdata/flexible/x.tmpl: open "+opts.Out+": no such file or directory")
}

func TestLoadFlexibleOutputLimit(t *testing.T) {
	defer func(old int) { maxRendered = old }(maxRendered)
	maxRendered = 1000
	dir := filepath.Join("testdata", "flexible")
	_, err := Load(filepath.Join(dir, "loop.tmpl"), []byte(`{"endpoints": [{{ range 100000 }}{"endpoint": "/a"},{{ end }}]}`), flexibleOptions(dir))
	require.EqualError(t, err, "testdata/flexible/loop.tmpl: flexible configuration: the rendered configuration exceeds 1000 bytes")
}

// TestLoadTemplateWithoutFolders: a template given as plain JSON is refused
// with an error that says what it is and what to pass.
func TestLoadTemplateWithoutFolders(t *testing.T) {
	path := filepath.Join("testdata", "flexible", "krakend.tmpl")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = Load(path, data, Options{})
	require.EqualError(t, err, `testdata/flexible/krakend.tmpl:3:12: KrakenD flexible-configuration template ({{ ... }} found), not plain JSON or YAML: `+
		`pass its settings, partials and/or templates folders (--settings, --partials, --templates; krakend's FC_SETTINGS, FC_PARTIALS, FC_TEMPLATES) to render it `+
		`(read as plain text it fails at 3:41: invalid JSON: invalid character 'G' after object key:value pair)`)
	require.True(t, errors.Is(err, ErrTemplate))

	// A plain config whose strings hold {{ }} (response templates) is not a
	// flexible-config template and loads as it is.
	c, err := Load("krakend.json", []byte(`{"version": 3, "endpoints": [{"endpoint": "/a", "extra_config": {"modifier/response-body": {"template": "{{ .resp_body }}"}}}]}`), Options{})
	require.NoError(t, err)
	require.Len(t, c.Endpoints, 1)
}

func TestFuncMap(t *testing.T) {
	t.Setenv("GATEWATCH_FUNC_TEST", "from-env")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.txt"), []byte("partial\n"), 0o644))
	cases := []struct{ tmpl, want string }{
		{`{{ marshal .m }}`, `{"a":[1,"x"],"n":7}`},
		{`{{ toJson .m.a }}`, `[1,"x"]`},
		{`{{ include "p.txt" }}`, "partial\n"},
		{`{{ env "GATEWATCH_FUNC_TEST" }}`, "from-env"},
		{`{{ .missing | default "d" }}|{{ "v" | default "d" }}`, "d|v"},
		{`{{ quote "a" 1 }}|{{ squote "b" }}`, `"a" "1"|'b'`},
		{`{{ upper "ab" }}{{ lower "CD" }}{{ trim "  e  " }}`, "ABcde"},
		{`{{ trimPrefix "/api" "/api/v1" }}|{{ trimSuffix ".json" "a.json" }}|{{ trimAll "/" "/x/" }}`, "/v1|a|x"},
		{`{{ replace "-" "_" "a-b-c" }}`, "a_b_c"},
		{`{{ contains "b" "abc" }}{{ hasPrefix "a" "abc" }}{{ hasSuffix "x" "abc" }}`, "truetruefalse"},
		{`{{ join "," (splitList ":" "a:b:c") }}|{{ join "+" (list 1 2) }}`, "a,b,c|1+2"},
		{`{{ $d := dict "k" "v" "n" 2 }}{{ hasKey $d "k" }}{{ keys $d }}`, "true[k n]"},
		{`{{ add 1 2 3 }}|{{ sub 10 4 }}|{{ mul 2 3 }}|{{ add .m.n 1 }}`, "6|6|6|8"},
		{`{{ empty "" }}{{ empty .m }}|{{ coalesce "" 0 "z" }}|{{ ternary "y" "n" true }}|{{ toString 4 }}`, "truefalse|z|y|4"},
	}
	vars := map[string]any{"m": map[string]any{"a": []any{1, "x"}, "n": float64(7)}}
	for _, tc := range cases {
		t.Run(tc.tmpl, func(t *testing.T) {
			tmpl, err := template.New("t").Funcs(funcMap(dir)).Parse(tc.tmpl)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, tmpl.Execute(&out, vars))
			require.Equal(t, tc.want, out.String())
		})
	}
}
