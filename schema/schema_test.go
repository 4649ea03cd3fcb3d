package schema

import (
	"go/build"
	"strings"
	"testing"
)

// TestLeaf keeps the schema a leaf: generators import it, and must not pull
// in the sidecar's dependencies through it.
func TestLeaf(t *testing.T) {
	p, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range p.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("schema imports %s; it may import only the standard library", imp)
		}
	}
}

// TestNamesUnique checks that no two metrics share a name.
func TestNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Schema {
		if seen[m.Name] {
			t.Errorf("metric %s declared twice", m.Name)
		}
		seen[m.Name] = true
		if !strings.HasPrefix(m.Name, "gatewatch_") {
			t.Errorf("metric %s lacks the gatewatch_ prefix", m.Name)
		}
	}
}
