package loader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

const corpus = "../../../shared/corpus"

// refused lists the corpus files that are deliberately not loadable
// contracts, with the error each must give.
var refused = map[string]string{
	"krakend/05-NETCRACKER-P2P-Streaming-API-Gateway.json":    "KrakenD flexible-configuration template",
	"krakend/19-Klasmart-Engineering-api-management-poc.json": "KrakenD flexible-configuration template",
	"krakend/26-TaskarCenterAtUW-TDEI-api-gateway.tmpl":       "KrakenD flexible-configuration template",
}

// TestCorpus loads every real-world configuration through format
// detection: each must be detected as the gateway of its folder and load,
// or be refused with the error named in refused.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("corpus not found at %s (it lives in shared/ beside the checkout): %v", corpus, err)
	}
	n := 0
	for _, kind := range []string{"krakend", "kong", "envoy"} {
		files, err := filepath.Glob(filepath.Join(corpus, kind, "*"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			rel := kind + "/" + filepath.Base(f)
			t.Run(rel, func(t *testing.T) {
				n++
				c, err := Load(f, "auto", Options{})
				if want, ok := refused[rel]; ok {
					require.Error(t, err)
					require.Contains(t, err.Error(), want)
					require.Contains(t, err.Error(), f, "the error names the file")
					return
				}
				require.NoError(t, err)
				require.Equal(t, contract.Kind(kind), c.Gateway, "detected as the gateway of its folder")
				require.Equal(t, f, c.Source)
				require.Len(t, c.Hash, 64)
				for _, ep := range c.Endpoints {
					require.NotEmpty(t, ep.Name, "every endpoint has a label value")
				}
			})
		}
	}
	require.Greater(t, n, 40)
}

func TestDetectRefusesStrangers(t *testing.T) {
	cases := map[string]string{
		"docker-compose.kong.yml": "version: '3'\nservices:\n  kong:\n    image: kong:3.4\n",
		"values.yaml":             "replicaCount: 2\nimage:\n  repository: nginx\n",
		"empty.json":              "{}",
	}
	for name, body := range cases {
		_, err := Parse(name, []byte(body), "auto", Options{})
		require.Error(t, err, name)
		require.True(t, strings.HasPrefix(err.Error(), name+":"), "error names the file: %v", err)
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := Parse("x.json", []byte("{}"), "nginx", Options{})
	require.EqualError(t, err, `x.json: unknown contract format "nginx"; expected one of auto, krakend, kong, envoy`)
}

func TestExample(t *testing.T) {
	c, err := Load("../../examples/krakend.json", "", Options{})
	require.NoError(t, err)
	require.Equal(t, contract.KrakenD, c.Gateway)
	require.Equal(t, "shop-gateway", c.Name)
	require.Len(t, c.Endpoints, 10)
}
