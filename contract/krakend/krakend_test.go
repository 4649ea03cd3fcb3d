package krakend

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/contract"
)

func pos(line, col int) contract.Position { return contract.Position{Line: line, Column: col} }

// TestLoadNamespaces checks each configuration generation and the
// real-world mixtures of them, endpoint by endpoint.
func TestLoadNamespaces(t *testing.T) {
	cases := []struct {
		name     string
		src      string
		defaults contract.Defaults
		want     []contract.Endpoint
	}{
		{
			name: "v2 github_com namespaces",
			src: `{
  "version": 2,
  "timeout": "3000ms",
  "endpoints": [
    {
      "endpoint": "/v1/users/{id}",
      "method": "GET",
      "extra_config": {
        "github_com/devopsfaith/krakend-ratelimit/juju/router": {"maxRate": 100, "clientMaxRate": 5, "strategy": "ip"},
        "github_com/devopsfaith/krakend-jose/validator": {"alg": "RS256"}
      },
      "backend": [{"host": ["http://users:8080"], "url_pattern": "/users/{id}"}]
    }
  ]
}`,
			defaults: contract.Defaults{Timeout: 3 * time.Second},
			want: []contract.Endpoint{{
				Name: "/v1/users/{id}", Path: "/v1/users/{id}", Match: contract.MatchExact, Methods: []string{"GET"},
				Params: []string{"id"}, Timeout: 3 * time.Second,
				RateLimit: &contract.RateLimit{Requests: 100, Period: time.Second},
				Auth:      contract.Auth{Required: true, Kinds: []string{"jwt"}},
				Backends:  []contract.Backend{{Hosts: []string{"http://users:8080"}, URL: "/users/{id}"}},
				Public:    true, Pos: pos(5, 5),
			}},
		},
		{
			name: "v2 github.com namespaces, per-client limit only, no method",
			src: `{
  "version": 2,
  "endpoints": [
    {"endpoint": "/a/{x}/b/{y}",
     "extra_config": {
       "github.com/devopsfaith/krakend-ratelimit/juju/router": {"clientMaxRate": 2.5},
       "github.com/devopsfaith/krakend-jose/validator": {}
     },
     "backend": [{"host": ["h1", "h2"]}]}
  ]
}`,
			want: []contract.Endpoint{{
				Name: "/a/{x}/b/{y}", Path: "/a/{x}/b/{y}", Match: contract.MatchExact, Methods: []string{"GET"},
				Params:    []string{"x", "y"},
				RateLimit: &contract.RateLimit{Requests: 2.5, Period: time.Second, PerClient: true},
				Auth:      contract.Auth{Required: true, Kinds: []string{"jwt"}},
				Backends:  []contract.Backend{{Hosts: []string{"h1", "h2"}}},
				Public:    true, Pos: pos(4, 5),
			}},
		},
		{
			name: "v3 namespaces: every, client limit, basic auth and api keys",
			src: `{
  "version": 3,
  "timeout": "2s",
  "endpoints": [
    {
      "endpoint": "/orders",
      "method": "post",
      "timeout": "1500ms",
      "extra_config": {
        "qos/ratelimit/router": {"client_max_rate": 10, "every": "1m", "strategy": "header", "key": "X-Key"},
        "auth/basic": {},
        "auth/api-keys": {"roles": ["user"]},
        "telemetry/opentelemetry": {"disable_metrics": false},
        "proxy": {"sequential": true}
      },
      "backend": [{"host": ["http://orders"], "url_pattern": "/orders"}]
    },
    {
      "endpoint": "/secure",
      "extra_config": {"auth/validator": {"alg": "HS256"}},
      "backend": [{"host": ["http://secure"], "url_pattern": "/"}]
    }
  ]
}`,
			defaults: contract.Defaults{Timeout: 2 * time.Second},
			want: []contract.Endpoint{{
				Name: "/orders", Path: "/orders", Match: contract.MatchExact, Methods: []string{"POST"},
				Timeout:   1500 * time.Millisecond,
				RateLimit: &contract.RateLimit{Requests: 10, Period: time.Minute, PerClient: true},
				Auth:      contract.Auth{Required: true, Kinds: []string{"basic-auth", "key-auth"}},
				Backends:  []contract.Backend{{Hosts: []string{"http://orders"}, URL: "/orders"}},
				Public:    true, Pos: pos(5, 5),
			}, {
				Name: "/secure", Path: "/secure", Match: contract.MatchExact, Methods: []string{"GET"},
				Timeout:  2 * time.Second,
				Auth:     contract.Auth{Required: true, Kinds: []string{"jwt"}},
				Backends: []contract.Backend{{Hosts: []string{"http://secure"}, URL: "/"}},
				Public:   true, Pos: pos(18, 5),
			}},
		},
		{
			name: "v3 file with old namespaces, $schema of another version, string port, backend object, global host",
			src: `{
  "$schema": "https://www.krakend.io/schema/v2.5/krakend.json",
  "version": 3,
  "port": "9090",
  "host": ["http://default-a", "http://default-b"],
  "endpoints": [
    {
      "endpoint": "/legacy",
      "method": "DELETE",
      "extra_config": {
        "github_com/devopsfaith/krakend-ratelimit/juju/router": {"max_rate": 7},
        "github_com/devopsfaith/krakend-jose/validator": {"alg": "RS256"}
      },
      "backend": {"url_pattern": "/legacy"}
    },
    {
      "endpoint": "/files/*",
      "backend": [{"url_pattern": "/files", "host": []}, {"url_pattern": "/meta", "host": "http://meta"}]
    }
  ]
}`,
			defaults: contract.Defaults{Port: 9090, Hosts: []string{"http://default-a", "http://default-b"}},
			want: []contract.Endpoint{{
				Name: "/legacy", Path: "/legacy", Match: contract.MatchExact, Methods: []string{"DELETE"},
				RateLimit: &contract.RateLimit{Requests: 7, Period: time.Second},
				Auth:      contract.Auth{Required: true, Kinds: []string{"jwt"}},
				Backends:  []contract.Backend{{Hosts: []string{"http://default-a", "http://default-b"}, URL: "/legacy"}},
				Public:    true, Pos: pos(7, 5),
			}, {
				Name: "/files/*", Path: "/files/", Match: contract.MatchPrefix, Methods: []string{"GET"},
				Backends: []contract.Backend{
					{Hosts: []string{"http://default-a", "http://default-b"}, URL: "/files"},
					{Hosts: []string{"http://meta"}, URL: "/meta"},
				},
				Public: true, Pos: pos(16, 5),
			}},
		},
		{
			name: "comments and tags, internal endpoint, tabs and unicode before the endpoint",
			src: "{\n\t\"version\": 3, \"name\": \"café ☕\",\n\t\"endpoints\": [\n\t\t{\"@comment\": \"purpose: health\", \"endpoint\": \"/__internal/health\",\n" +
				"\t\t \"extra_config\": {\"documentation/openapi\": {\"tags\": [\"ops\", \"internal\", \"ünï\"]}}}, {\"@comment\": [\"a\", \"b\"], \"endpoint\": \"/ü/{name}\"}\n\t]\n}",
			want: []contract.Endpoint{{
				Name: "/__internal/health", Path: "/__internal/health", Match: contract.MatchExact, Methods: []string{"GET"},
				Tags:   []string{"purpose: health", "ops", "internal", "ünï"},
				Public: false, Pos: pos(4, 3),
			}, {
				Name: "/ü/{name}", Path: "/ü/{name}", Match: contract.MatchExact, Methods: []string{"GET"},
				Params: []string{"name"}, Tags: []string{"a", "b"},
				Public: true, Pos: pos(5, 86),
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("krakend.json", []byte(tc.src), Options{})
			require.NoError(t, err)
			require.Equal(t, contract.KrakenD, c.Gateway)
			require.Equal(t, "krakend.json", c.Source)
			require.Equal(t, tc.defaults, c.Defaults)
			require.Equal(t, tc.want, c.Endpoints)
		})
	}
}

func TestLoadContractFields(t *testing.T) {
	src := []byte(`{"version": 3, "endpoints": []}`)
	c, err := Load("conf/gateway.prod.json", src, Options{})
	require.NoError(t, err)
	require.Equal(t, "gateway.prod", c.Name, "without a KrakenD name the file's base name is used")
	require.Equal(t, contract.HashSource(src), c.Hash)
	require.Equal(t, "conf/gateway.prod.json", c.Source)
	require.Empty(t, c.Endpoints)

	c, err = Load("conf/krakend.json", []byte(`{"version": 3, "name": "edge"}`), Options{})
	require.NoError(t, err)
	require.Equal(t, "edge", c.Name)
}

func TestLoadYAML(t *testing.T) {
	src := []byte(`version: 3
name: yaml-gateway
port: 8080
timeout: 5s
endpoints:
  - endpoint: /v1/items/{item}
    method: PUT
    extra_config:
      qos/ratelimit/router:
        max_rate: 20
    backend:
      - host: [http://items]
        url_pattern: /items/{item}
  - endpoint: /v1/ping
`)
	c, err := Load("krakend.yaml", src, Options{})
	require.NoError(t, err)
	require.Equal(t, "yaml-gateway", c.Name)
	require.Equal(t, contract.Defaults{Port: 8080, Timeout: 5 * time.Second}, c.Defaults)
	require.Equal(t, []contract.Endpoint{{
		Name: "/v1/items/{item}", Path: "/v1/items/{item}", Match: contract.MatchExact, Methods: []string{"PUT"},
		Params: []string{"item"}, Timeout: 5 * time.Second,
		RateLimit: &contract.RateLimit{Requests: 20, Period: time.Second},
		Backends:  []contract.Backend{{Hosts: []string{"http://items"}, URL: "/items/{item}"}},
		Public:    true, Pos: pos(6, 5),
	}, {
		Name: "/v1/ping", Path: "/v1/ping", Match: contract.MatchExact, Methods: []string{"GET"},
		Timeout: 5 * time.Second, Public: true, Pos: pos(14, 5),
	}}, c.Endpoints)
}

// TestLoadYAMLAnchors: anchors, aliases and merge keys, as YAML users
// write shared backend blocks.
func TestLoadYAMLAnchors(t *testing.T) {
	src := []byte(`version: 3
x-backend: &users
  host: [http://users]
  url_pattern: /users
x-endpoint: &base
  method: POST
  timeout: 2s
  backend: [*users]
endpoints:
  - <<: *base
    endpoint: /a
  - <<: [*base]
    endpoint: /b
    method: PUT
`)
	c, err := Load("krakend.yml", src, Options{})
	require.NoError(t, err)
	require.Len(t, c.Endpoints, 2)
	require.Equal(t, "POST /a", c.Endpoints[0].ID())
	require.Equal(t, "PUT /b", c.Endpoints[1].ID(), "the mapping's own key wins over the merged one")
	for _, ep := range c.Endpoints {
		require.Equal(t, 2*time.Second, ep.Timeout)
		require.Equal(t, []contract.Backend{{Hosts: []string{"http://users"}, URL: "/users"}}, ep.Backends)
	}
	require.Equal(t, pos(10, 5), c.Endpoints[0].Pos)

	_, err = Load("krakend.yml", []byte("endpoints:\n  - <<: 3\n    endpoint: /a\n"), Options{})
	require.EqualError(t, err, "krakend.yml:2:9: invalid YAML: a merge (<<) needs a mapping or a list of mappings")
}

// TestLoadErrors checks the exact message, place and element of each kind
// of bad input.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		src  string
		want string
	}{
		{
			name: "malformed JSON",
			src:  "{\"version\": 3,\n  \"endpoints\": [\n    {\"endpoint\": \"/a\" \"method\": \"GET\"}\n  ]\n}",
			want: `krakend.json:3:23: invalid JSON: invalid character '"' after object key:value pair`,
		},
		{
			name: "truncated JSON",
			src:  "{\"version\": 3,\n  \"endpoints\": [\n",
			want: `krakend.json:3:1: invalid JSON: unexpected end of JSON input`,
		},
		{
			name: "trailing data",
			src:  "{\"version\": 3}\n{\"version\": 3}\n",
			want: `krakend.json:2:1: invalid JSON: invalid character '{' after top-level value`,
		},
		{
			name: "bad literal, after a tab and unicode",
			src:  "{\"name\": \"é\",\n\t\"debug\": tru,\n}",
			want: `krakend.json:2:14: invalid JSON: invalid character ',' in literal true (expecting 'e')`,
		},
		{
			name: "raw tab inside a string",
			src:  "{\"endpoints\": [{\"endpoint\": \"/a\tb\"}]}",
			want: `krakend.json:1:32: invalid JSON: invalid character '\t' in string literal`,
		},
		{
			name: "not JSON at all",
			src:  "endpoints:\n  - endpoint: /a\n",
			want: `krakend.json:1:1: invalid JSON: invalid character 'e' looking for beginning of value`,
		},
		{
			name: "empty file",
			src:  "  \n",
			want: `krakend.json:1:1: empty file: expected a KrakenD configuration object`,
		},
		{
			name: "top level is an array",
			src:  `[{"endpoint": "/a"}]`,
			want: `krakend.json:1:1: expected a KrakenD configuration object at the top level, got array`,
		},
		{
			name: "wrong type for endpoints",
			src:  "{\n  \"version\": 3,\n  \"endpoints\": {\"endpoint\": \"/a\"}\n}",
			want: `krakend.json:3:16: endpoints: expected an array of endpoint objects, got object`,
		},
		{
			name: "endpoint without endpoint key",
			src:  "{\"version\": 3, \"endpoints\": [\n  {\"endpoint\": \"/ok\"},\n  {\"method\": \"GET\", \"backend\": []}\n]}",
			want: `krakend.json:3:3: endpoints[1]: missing "endpoint": every endpoint object needs its path, e.g. "endpoint": "/v1/users/{id}"`,
		},
		{
			name: "endpoint path not a string",
			src:  `{"endpoints": [{"endpoint": 42}]}`,
			want: `krakend.json:1:29: endpoints[0].endpoint: expected a path string, got number 42`,
		},
		{
			name: "bad endpoint timeout string",
			src:  "{\"version\": 3, \"endpoints\": [\n  {\"endpoint\": \"/a\", \"timeout\": \"3 seconds\"}\n]}",
			want: `krakend.json:2:33: endpoints[0].timeout: expected a Go duration string such as "3s" or "1500ms", got string "3 seconds"`,
		},
		{
			name: "global timeout as a number",
			src:  `{"version": 3, "timeout": 3000}`,
			want: `krakend.json:1:27: timeout: expected a Go duration string such as "3s" or "1500ms", got number 3000`,
		},
		{
			name: "port out of range",
			src:  `{"version": 3, "port": "80800"}`,
			want: `krakend.json:1:24: port: expected a port number from 0 to 65535, got string "80800"`,
		},
		{
			name: "port of the wrong type",
			src:  `{"version": 3, "port": [8080]}`,
			want: `krakend.json:1:24: port: expected a port number, got array`,
		},
		{
			name: "bad method and host types",
			src:  `{"endpoints": [{"endpoint": "/a", "method": 1, "backend": [{"host": [1]}]}]}`,
			want: "krakend.json:1:45: endpoints[0].method: expected an HTTP method string such as \"GET\", got number 1\n" +
				"krakend.json:1:70: endpoints[0].backend[0].host[0]: expected a host string, got number 1",
		},
		{
			name: "bad rate limit",
			src:  `{"endpoints": [{"endpoint": "/a", "extra_config": {"qos/ratelimit/router": {"max_rate": "lots", "every": 5}}}]}`,
			want: "krakend.json:1:106: endpoints[0].extra_config.qos/ratelimit/router.every: expected a Go duration string such as \"3s\" or \"1500ms\", got number 5\n" +
				"krakend.json:1:89: endpoints[0].extra_config.qos/ratelimit/router.max_rate: expected a non-negative number of requests, got string \"lots\"",
		},
		{
			name: "endpoint that is not an object",
			src:  "{\"endpoints\": [\n\t\"/a\",\n\t{\"endpoint\": \"/b\"}\n]}",
			want: `krakend.json:2:2: endpoints[0]: expected an endpoint object, got string "/a"`,
		},
		{
			name: "YAML syntax error",
			file: "krakend.yaml",
			src:  "version: 3\n\tport: 1\n",
			want: `krakend.yaml:2: invalid YAML: found a tab character that violates indentation`,
		},
		{
			name: "YAML error without a line",
			file: "krakend.yml",
			src:  "a: b: c\n",
			want: `krakend.yml: invalid YAML: mapping values are not allowed in this context`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "krakend.json"
			}
			c, err := Load(file, []byte(tc.src), Options{})
			require.Nil(t, c)
			require.EqualError(t, err, tc.want)
			var ce *contract.Error
			require.ErrorAs(t, err, &ce)
			require.Equal(t, file, ce.File)
			require.False(t, errors.Is(err, ErrTemplate))
		})
	}
}

