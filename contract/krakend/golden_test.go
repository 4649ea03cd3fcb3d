package krakend

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// TestGolden loads each configuration in testdata and compares the whole
// contract, as JSON, with testdata/golden/<file>.contract.json. Run
// `go test ./contract/krakend -run TestGolden -update` after an intended
// change and review the diff.
func TestGolden(t *testing.T) {
	for _, name := range []string{"v2.json", "v3.json", "mixed.json", "krakend.yaml"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			c, err := Load(path, data, Options{})
			require.NoError(t, err)
			got, err := json.MarshalIndent(c, "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".contract.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}
