package envoy

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/internal/contracttest"
)

// envoyLoader is this package's loader as the shared checks see it.
var envoyLoader = contracttest.Loader{Gateway: contract.Envoy, Load: Load, Detect: Detect, NotMine: ErrNotEnvoy}

func TestLoadGood(t *testing.T) {
	for _, tc := range []struct {
		file  string
		name  string
		port  int
		want  []string
		notes []string
	}{
		{
			file: "v3-matches.good.yaml",
			name: "front-proxy",
			port: 8080,
			want: []string{
				"users-get ANY exact /v1/users hosts=api.example.com,api.example.com:* be=users[users-a:8000,users-b:8000] timeout=2.5s retries=2 listener=http svc=users",
				"http/api/1 ANY regex /v1/users/(?P<id>[0-9]+) re=^(?:/v1/users/(?P<id>[0-9]+))$ params=id hosts=api.example.com,api.example.com:* be=users[users-a:8000,users-b:8000] timeout=3.5s retries=1 listener=http svc=users",
				"http/api/2 ANY segment_prefix /v1/orders hosts=api.example.com,api.example.com:* be=orders[orders:9000] timeout=0s retries=4 listener=http svc=orders",
				"http/api/3 ANY prefix / hosts=api.example.com,api.example.com:* be=orders[orders:9000] timeout=15s retries=2 listener=http svc=orders",
				"http/catchall/0 ANY prefix / be=orders[orders:9000] timeout=15s retries=0 listener=http svc=orders",
			},
		},
		{
			file: "v2.good.yaml",
			port: 80,
			want: []string{
				"listener_80/backend/0 ANY regex /status/(ok|fail) re=^(?:/status/(ok|fail))$ be=status[status:8001] timeout=15s retries=0 listener=listener_80 svc=status",
				"listener_80/backend/1 ANY prefix / be=web[web-1:80,web-2:80] timeout=15s retries=0 listener=listener_80 svc=web",
			},
		},
		{
			file: "headers.good.yaml",
			port: 10000,
			want: []string{
				"edge/api/0 GET prefix /items be=read[read:80] timeout=15s retries=0 listener=edge svc=read",
				"edge/api/1 POST prefix /items header=x-tenant^=acme- be=write[write:80] timeout=15s retries=0 listener=edge svc=write",
				"edge/api/2 PUT,PATCH prefix /items be=write[write:80] timeout=15s retries=0 listener=edge svc=write",
				"edge/api/3 ANY prefix /version header=x-api-version=2 header=x-debug? header=x-canary=yes! header=user-agent~^.*bot$ header=x-trace? header=accept~(?i)^.*json.*$ be=read[read:80] timeout=15s retries=0 listener=edge svc=read",
				"edge/api/4 ANY prefix /partner header=X-Api-Key? be=read[read:80] timeout=15s retries=0 listener=edge svc=read",
			},
			notes: []string{
				"49:21 static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[4].match.headers[0]: the value of header X-Api-Key is a credential and is not kept; the condition is reduced to the header being present",
			},
		},
		{
			file: "direct-redirect-weighted.good.yaml",
			port: 8080,
			want: []string{
				"healthz ANY exact /healthz direct=200 timeout=0s retries=0 listener=web",
				"old-docs ANY prefix /docs/old direct=302 timeout=0s retries=0 listener=web",
				"http-to-https ANY prefix /secure direct=301 timeout=0s retries=0 listener=web",
				"split ANY prefix / be=stable[stable:80] be=canary[canary:80] timeout=15s retries=0 listener=web svc=stable",
			},
		},
		{
			file: "filters.good.yaml",
			port: 8443,
			want: []string{
				"public ANY prefix /public be=app[app:8080] timeout=15s retries=0 listener=secure svc=app",
				"optional-jwt ANY prefix /maybe be=app[app:8080] timeout=15s retries=0 auth=optional:jwt listener=secure svc=app",
				"limited ANY prefix /limited be=app[app:8080] timeout=15s retries=0 rl=10/1s auth=required:jwt,ext_authz listener=secure svc=app",
				"by-requirement ANY prefix /named be=app[app:8080] timeout=15s retries=0 auth=required:jwt,ext_authz listener=secure svc=app",
				"everything ANY prefix / be=app[app:8080] timeout=15s retries=0 auth=required:jwt,ext_authz listener=secure svc=app",
			},
			notes: []string{
				"76:15 static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[2].typed_config: local rate limit is not enforced: filter_enabled and filter_enforced must be above 0% (both default to 0%)",
			},
		},
		{
			file: "basic-oauth.good.yaml",
			port: 9000,
			want: []string{
				"admin/admin/0 ANY prefix / be=admin[admin:80] timeout=15s retries=0 auth=required:basic-auth,oauth2 listener=admin svc=admin",
			},
			notes: []string{
				`28:15 static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[2].typed_config: requests are rate limited by an external rate limit service (domain "admin"); its limits are not in this file, so endpoints have no rate_limit`,
			},
		},
		{
			file: "rds.good.yaml",
			port: 81,
			want: []string{
				"static/all/0 ANY prefix / be=from-cds[] timeout=15s retries=0 listener=static svc=from-cds",
			},
			notes: []string{
				`14:13 static_resources.listeners[0].filter_chains[0].filters[0].typed_config.rds: routes of route configuration "main_routes" come from RDS at run time; this file gives no endpoints for listener "dynamic"`,
			},
		},
		{
			file: "uri-template.good.yaml",
			port: 8080,
			want: []string{
				"user ANY exact /v1/users/{id} params=id be=api[api:80] timeout=15s retries=0 listener=tmpl svc=api",
				"files ANY regex /files/{bucket}/{key=**} re=^/files/(?P<bucket>[^/]+)/(?P<key>.*)$ params=bucket,key be=api[api:80] timeout=15s retries=0 listener=tmpl svc=api",
			},
		},
		{
			file: "filter-chains.good.yaml",
			port: 443,
			want: []string{
				"tls/site/0 ANY prefix / be=a[a:80] timeout=15s retries=0 listener=tls svc=a",
				"tls#2/site/0 ANY prefix / be=b[b:80] timeout=15s retries=0 listener=tls#2 svc=b",
				"tls#3/site/0 ANY prefix / direct=421 timeout=0s retries=0 listener=tls#3",
			},
		},
		{
			file: "json.good.json",
			port: 8080,
			want: []string{
				"json-route ANY prefix /json be=json[json:80] timeout=5s retries=0 listener=json svc=json",
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			envoyLoader.CheckGood(t, contracttest.Good{File: tc.file, Name: tc.name, Want: tc.want, Notes: tc.notes, Defaults: contract.Defaults{Timeout: 15 * time.Second, Port: tc.port}})
		})
	}
}

