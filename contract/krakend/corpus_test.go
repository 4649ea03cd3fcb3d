package krakend

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

// corpusDir holds real KrakenD configurations from public repositories
// (shared/corpus beside the repository).
const corpusDir = "../../../shared/corpus/krakend"

// corpusTemplates are the corpus files that are flexible-config templates,
// with the folders under testdata/corpus-fc that render them and the number
// of endpoints the rendering has.
var corpusTemplates = map[string]struct {
	dir       string
	endpoints int
}{
	"05-NETCRACKER-P2P-Streaming-API-Gateway.json":    {"05", 13},
	"19-Klasmart-Engineering-api-management-poc.json": {"19", 10},
	"26-TaskarCenterAtUW-TDEI-api-gateway.tmpl":       {"26", 4},
}

func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(corpusDir)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("corpus folder %s is absent: the corpus test needs shared/corpus beside the repository", corpusDir)
	}
	require.NoError(tb, err)
	var files []string
	for _, e := range entries {
		if !e.IsDir() {
			files = append(files, filepath.Join(corpusDir, e.Name()))
		}
	}
	require.NotEmpty(tb, files)
	return files
}

// TestCorpus loads every corpus file (templates rendered with testdata
// folders) and checks the contract against an independent reading of the
// same JSON with encoding/json.
func TestCorpus(t *testing.T) {
	t.Setenv("SERVICE_NAME", "TDEI gateway")
	for _, path := range corpusFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.True(t, Detect(data), "Detect")

			raw := data
			var opts Options
			tmpl, isTemplate := corpusTemplates[filepath.Base(path)]
			if isTemplate {
				_, err := Load(path, data, Options{})
				require.ErrorIs(t, err, ErrTemplate)
				opts = flexibleOptions(filepath.Join("testdata", "corpus-fc", tmpl.dir))
				opts.Out = filepath.Join(t.TempDir(), "rendered.json")
			}
			c, err := Load(path, data, opts)
			require.NoError(t, err)
			if isTemplate {
				raw, err = os.ReadFile(opts.Out)
				require.NoError(t, err)
				require.Len(t, c.Endpoints, tmpl.endpoints)
			}
			require.Equal(t, contract.KrakenD, c.Gateway)
			require.Equal(t, path, c.Source)
			require.Equal(t, contract.HashSource(data), c.Hash)
			checkAgainstJSON(t, raw, c)
		})
	}
}

// checkAgainstJSON reads raw with encoding/json into maps and compares what
// it finds with c, endpoint by endpoint.
func checkAgainstJSON(t *testing.T, raw []byte, c *contract.Contract) {
	t.Helper()
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(raw, &cfg))

	if name, ok := cfg["name"].(string); ok && name != "" {
		require.Equal(t, name, c.Name)
	} else {
		base := filepath.Base(c.Source)
		require.Equal(t, strings.TrimSuffix(base, filepath.Ext(base)), c.Name)
	}
	if port, ok := cfg["port"].(float64); ok {
		require.Equal(t, int(port), c.Defaults.Port)
	}
	var global time.Duration
	if s, ok := cfg["timeout"].(string); ok {
		var err error
		global, err = time.ParseDuration(s)
		require.NoError(t, err)
	}
	require.Equal(t, global, c.Defaults.Timeout)

	eps, _ := cfg["endpoints"].([]any)
	require.Len(t, c.Endpoints, len(eps), "endpoint count")
	lines := bytes.Split(raw, []byte("\n"))
	for i, v := range eps {
		e := v.(map[string]any)
		got := c.Endpoints[i]
		path := e["endpoint"].(string)
		method := "GET"
		if m, ok := e["method"].(string); ok {
			method = strings.ToUpper(m)
		}
		require.Equal(t, path, got.Name, "endpoints[%d] name", i)
		require.Equal(t, []string{method}, got.Methods, "endpoints[%d] %s: a missing method is GET", i, path)
		if strings.HasSuffix(path, "/*") {
			require.Equal(t, contract.MatchPrefix, got.Match)
		} else {
			require.Equal(t, contract.MatchExact, got.Match)
			require.Equal(t, path, got.Path)
		}
		require.Equal(t, strings.Count(path, "{"), len(got.Params), "endpoints[%d] %s params", i, path)

		timeout := global
		if s, ok := e["timeout"].(string); ok {
			var err error
			timeout, err = time.ParseDuration(s)
			require.NoError(t, err)
		}
		require.Equal(t, timeout, got.Timeout, "endpoints[%d] %s timeout", i, path)

		nBackends := 0
		switch b := e["backend"].(type) {
		case []any:
			nBackends = len(b)
		case map[string]any:
			nBackends = 1
		}
		require.Len(t, got.Backends, nBackends, "endpoints[%d] %s backends", i, path)

		extra, _ := e["extra_config"].(map[string]any)
		jwt, limited := false, false
		for ns := range extra {
			jwt = jwt || ns == "auth/validator" || strings.HasSuffix(ns, "/krakend-jose/validator")
			limited = limited || strings.Contains(ns, "ratelimit") && strings.HasSuffix(ns, "/router")
		}
		require.Equal(t, jwt, got.Auth.Required && got.Auth.Kinds[0] == "jwt", "endpoints[%d] %s jwt", i, path)
		require.Equal(t, limited, got.RateLimit != nil, "endpoints[%d] %s rate limit", i, path)

		// The position points at the endpoint object's "{": decoding from
		// there gives back the same endpoint.
		require.Positive(t, got.Pos.Line)
		require.LessOrEqual(t, got.Pos.Line, len(lines))
		off := 0
		for _, l := range lines[:got.Pos.Line-1] {
			off += len(l) + 1
		}
		line := lines[got.Pos.Line-1]
		col := 0
		for n := 1; n < got.Pos.Column; n++ {
			_, size := utf8.DecodeRune(line[col:])
			col += size
		}
		off += col
		require.Equal(t, byte('{'), raw[off], "endpoints[%d] %s at %s", i, path, got.Pos)
		var at map[string]any
		require.NoError(t, json.NewDecoder(bytes.NewReader(raw[off:])).Decode(&at))
		require.Equal(t, path, at["endpoint"], "endpoints[%d] at %s", i, got.Pos)
	}
}

