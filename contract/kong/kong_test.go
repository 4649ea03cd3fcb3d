package kong

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

// kongLoader is this package's loader as the shared checks see it.
var kongLoader = contracttest.Loader{Gateway: contract.Kong, Load: Load, Detect: Detect, NotMine: ErrNotKong}

func TestLoadGood(t *testing.T) {
	for _, tc := range []struct {
		file  string
		name  string
		want  []string
		notes []string
	}{
		{
			file: "url-service.good.yaml",
			want: []string{
				"orders-list GET,HEAD prefix /orders hosts=api.example.com be=orders[orders.internal:8443](https://orders.internal:8443/v1) timeout=1m0s retries=0 tags=team-orders,public-api svc=orders",
				"orders-admin ANY prefix /admin/orders paths=/admin/orders|/internal/orders be=orders[orders.internal:8443](https://orders.internal:8443/v1) timeout=1m0s retries=0 internal tags=team-orders,internal svc=orders",
				"legacy ANY prefix /legacy be=legacy[legacy.internal:8080](http://svc-user:xxxxx@legacy.internal:8080/api) timeout=1m0s retries=0 svc=legacy",
			},
		},
		{
			file: "host-service.good.yaml",
			want: []string{
				"users ANY prefix /users be=users[users.svc:8080](http://users.svc:8080/api) timeout=5s retries=3 svc=users",
				"defaults ANY prefix /d be=defaults[defaults.svc:80](http://defaults.svc:80) timeout=1m0s retries=0 svc=defaults",
			},
		},
		{
			file: "top-level-routes.good.yaml",
			want: []string{
				"by-name ANY prefix /billing be=billing[billing:9000](http://billing:9000) timeout=1m0s retries=0 svc=billing",
				"by-id ANY prefix /billing-by-id be=billing[billing:9000](http://billing:9000) timeout=1m0s retries=0 svc=billing",
				"by-deck-reference ANY prefix /billing-deck be=billing[billing:9000](http://billing:9000) timeout=1m0s retries=0 svc=billing",
				"no-service ANY prefix /teapot direct=418 timeout=0s retries=0",
			},
		},
		{
			file: "regex-paths.good.yaml",
			want: []string{
				`user-by-id GET regex ~/users/(?<id>\d+)$ re=^(?:/users/(?P<id>\d+)$) params=id prio=10 be=users[users:8080](http://users:8080) timeout=1m0s retries=0 svc=users`,
				`mixed ANY regex /static paths=/static|~/files/(?'file'[^/]+)\Z re=^(?:/static|/files/(?P<file>[^/]+)\z) params=file be=users[users:8080](http://users:8080) timeout=1m0s retries=0 svc=users`,
				`lookahead ANY prefix /api/v1/ be=users[users:8080](http://users:8080) timeout=1m0s retries=0 svc=users`,
				`forgot-tilde ANY prefix /orders/\d+ be=users[users:8080](http://users:8080) timeout=1m0s retries=0 svc=users`,
			},
			notes: []string{
				`13:17 services[0].routes[2].paths[0]: regex path "~/api/v1/(?=beta)\\w+" uses a lookahead (?=, which Go's RE2 engine cannot run; the endpoint matches it by its literal prefix "/api/v1/" instead`,
				`15:17 services[0].routes[3].paths[0]: path "/orders/\\d+" looks like a regular expression but has no "~" prefix; Kong 3.0 matches it as a plain prefix (decK convert adds the "~")`,
			},
		},
		{
			file: "legacy-regex.good.yaml",
			want: []string{
				`legacy-regex ANY regex /users/\d+/orders re=^(?:/users/\d+/orders) be=legacy[legacy:80](http://legacy) timeout=1m0s retries=0 svc=legacy`,
				`legacy-plain ANY prefix /users/me-too_~.%20 be=legacy[legacy:80](http://legacy) timeout=1m0s retries=0 svc=legacy`,
				`legacy-tilde ANY regex ~/v2/[a-z]+ re=^(?:/v2/[a-z]+) be=legacy[legacy:80](http://legacy) timeout=1m0s retries=0 svc=legacy`,
			},
		},
		{
			file: "plugins.good.yaml",
			want: []string{
				"keyed ANY prefix /keyed be=secured[secured:80](http://secured) timeout=1m0s retries=0 rl=100/1m0s/client auth=required:key-auth svc=secured",
				"acl-route ANY prefix /acl be=secured[secured:80](http://secured) timeout=1m0s retries=0 rl=100/1m0s/client auth=required:acl,key-auth svc=secured",
				"advanced ANY prefix /advanced be=secured[secured:80](http://secured) timeout=1m0s retries=0 rl=10/1s auth=required:key-auth svc=secured",
				"disabled-jwt ANY prefix /disabled-jwt be=secured[secured:80](http://secured) timeout=1m0s retries=0 rl=100/1m0s/client auth=required:key-auth svc=secured",
				"anonymous-ok ANY prefix /anon be=open[open:80](http://open) timeout=1m0s retries=0 rl=100/1m0s/client auth=optional:basic-auth svc=open",
				"openid ANY prefix /oidc be=open[open:80](http://open) timeout=1m0s retries=0 rl=5/1s auth=required:openid-connect svc=open",
			},
		},
		{
			file: "auth-kinds.good.yaml",
			want: []string{
				"jwt ANY prefix /jwt be=s[s:80](http://s) timeout=1m0s retries=0 auth=required:jwt svc=s",
				"oauth2 ANY prefix /oauth2 be=s[s:80](http://s) timeout=1m0s retries=0 auth=required:oauth2 svc=s",
				"hmac ANY prefix /hmac be=s[s:80](http://s) timeout=1m0s retries=0 auth=required:hmac-auth svc=s",
				"ldap ANY prefix /ldap be=s[s:80](http://s) timeout=1m0s retries=0 auth=required:ldap-auth svc=s",
				"key-enc ANY prefix /key-enc be=s[s:80](http://s) timeout=1m0s retries=0 auth=required:acl,key-auth svc=s",
				"mtls ANY prefix /mtls be=s[s:80](http://s) timeout=1m0s retries=0 auth=required:mtls-auth svc=s",
			},
		},
		{
			file: "upstreams.good.yaml",
			want: []string{
				"app ANY prefix / be=blue-green[blue:3000,canary:3000](http://blue-green:80) timeout=1m0s retries=0 svc=app",
			},
		},
		{
			file: "unnamed.good.yaml",
			want: []string{
				"cart-route-1 ANY prefix /cart be=cart[cart:80](http://cart) timeout=1m0s retries=0 svc=cart",
				"0c7a6b54-route-id ANY prefix /cart/items be=cart[cart:80](http://cart) timeout=1m0s retries=0 svc=cart",
				"cart-route-3 ANY prefix /cart/checkout be=cart[cart:80](http://cart) timeout=1m0s retries=0 svc=cart",
				"cart-route-5 ANY prefix /cart/taken be=cart[cart:80](http://cart) timeout=1m0s retries=0 svc=cart",
				"cart-route-5-2 ANY prefix /cart/collides be=cart[cart:80](http://cart) timeout=1m0s retries=0 svc=cart",
				"route-6 ANY prefix / hosts=cart.example.com timeout=0s retries=0",
			},
		},
		{
			file: "placeholders.good.yaml",
			want: []string{
				`env ANY prefix /env be=env[${{ env "DECK_ENV_HOST" }}:${{ env "DECK_ENV_PORT" }}](http://${{ env "DECK_ENV_HOST" }}:${{ env "DECK_ENV_PORT" }}) timeout=1m0s retries=0 svc=env`,
				"env-url ANY prefix ${PATH_PREFIX} be=env-url[${UPSTREAM_URL}](${UPSTREAM_URL}) timeout=1m0s retries=0 svc=env-url",
			},
		},
		{
			file: "expressions.good.yaml",
			want: []string{
				"users GET prefix /v1/users prio=100 be=api[api:80](http://api) timeout=1m0s retries=0 svc=api",
				`user ANY regex ^/v1/users/(?<id>\d+)$ re=^(?:.*?(?:^/v1/users/(?P<id>\d+)$)) params=id hosts=api.example.com header=x-version=2 be=api[api:80](http://api) timeout=1m0s retries=0 svc=api`,
				"either ANY prefix / be=api[api:80](http://api) timeout=1m0s retries=0 svc=api",
				"exact ANY exact /healthz be=api[api:80](http://api) timeout=1m0s retries=0 svc=api",
			},
			notes: []string{
				`12:21 services[0].routes[2].expression: route expression "http.path == \"/a\" || http.path == \"/b\"" uses ||, which the contract cannot express; the endpoint matches every path instead`,
			},
		},
		{
			file: "json.good.json",
			want: []string{
				"json-route POST prefix /json be=json[json:8080](http://json:8080) timeout=1m0s retries=0 svc=json",
			},
		},
		{
			file: "stream-and-disabled.good.yaml",
			name: "edge-cp",
			want: []string{
				"on-route ANY prefix /on header=x-version=2 header=x-tenant~(?i)^a$|^b$ header=x-any~(?i)(?:^v[0-9]+$) be=on[on:80](http://on) timeout=1m0s retries=0 svc=on",
			},
			notes: []string{
				`16:9 services[1].routes[0]: route is not served: its service "off" is disabled (enabled: false)`,
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			kongLoader.CheckGood(t, contracttest.Good{File: tc.file, Name: tc.name, Want: tc.want, Notes: tc.notes, Defaults: contract.Defaults{Timeout: 60 * time.Second, Port: 8000}})
		})
	}
}