func TestLoadBad(t *testing.T) {
	const route = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0]"
	for _, tc := range []struct {
		file       string
		err        string
		notEnvoy   bool
		undetected bool
	}{
		{file: "unknown-cluster.bad.yaml", err: `testdata/unknown-cluster.bad.yaml:17:34: ` + route + `.route.cluster: cluster "missing" is not defined in static_resources.clusters`},
		{file: "bad-timeout.bad.yaml", err: `testdata/bad-timeout.bad.yaml:17:46: ` + route + `.route.timeout: expected a duration such as 15s or 0.25s, got the string "15 seconds"`},
		{file: "bad-regex.bad.yaml", err: "testdata/bad-regex.bad.yaml:16:45: " + route + ".match.safe_regex.regex: expected a regular expression Go's RE2 can run: error parsing regexp: invalid named capture: `(?<=b)`"},
		{file: "route-without-match.bad.yaml", err: "testdata/route-without-match.bad.yaml:16:17: " + route + ": expected match: a route needs a match (prefix, path, safe_regex, ...)"},
		{file: "route-without-action.bad.yaml", err: "testdata/route-without-action.bad.yaml:16:17: " + route + ": expected one of route, redirect or direct_response"},
		{file: "two-path-matchers.bad.yaml", err: "testdata/two-path-matchers.bad.yaml:16:24: " + route + ".match: expected only one of prefix, path, safe_regex, path_separated_prefix or path_match_policy"},
		{file: "direct-response-without-status.bad.yaml", err: "testdata/direct-response-without-status.bad.yaml:17:34: " + route + ".direct_response: expected status: an HTTP status code from 100 to 599"},
		{file: "bad-redirect-code.bad.yaml", err: `testdata/bad-redirect-code.bad.yaml:17:43: ` + route + `.redirect.response_code: expected MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT or PERMANENT_REDIRECT, got "MOVED"`},
		{file: "bad-retries.bad.yaml", err: `testdata/bad-retries.bad.yaml:17:65: ` + route + `.route.retry_policy.num_retries: expected a number, got the string "many"`},
		{file: "header-without-name.bad.yaml", err: "testdata/header-without-name.bad.yaml:18:29: " + route + ".match.headers[0]: expected the header's name"},
		{file: "several.bad.yaml", err: "testdata/several.bad.yaml:16:34: " + route + `.route.cluster: cluster "missing" is not defined in static_resources.clusters` + "\n" +
			"testdata/several.bad.yaml:18:51: " + route[:len(route)-2] + `1].route.timeout: expected a duration such as 15s or 0.25s, got the string "later"` + "\n" +
			"testdata/several.bad.yaml:26:11: static_resources.listeners[1].filter_chains[0].filters[0].config: expected route_config (inline routes) or rds in the HTTP connection manager" + "\n" +
			"testdata/several.bad.yaml:29:12: static_resources.clusters[0].hosts: expected a list, got a mapping"},
		{file: "listeners-not-list.bad.yaml", err: "testdata/listeners-not-list.bad.yaml:3:5: static_resources.listeners: expected a list, got a mapping"},
		{file: "hcm-without-routes.bad.yaml", err: "testdata/hcm-without-routes.bad.yaml:8:11: static_resources.listeners[0].filter_chains[0].filters[0].typed_config: expected route_config (inline routes) or rds in the HTTP connection manager"},
		{file: "syntax.bad.yaml", err: "testdata/syntax.bad.yaml:2: invalid YAML: did not find expected node content", undetected: true},
		{file: "top-level-listeners.bad.yaml", err: "testdata/top-level-listeners.bad.yaml:1:1: not an Envoy bootstrap configuration: no static_resources; it has listeners or clusters at the top level; in a bootstrap file they belong under static_resources", notEnvoy: true},
		{file: "docker-compose.bad.yaml", err: "testdata/docker-compose.bad.yaml:1:1: not an Envoy bootstrap configuration: no static_resources; it looks like a docker-compose file", notEnvoy: true},
		{file: "configmap.bad.yaml", err: "testdata/configmap.bad.yaml:1:1: not an Envoy bootstrap configuration: no static_resources; it looks like a Kubernetes ConfigMap; the Envoy configuration is the text of data.envoy.yaml, extract it into its own file", notEnvoy: true},
		{file: "empty.bad.yaml", err: "testdata/empty.bad.yaml: not an Envoy bootstrap configuration: the file is empty", notEnvoy: true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			envoyLoader.CheckBad(t, tc.file, tc.err, tc.notEnvoy, !tc.notEnvoy && !tc.undetected)
		})
	}
}

