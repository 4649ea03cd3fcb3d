package loader

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

// TestMatchVirtualHostsOnCorpus: in a real Envoy configuration with five
// virtual hosts whose routes all start with prefix "/", the host decides
// the route, as it does for Envoy; a route that needs the upgrade header is
// skipped when the log does not carry it.
func TestMatchVirtualHostsOnCorpus(t *testing.T) {
	f := filepath.Join(corpus, "envoy/09-Ekant2008-ssl-gateway.yaml")
	if _, err := os.Stat(f); err != nil {
		t.Skipf("corpus not found at %s (it lives in shared/ beside the checkout): %v", corpus, err)
	}
	c, err := Load(f, "auto", Options{})
	require.NoError(t, err)
	m := contract.NewMatcher(c)
	require.True(t, m.HostsMatter())
	upgrade := func(name string) (string, bool) { return "websocket", name == "upgrade" }
	for _, tc := range []struct {
		req  contract.Request
		want string
	}{
		{contract.Request{Method: "GET", Host: "frontend.one211.com", Path: "/api/items"}, "https_listener/frontend_service/1"},
		{contract.Request{Method: "GET", Host: "frontend.one211.com:443", Path: "/index.html"}, "https_listener/frontend_service/2"},
		{contract.Request{Method: "GET", Host: "www.one211.com", Path: "/ws", Header: upgrade}, "https_listener/frontend_service/0"},
		{contract.Request{Method: "GET", Host: "backend.one211.com", Path: "/"}, "https_listener/backend_service/0"},
		{contract.Request{Method: "GET", Host: "backend.one211.com", Path: "/api/items"}, "https_listener/backend_service/0"},
		{contract.Request{Method: "OPTIONS", Host: "controller.one211.com", Path: "/q"}, "https_listener/controller_service/0"},
		{contract.Request{Method: "POST", Host: "controller2.one211.com", Path: "/q"}, "https_listener/controller2_service/1"},
		{contract.Request{Method: "GET", Host: "unknown.example.com", Path: "/"}, ""},
		// Without the host the first route by path wins.
		{contract.Request{Method: "GET", Path: "/api/items"}, "https_listener/dazzleduck_service/1"},
	} {
		got := ""
		if i := m.MatchRequest(tc.req); i >= 0 {
			got = c.Endpoints[i].Name
		}
		require.Equal(t, tc.want, got, "%+v", tc.req)
	}
}

// TestTimeoutIsDefault: an endpoint whose timeout is the product's default
// (no timeout written) says so; one with its own timeout does not.
func TestTimeoutIsDefault(t *testing.T) {
	kong := []byte(`_format_version: "3.0"
services:
  - name: a
    url: http://a.svc:80
    routes: [{name: a, paths: [/a]}]
  - name: b
    url: http://b.svc:80
    read_timeout: 5000
    routes: [{name: b, paths: [/b]}]
`)
	envoy := []byte(`static_resources:
  listeners:
    - name: l
      address: {socket_address: {address: 0.0.0.0, port_value: 80}}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: x
                route_config:
                  virtual_hosts:
                    - name: v
                      domains: ["*"]
                      routes:
                        - {name: a, match: {prefix: /a}, route: {cluster: c}}
                        - {name: b, match: {prefix: /b}, route: {cluster: c, timeout: 5s}}
  clusters:
    - name: c
`)
	for _, tc := range []struct {
		file string
		data []byte
	}{{"kong.yaml", kong}, {"envoy.yaml", envoy}} {
		c, err := Parse(tc.file, tc.data, "auto", Options{})
		require.NoError(t, err, tc.file)
		require.Len(t, c.Endpoints, 2, tc.file)
		require.True(t, c.Endpoints[0].TimeoutIsDefault, tc.file)
		require.False(t, c.Endpoints[1].TimeoutIsDefault, tc.file)
		require.Equal(t, 5*time.Second, c.Endpoints[1].Timeout, tc.file)
	}
}