// TestCorpusTemplateError: the corpus's krakend.tmpl, read without the
// flexible-config folders, is refused with the exact explanation.
func TestCorpusTemplateError(t *testing.T) {
	path := filepath.Join(corpusDir, "26-TaskarCenterAtUW-TDEI-api-gateway.tmpl")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("corpus file %s is absent", path)
	}
	require.NoError(t, err)
	c, err := Load(path, data, Options{})
	require.Nil(t, c)
	require.EqualError(t, err, "../../../shared/corpus/krakend/26-TaskarCenterAtUW-TDEI-api-gateway.tmpl:4:12: "+
		"KrakenD flexible-configuration template ({{ ... }} found), not plain JSON or YAML: "+
		"pass its settings, partials and/or templates folders (--settings, --partials, --templates; krakend's FC_SETTINGS, FC_PARTIALS, FC_TEMPLATES) to render it "+
		"(read as plain text it fails at 4:20: invalid JSON: invalid character 'S' after object key:value pair)")
	require.ErrorIs(t, err, ErrTemplate)
	var ce *contract.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, contract.Position{Line: 4, Column: 12}, ce.Pos)
}

// TestCorpusRenderedTDEI checks the rendered corpus template in detail:
// env, settings, the partial and the wildcard endpoint from the settings.
func TestCorpusRenderedTDEI(t *testing.T) {
	t.Setenv("SERVICE_NAME", "TDEI gateway")
	path := filepath.Join(corpusDir, "26-TaskarCenterAtUW-TDEI-api-gateway.tmpl")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("corpus file %s is absent", path)
	}
	require.NoError(t, err)
	c, err := Load(path, data, flexibleOptions(filepath.Join("testdata", "corpus-fc", "26")))
	require.NoError(t, err)
	require.Equal(t, "TDEI gateway (test)", c.Name)
	require.Equal(t, contract.Defaults{Port: 8080, Timeout: 30 * time.Second}, c.Defaults)
	require.Len(t, c.Endpoints, 4)
	last := c.Endpoints[3]
	require.Equal(t, "/api/v1/files/*", last.Name)
	require.Equal(t, "/api/v1/files/", last.Path)
	require.Equal(t, contract.MatchPrefix, last.Match)
	require.Equal(t, []contract.Backend{{Hosts: []string{"http://files:8080"}, URL: "/files"}}, last.Backends)
	require.Equal(t, []string{"POST"}, c.Endpoints[2].Methods)
	require.Nil(t, last.RateLimit, "a backend (proxy) rate limit is not the endpoint's router limit")
}