const corpusDir = "../../../shared/corpus/envoy"

// wantRoute is what an independent reading of a corpus file says about one
// route.
type wantRoute struct {
	name     string
	prefix   string
	path     string
	clusters []string
	timeout  time.Duration
	direct   int
	method   string
	domains  []string
}

// independentRoutes walks a decoded Envoy file with plain maps, in Envoy's
// order, without the loader.
func independentRoutes(t *testing.T, data []byte) []wantRoute {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	m := func(v any, k string) any {
		mm, _ := v.(map[string]any)
		return mm[k]
	}
	l := func(v any) []any { x, _ := v.([]any); return x }
	s := func(v any) string { x, _ := v.(string); return x }
	var out []wantRoute
	for _, ln := range l(m(doc["static_resources"], "listeners")) {
		for _, ch := range l(m(ln, "filter_chains")) {
			for _, f := range l(m(ch, "filters")) {
				cfg := m(f, "typed_config")
				if cfg == nil {
					cfg = m(f, "config")
				}
				name := s(m(f, "name"))
				if name != "envoy.filters.network.http_connection_manager" && name != "envoy.http_connection_manager" &&
					!strings.HasSuffix(s(m(cfg, "@type")), ".HttpConnectionManager") {
					continue
				}
				for _, vh := range l(m(m(cfg, "route_config"), "virtual_hosts")) {
					var domains []string
					for _, d := range l(m(vh, "domains")) {
						if s(d) != "*" {
							domains = append(domains, s(d))
						}
					}
					for _, r := range l(m(vh, "routes")) {
						w := wantRoute{name: s(m(r, "name")), domains: domains}
						w.prefix = s(m(m(r, "match"), "prefix"))
						w.path = s(m(m(r, "match"), "path"))
						if a := m(r, "route"); a != nil {
							w.timeout = 15 * time.Second
							if d := s(m(a, "timeout")); d != "" {
								var err error
								w.timeout, err = time.ParseDuration(d)
								require.NoError(t, err)
							}
							if c := s(m(a, "cluster")); c != "" {
								w.clusters = []string{c}
							}
							for _, wc := range l(m(m(a, "weighted_clusters"), "clusters")) {
								w.clusters = append(w.clusters, s(m(wc, "name")))
							}
						}
						if dr := m(r, "direct_response"); dr != nil {
							w.direct, _ = m(dr, "status").(int)
						}
						for _, h := range l(m(m(r, "match"), "headers")) {
							if s(m(h, "name")) == ":method" {
								w.method = s(m(h, "exact_match"))
							}
						}
						out = append(out, w)
					}
				}
			}
		}
	}
	return out
}