// TestLoadNotes checks the remarks Load makes on input it accepts.
func TestLoadNotes(t *testing.T) {
	src := `{
  "version": 1,
  "endpoints": [
    {"endpoint": "v1/users", "backend": [{"host": ["h"]}]},
    {"endpoint": "/both", "backend": [{"host": ["h"]}],
     "extra_config": {"qos/ratelimit/router": {"max_rate": 100, "client_max_rate": 5}}},
    {"endpoint": "/none"},
    {"endpoint": "/v1/users", "method": "get", "backend": [{"host": ["h"]}]}
  ]
}`
	c, err := Load("krakend.json", append([]byte("\xef\xbb\xbf"), src...), Options{})
	require.NoError(t, err)
	require.Equal(t, "/v1/users", c.Endpoints[0].Name)
	require.Equal(t, "/v1/users", c.Endpoints[0].Path)
	require.Equal(t, []contract.Note{
		{Pos: pos(1, 1), Text: "the file starts with a UTF-8 byte order mark, which KrakenD's JSON parser rejects"},
		{Pos: pos(2, 14), Path: "version", Text: "version number 1 is not 2, 3 or 4; read with the namespaces of all of them"},
		{Pos: pos(4, 18), Path: "endpoints[0].endpoint", Text: `path "v1/users" has no leading "/"; KrakenD serves it as "/v1/users"`},
		{Pos: pos(6, 47), Path: "endpoints[1].extra_config.qos/ratelimit/router", Text: "the per-client limit (client_max_rate 5) is not kept: the model holds one limit, the endpoint-wide max_rate 100"},
		{Pos: pos(7, 5), Path: "endpoints[2]", Text: "GET /none has no backend; KrakenD does not serve an endpoint without one"},
		{Pos: pos(8, 5), Path: "endpoints[3]", Text: "GET /v1/users is declared again (first at 4:5); requests match the first declaration"},
	}, c.Notes)
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want bool
	}{
		{"v3 json", `{"version": 3, "endpoints": []}`, true},
		{"endpoints only", `{"endpoints": [{"endpoint": "/a"}]}`, true},
		{"version 2 with extra_config", `{"version": 2, "extra_config": {}}`, true},
		{"version as string", `{"version": "3", "port": 8080}`, true},
		{"version 4", `{"version": 4, "extra_config": {}}`, true},
		{"version 1 without endpoints", `{"version": 1, "extra_config": {}}`, false},
		{"schema", `{"$schema": "https://www.krakend.io/schema/v3.json"}`, true},
		{"yaml", "version: 3\nendpoints:\n  - endpoint: /a\n", true},
		{"template", "{\n  \"version\": 3,\n  \"port\": {{ .service.port }},\n  \"endpoints\": []\n}", true},
		{"kong", "_format_version: \"3.0\"\nservices:\n  - name: a\n    url: http://a\n", false},
		{"envoy", "static_resources:\n  listeners: []\n", false},
		{"docker compose", "version: \"3\"\nservices:\n  web:\n    image: nginx\n", false},
		{"decK template", "_format_version: \"3.0\"\nservices:\n  - url: ${{ env \"DECK_URL\" }}\n", false},
		{"plain text", "hello", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Detect([]byte(tc.src)))
		})
	}
}