func TestLoadBad(t *testing.T) {
	for _, tc := range []struct {
		file    string
		err     string
		notKong bool
	}{
		{"docker-compose.bad.yaml", "testdata/docker-compose.bad.yaml:1:1: not a Kong declarative configuration: no _format_version; it looks like a docker-compose file", true},
		{"helm-values.bad.yaml", "testdata/helm-values.bad.yaml:1:1: not a Kong declarative configuration: no _format_version; it looks like Helm values for the Kong chart", true},
		{"helm-dbless.bad.yaml", "testdata/helm-dbless.bad.yaml:1:1: not a Kong declarative configuration: no _format_version; it looks like Helm values for the Kong chart; the Kong configuration is dblessConfig.config, extract it into its own file", true},
		{"kubernetes.bad.yaml", "testdata/kubernetes.bad.yaml:1:1: not a Kong declarative configuration: no _format_version; it looks like a Kubernetes manifest (kind: KongPlugin)", true},
		{"configmap.bad.yaml", "testdata/configmap.bad.yaml:1:1: not a Kong declarative configuration: no _format_version; it looks like a Kubernetes ConfigMap; the Kong configuration is the text of data.kong.yml, extract it into its own file", true},
		{"missing-format-version.bad.yaml", `testdata/missing-format-version.bad.yaml:1:1: not a Kong declarative configuration: no _format_version; it has Kong services or routes but lacks the required first line _format_version: "3.0" (or the version it was written for)`, true},
		{"empty.bad.yaml", "testdata/empty.bad.yaml: not a Kong declarative configuration: the file is empty", true},
		{"top-level-list.bad.yaml", "testdata/top-level-list.bad.yaml:1:1: not a Kong declarative configuration: the top level is a list, expected a mapping with _format_version", true},
		{"syntax.bad.yaml", "testdata/syntax.bad.yaml:2: invalid YAML: did not find expected '-' indicator", false},
		{"unsupported-version.bad.yaml", `testdata/unsupported-version.bad.yaml:1:18: _format_version: unsupported version "4.0": expected "1.1", "2.1" or "3.0"`, false},
		{"services-not-list.bad.yaml", "testdata/services-not-list.bad.yaml:3:3: services: expected a list, got a mapping", false},
		{"path-without-slash.bad.yaml", `testdata/path-without-slash.bad.yaml:9:13: services[0].routes[0].paths[1]: expected a path starting with "/" (a prefix) or "~" (a regular expression), got "items"`, false},
		{"unknown-service.bad.yaml", `testdata/unknown-service.bad.yaml:7:14: routes[0].service: service "b" is not defined in services`, false},
		{"duplicate-route.bad.yaml", `testdata/duplicate-route.bad.yaml:8:9: services[0].routes[1]: route name "same" is used twice (first at 6:9)`, false},
		{"timeout-not-number.bad.yaml", `testdata/timeout-not-number.bad.yaml:5:19: services[0].read_timeout: expected a number, got the string "60s"`, false},
		{"service-without-host.bad.yaml", "testdata/service-without-host.bad.yaml:3:5: services[0]: expected url or host: a service needs an upstream", false},
		{"methods-not-list.bad.yaml", `testdata/methods-not-list.bad.yaml:8:18: services[0].routes[0].methods: expected a list, got the string "GET"`, false},
		{"several.bad.yaml", `testdata/several.bad.yaml:5:19: services[0].read_timeout: expected a number, got the string "soon"` + "\n" +
			`testdata/several.bad.yaml:13:17: services[1].routes[0].paths[0]: expected a path starting with "/" (a prefix) or "~" (a regular expression), got "b1"` + "\n" +
			`testdata/several.bad.yaml:21:14: routes[1].service: service "missing" is not defined in services`, false},
		{"null-route.bad.yaml", "testdata/null-route.bad.yaml:6:8: services[0].routes[0]: expected a route mapping, got null", false},
		{"advanced-windows.bad.yaml", "testdata/advanced-windows.bad.yaml:5:7: plugins[0].config: expected as many window_size values as limit values, got 1 and 2", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			// Detect agrees: files that are not Kong configurations are
			// not detected; broken Kong configurations still are.
			kongLoader.CheckBad(t, tc.file, tc.err, tc.notKong, !tc.notKong && tc.file != "syntax.bad.yaml")
		})
	}
}