// TestCorpus loads every real Envoy file and checks each endpoint against an
// independent reading of the same file.
func TestCorpus(t *testing.T) {
	envoyLoader.EachCorpusFile(t, corpusDir, func(t *testing.T, c *contract.Contract, data []byte) {
		want := independentRoutes(t, data)
		require.NotEmpty(t, want)
		require.Len(t, c.Endpoints, len(want))
		lines := strings.Split(string(data), "\n")
		names := map[string]bool{}
		for i, w := range want {
			e := c.Endpoints[i]
			require.False(t, names[e.Name], "endpoint name %q twice", e.Name)
			names[e.Name] = true
			if w.name != "" {
				require.Equal(t, w.name, e.Name)
			}
			switch {
			case w.prefix != "":
				require.Equal(t, contract.MatchPrefix, e.Match)
				require.Equal(t, w.prefix, e.Path)
			case w.path != "":
				require.Equal(t, contract.MatchExact, e.Match)
				require.Equal(t, w.path, e.Path)
			default:
				require.Equal(t, contract.MatchRegex, e.Match)
				_, err := regexp.Compile(e.Regex)
				require.NoError(t, err)
			}
			var clusters []string
			for _, b := range e.Backends {
				clusters = append(clusters, b.Name)
			}
			require.Equal(t, w.clusters, clusters, e.Name)
			require.Equal(t, w.timeout, e.Timeout, e.Name)
			require.Equal(t, w.direct, e.DirectResponse, e.Name)
			require.Equal(t, w.domains, e.Hosts, e.Name)
			if w.method != "" {
				require.Equal(t, []string{w.method}, e.Methods)
			} else {
				require.Empty(t, e.Methods)
			}
			line := lines[e.Pos.Line-1]
			require.Regexp(t, `^(name|match|route|direct_response|redirect):`, line[e.Pos.Column-1:], "endpoint %s at %s", e.Name, e.Pos)
		}
	})
}

// TestDetectOtherGateways checks that Kong files of the corpus are not taken
// for Envoy, and that Load says what they look like.
func TestDetectOtherGateways(t *testing.T) {
	envoyLoader.CheckRefuses(t, "../../../shared/corpus/kong", "it looks like a Kong declarative configuration")
}

func FuzzLoad(f *testing.F) {
	contracttest.AddSeeds(f, corpusDir, "testdata")
	f.Add([]byte("static_resources:\n  listeners: &l [*l]\n"))
	f.Add([]byte("static_resources:\n  clusters:\n  - &c {name: a, <<: *c}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := envoyLoader.Fuzz(t, data)
		if c == nil {
			return
		}
		for _, e := range c.Endpoints {
			if e.Match == contract.MatchRegex {
				_, err := regexp.Compile(e.Regex)
				require.NoError(t, err)
			}
		}
	})
}

// BenchmarkLoad measures loading every file of the shared corpus once per
// iteration.
func BenchmarkLoad(b *testing.B) {
	envoyLoader.Benchmark(b, corpusDir)
}

// TestSecretsNotInContract checks that a credential a route matches on is
// not kept in the contract.
func TestSecretsNotInContract(t *testing.T) {
	c, err := envoyLoader.Testdata(t, "headers.good.yaml")
	require.NoError(t, err)
	out, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), "k-123-s3cr3t")
}
