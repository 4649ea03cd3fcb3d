package shipper

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestTemplatesGolden(t *testing.T) {
	cases := []struct{ name, yaml string }{
		{"index", "gateway: {name: edge}\nshipper:\n  retention: 14d\n"},
		{"data_stream", "shipper:\n  mode: data_stream\n  data_stream: logs-gateway-prod\n  retention: 7d\n  rollover: {max_size: 10gb, max_age: 12h}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load("gw.yaml", []byte(tc.yaml))
			require.NoError(t, err)
			arts, err := Templates(&cfg.Shipper, cfg.Gateway.Name)
			require.NoError(t, err)
			again, err := Templates(&cfg.Shipper, cfg.Gateway.Name)
			require.NoError(t, err)
			require.Equal(t, arts, again, "deterministic")
			for _, a := range arts {
				golden := filepath.Join("testdata", "golden", tc.name, a.Name)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, a.Content, 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./shipper -run TestTemplatesGolden -update")
				require.Equal(t, string(want), string(a.Content), a.Name)
				if strings.HasSuffix(a.Name, ".ndjson") {
					for _, line := range strings.Split(strings.TrimSuffix(string(a.Content), "\n"), "\n") {
						require.True(t, json.Valid([]byte(line)), line)
					}
				} else {
					require.True(t, json.Valid(a.Content))
				}
			}
		})
	}
}

func TestTemplatesModes(t *testing.T) {
	cfg := config.Default()
	cfg.Shipper.Mode = config.ShipperModeDataStream
	arts, err := Templates(&cfg.Shipper, "")
	require.NoError(t, err)
	byName := map[string]map[string]any{}
	for _, a := range arts {
		if strings.HasSuffix(a.Name, ".json") {
			var v map[string]any
			require.NoError(t, json.Unmarshal(a.Content, &v))
			byName[a.Name] = v
		}
	}
	tmpl := byName["index-template.json"]
	require.Contains(t, tmpl, "data_stream")
	require.Equal(t, []any{"logs-gateway-default"}, tmpl["index_patterns"])
	require.Greater(t, tmpl["priority"].(float64), 100.0, "above the built-in logs-*-* template")
	hot := byName["ilm-policy.json"]["policy"].(map[string]any)["phases"].(map[string]any)["hot"]
	require.NotNil(t, hot, "data streams roll over")

	cfg.Shipper.Mode = config.ShipperModeIndex
	arts, err = Templates(&cfg.Shipper, "")
	require.NoError(t, err)
	var idx map[string]any
	require.NoError(t, json.Unmarshal(arts[2].Content, &idx))
	require.NotContains(t, idx, "data_stream")
	require.Equal(t, []any{"logs-gateway-*"}, idx["index_patterns"])
	mappings := idx["template"].(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
	require.Equal(t, "ip", mappings["client"].(map[string]any)["properties"].(map[string]any)["ip"].(map[string]any)["type"])
	require.Equal(t, "date", mappings["@timestamp"].(map[string]any)["type"])
}
