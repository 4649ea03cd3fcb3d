package krakend

import (
	"errors"
	"os"
	"path/filepath"
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
