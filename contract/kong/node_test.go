package kong

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNodeHelpersInStep checks that contract/envoy's copy of the YAML node
// helpers is this file but for the package clause and the comment naming
// the other copy.
func TestNodeHelpersInStep(t *testing.T) {
	ours, err := os.ReadFile("node.go")
	require.NoError(t, err)
	theirs, err := os.ReadFile("../envoy/node.go")
	require.NoError(t, err)
	norm := func(b []byte, pkg, other string) string {
		s := strings.Replace(string(b), "package "+pkg+"\n", "package X\n", 1)
		return strings.Replace(s, "contract/"+other+" has a copy", "contract/OTHER has a copy", 1)
	}
	require.Equal(t, norm(ours, "kong", "envoy"), norm(theirs, "envoy", "kong"),
		"contract/kong/node.go and contract/envoy/node.go differ; change both")
}

func TestParseBOMAndTabs(t *testing.T) {
	for name, data := range map[string]string{
		"utf-8 byte order mark": "\xef\xbb\xbf_format_version: \"3.0\"\nservices: [{name: a, url: \"http://a\", routes: [{name: r, paths: [/r]}]}]\n",
		"json with tabs":        "{\n\t\"_format_version\": \"3.0\",\n\t\"services\": [{\"name\": \"a\", \"url\": \"http://a\", \"routes\": [{\"name\": \"r\", \"paths\": [\"/r\"]}]}]\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, Detect([]byte(data)))
			c, err := Load("kong.yml", []byte(data))
			require.NoError(t, err)
			require.Len(t, c.Endpoints, 1)
			require.Equal(t, "r", c.Endpoints[0].Name)
		})
	}
}