func TestTranslateRegex(t *testing.T) {
	for _, tc := range []struct {
		in, want, problem string
	}{
		{in: `/users/(?<id>\d+)$`, want: `/users/(?P<id>\d+)$`},
		{in: `/u/(?'id'[0-9]+)`, want: `/u/(?P<id>[0-9]+)`},
		{in: `/a/(?P<x>[^/]+)`, want: `/a/(?P<x>[^/]+)`},
		{in: `/files/.+\Z`, want: `/files/.+\z`},
		{in: `/h\h+`, want: `/h[\t ]+`},
		{in: `/c[\h-]`, want: `/c[\t -]`},
		{in: `/lit\Q(?=x)\E/y`, want: `/lit\Q(?=x)\E/y`},
		{in: `/class[(?=]`, want: `/class[(?=]`},
		{in: `/br[]a]`, want: `/br[]a]`},
		{in: `/esc\(?=x\)`, want: `/esc\(?=x\)`},
		{in: `/a(?=b)`, problem: "a lookahead (?="},
		{in: `/a(?!b)`, problem: "a lookahead (?!"},
		{in: `/a(?<=b)c`, problem: "a lookbehind (?<="},
		{in: `/a(?<!b)c`, problem: "a lookbehind (?<!"},
		{in: `/(a)\1`, problem: `the backreference \1`},
		{in: `/(?>a+)`, problem: "an atomic group (?>"},
		{in: `/a*+`, problem: "a possessive quantifier *+"},
		{in: `/a\+`, want: `/a\+`},
		{in: `/a[`, problem: "an unterminated character class ["},
		{in: `/a\`, problem: "a trailing backslash"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, problem := translateRegex(tc.in)
			require.Equal(t, tc.problem, problem)
			require.Equal(t, tc.want, got)
			if problem == "" {
				_, err := regexp.Compile(got)
				require.NoError(t, err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:p@h:80/x":           "http://u:xxxxx@h:80/x",
		"https://u:p:q@h/a@b":         "https://u:xxxxx@h/a@b",
		"http://token@h/":             "http://token@h/",
		"http://h/p?u=a:b@c":          "http://h/p?u=a:b@c",
		"${UPSTREAM_URL}":             "${UPSTREAM_URL}",
		"http://u:${{ env \"P\" }}@h": "http://u:xxxxx@h",
	} {
		require.Equal(t, want, redactURL(in), in)
	}
}

// TestSecretsNotInContract loads a service URL with a password and checks
// that the password appears nowhere in the contract.
func TestSecretsNotInContract(t *testing.T) {
	c, err := kongLoader.Testdata(t, "url-service.good.yaml")
	require.NoError(t, err)
	out, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), "s3cr3t-pa55")
	data := []byte("_format_version: \"3.0\"\nroutes:\n  - name: h\n    headers: {Authorization: [Bearer s3cr3t-pa55]}\n  - name: e\n    expression: http.path ^= \"/e\" && http.headers.x_api_key == \"s3cr3t-pa55\"\n")
	c, err = Load("kong.yml", data)
	require.NoError(t, err)
	require.Len(t, c.Notes, 2)
	require.Equal(t, []contract.HeaderMatch{{Name: "Authorization", Present: true}}, c.Endpoints[0].Headers)
	require.Equal(t, []contract.HeaderMatch{{Name: "x-api-key", Present: true}}, c.Endpoints[1].Headers)
	out, err = json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), "s3cr3t-pa55")
	data = []byte("_format_version: \"3.0\"\nservices:\n  - name: a\n    url: \"http://u:s3cr3t-pa55@:80\"\n")
	_, err = Load("kong.yml", data)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t-pa55")
}

func TestLiteralPrefix(t *testing.T) {
	for in, want := range map[string]string{
		`/api/v1/(?=beta)`: "/api/v1/",
		`/api\/v2\.x`:      "/api/v2.x",
		`/items?`:          "/item",
		`^/x/y+`:           "/x/y", // y+ starts with at least one y
		`(?=a)`:            "",
	} {
		require.Equal(t, want, literalPrefix(in), in)
	}
}

// corpusDir is the shared corpus of real Kong files, seen from this package.
const corpusDir = "../../../shared/corpus/kong"

// independentRoutes decodes a Kong file into plain maps, without the
// loader, and lists what the loader must find: every HTTP route of an
// enabled service (or with none), with its service's settings.
type wantRoute struct {
	name    string
	methods []string
	paths   []string
	service string
	timeout time.Duration
	retries int
	authAny bool // some enabled auth plugin applies at global, service or route level
}

func independentRoutes(t *testing.T, data []byte) []wantRoute {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	strs := func(v any) []string {
		var out []string
		l, _ := v.([]any)
		for _, x := range l {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	maps := func(v any) []map[string]any {
		var out []map[string]any
		l, _ := v.([]any)
		for _, x := range l {
			m, _ := x.(map[string]any)
			out = append(out, m)
		}
		return out
	}
	hasAuth := func(ps any) bool {
		for _, p := range maps(ps) {
			if en, ok := p["enabled"].(bool); ok && !en {
				continue
			}
			if _, ok := authPluginNames[p["name"].(string)]; ok {
				return true
			}
		}
		return false
	}
	globalAuth := false
	for _, p := range maps(doc["plugins"]) {
		if p["service"] == nil && p["route"] == nil && p["consumer"] == nil && hasAuth([]any{p}) {
			globalAuth = true
		}
	}
	mk := func(r, s map[string]any) wantRoute {
		w := wantRoute{methods: strs(r["methods"]), paths: strs(r["paths"]), timeout: time.Minute, authAny: globalAuth || hasAuth(r["plugins"])}
		w.name, _ = r["name"].(string)
		if s != nil {
			w.service, _ = s["name"].(string)
			if ms, ok := s["read_timeout"].(int); ok {
				w.timeout = time.Duration(ms) * time.Millisecond
			}
			w.retries, _ = s["retries"].(int)
			w.authAny = w.authAny || hasAuth(s["plugins"])
		}
		return w
	}
	var out []wantRoute
	byName := map[string]map[string]any{}
	for _, s := range maps(doc["services"]) {
		if n, ok := s["name"].(string); ok {
			byName[n] = s
		}
		if en, ok := s["enabled"].(bool); ok && !en {
			continue
		}
		for _, r := range maps(s["routes"]) {
			out = append(out, mk(r, s))
		}
	}
	for _, r := range maps(doc["routes"]) {
		ref, _ := r["service"].(string)
		out = append(out, mk(r, byName[ref]))
	}
	return out
}

var authPluginNames = map[string]bool{
	"key-auth": true, "jwt": true, "oauth2": true, "basic-auth": true, "hmac-auth": true,
	"ldap-auth": true, "openid-connect": true,
}

// TestCorpus loads every real Kong file and checks the endpoints against an
// independent reading of the same file.
func TestCorpus(t *testing.T) {
	kongLoader.EachCorpusFile(t, corpusDir, func(t *testing.T, c *contract.Contract, data []byte) {
		require.Equal(t, contract.HashSource(data), c.Hash)

		want := independentRoutes(t, data)
		require.Len(t, c.Endpoints, len(want))
		lines := strings.Split(string(data), "\n")
		got := map[string]contract.Endpoint{}
		for _, e := range c.Endpoints {
			got[e.Name] = e
			// Pos points at the first key of the route's mapping.
			require.Positive(t, e.Pos.Line)
			line := lines[e.Pos.Line-1]
			require.Regexp(t, `^[a-z_]+:`, line[e.Pos.Column-1:], "endpoint %s at %s", e.Name, e.Pos)
			if e.Match == contract.MatchRegex {
				_, err := regexp.Compile(e.Regex)
				require.NoError(t, err)
			}
		}
		for _, w := range want {
			require.NotEmpty(t, w.name, "every corpus route is named")
			e, ok := got[w.name]
			require.True(t, ok, "route %s has an endpoint", w.name)
			if len(w.methods) == 0 {
				require.Empty(t, e.Methods)
			} else {
				require.Equal(t, w.methods, e.Methods)
			}
			written := e.Paths
			if len(written) == 0 {
				written = []string{e.Path}
			}
			require.Equal(t, w.paths, written, "route %s", w.name)
			for _, p := range w.paths {
				wantRegex := strings.HasPrefix(p, "~")
				require.Equal(t, wantRegex, e.Match == contract.MatchRegex, "route %s path %s", w.name, p)
			}
			require.Equal(t, w.service, e.Service)
			require.Equal(t, w.timeout, e.Timeout)
			require.Equal(t, w.retries, e.Retries)
			require.Equal(t, w.authAny, e.Auth.Required, "route %s", w.name)
			require.Len(t, e.Backends, 1)
			require.NotEmpty(t, e.Backends[0].Hosts)
		}
	})
}

// TestParseBOMAndTabs checks that a byte order mark and JSON indented with
// tabs are read as Kong writes and accepts them.
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

// TestDetectOtherGateways checks that Envoy and KrakenD files of the corpus
// are not taken for Kong, and that Load says what they look like.
func TestDetectOtherGateways(t *testing.T) {
	kongLoader.CheckRefuses(t, "../../../shared/corpus/envoy", "it looks like an Envoy bootstrap configuration")
}

func FuzzLoad(f *testing.F) {
	contracttest.AddSeeds(f, corpusDir, "testdata")
	f.Add([]byte("_format_version: \"3.0\"\nservices: &s [*s]\n"))
	f.Add([]byte("_format_version: \"3.0\"\nx: &a {<<: *a}\nservices:\n  - <<: *a\n    url: http://a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := kongLoader.Fuzz(t, data)
		if c == nil {
			return
		}
		names := map[string]bool{}
		for _, e := range c.Endpoints {
			require.False(t, names[e.Name], "endpoint name %q twice", e.Name)
			names[e.Name] = true
			switch e.Match {
			case contract.MatchPrefix, contract.MatchExact:
				require.NotEmpty(t, e.Path)
			case contract.MatchRegex:
				_, err := regexp.Compile(e.Regex)
				require.NoError(t, err)
			default:
				t.Fatalf("unexpected match kind %q", e.Match)
			}
		}
	})
}

// BenchmarkLoad measures loading every file of the shared corpus once per
// iteration.
func BenchmarkLoad(b *testing.B) {
	kongLoader.Benchmark(b, corpusDir)
}

// FuzzTranslateRegex checks that translating never panics, that a
// translation compiles whenever the loader would use it, and that an
// expression Go already runs, written without the PCRE-only spellings the
// translator rewrites, comes out unchanged.
func FuzzTranslateRegex(f *testing.F) {
	for _, s := range []string{`/users/(?<id>\d+)$`, `/a(?=b)`, `/x[\h]+\Z`, `/q\Q(?<x>\E`, `/[]a]`, `(?'n'a)`, `a*+`, `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, problem := translateRegex(in)
		if problem != "" {
			require.Empty(t, out)
			return
		}
		if _, err := compilePath(in); err == nil {
			_, err := regexp.Compile(out)
			require.NoError(t, err)
		}
		if _, err := regexp.Compile(in); err == nil && !strings.ContainsAny(in, `'<`) && !strings.Contains(in, `\Z`) && !strings.Contains(in, `\h`) {
			require.Equal(t, in, out)
		}
	})
}
