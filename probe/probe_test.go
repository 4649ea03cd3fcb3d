package probe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const exampleConfig = `
probe:
  interval: 20s
  timeout: 4s
  base_url: https://api.example.com
  targets:
    - name: user-42
      url: /v1/users/42
      headers: {Accept: application/json}
      expect_status: [200]
      expect_body: '"id":\s*42'
    - name: v1-catalog-products
      url: /v1/catalog/products?limit=1
      timeout: 2s
`

func loadConfig(t testing.TB, s string) *config.Config {
	t.Helper()
	c, err := config.Load("gatewatch.yaml", []byte(s))
	require.NoError(t, err)
	return c
}

func exampleContract(t testing.TB) *contract.Contract {
	t.Helper()
	c, err := loader.Load("../examples/krakend.json", "auto", loader.Options{})
	require.NoError(t, err)
	return c
}

func TestTargets(t *testing.T) {
	targets, notes := Targets(exampleContract(t), loadConfig(t, exampleConfig))
	require.Empty(t, notes)
	var got []string
	for _, tg := range targets {
		got = append(got, fmt.Sprintf("%s %s %s %s", tg.Name, tg.Method, tg.URL, tg.Timeout))
	}
	require.Equal(t, []string{
		"gateway-health GET https://api.example.com/__health 4s",
		"v1-catalog-products GET https://api.example.com/v1/catalog/products?limit=1 2s", // replaced by gatewatch.yaml
		"health GET https://api.example.com/health 4s",
		"user-42 GET https://api.example.com/v1/users/42 4s",
	}, got)

	_, notes = Targets(exampleContract(t), loadConfig(t, "probe: {}\n"))
	require.Len(t, notes, 1)
	require.Contains(t, notes[0], "probe.base_url")
}

func TestCheckNamesUnique(t *testing.T) {
	ep := func(path string) contract.Endpoint {
		return contract.Endpoint{Name: path, Path: path, Match: contract.MatchExact, Public: true, Methods: []string{"GET"}}
	}
	c := &contract.Contract{Gateway: contract.Kong, Endpoints: []contract.Endpoint{ep("/a/b"), ep("/a-b"), ep("/a/b"), ep("/")}}
	targets, _ := Targets(c, loadConfig(t, "probe: {base_url: 'https://x'}\n"))
	var names []string
	for _, tg := range targets {
		names = append(names, tg.Name+" "+tg.URL)
	}
	require.Equal(t, []string{"a-b https://x/a/b", "a-b-2 https://x/a-b", "root https://x/"}, names)
}

func TestModuleNamesUnique(t *testing.T) {
	s := New([]Target{
		{Name: "a.b", URL: "https://x/1", Method: "POST", Timeout: time.Second},
		{Name: "a_b", URL: "https://x/2", Method: "PUT", Timeout: time.Second},
		{Name: "c", URL: "https://x/3", Method: "GET", Timeout: time.Second},
	}, Options{Gateway: "g"})
	require.Equal(t, map[string]string{"a.b": "gatewatch_a_b", "a_b": "gatewatch_a_b_2", "c": DefaultModule}, s.moduleOf)
	require.Equal(t, "PUT", s.modules["gatewatch_a_b_2"].HTTP.Method)
}

func TestProbeable(t *testing.T) {
	base := contract.Endpoint{Name: "/a", Path: "/a", Match: contract.MatchExact, Public: true, Methods: []string{"GET"}}
	require.True(t, probeable(&base))
	for name, change := range map[string]func(*contract.Endpoint){
		"auth":     func(e *contract.Endpoint) { e.Auth.Required = true },
		"params":   func(e *contract.Endpoint) { e.Path, e.Params = "/a/{id}", []string{"id"} },
		"post":     func(e *contract.Endpoint) { e.Methods = []string{"POST"} },
		"internal": func(e *contract.Endpoint) { e.Public = false },
		"prefix":   func(e *contract.Endpoint) { e.Match = contract.MatchPrefix },
		"host":     func(e *contract.Endpoint) { e.Hosts = []string{"a.example.com"} },
	} {
		e := base
		change(&e)
		require.False(t, probeable(&e), name)
	}
}

func exampleSet(t testing.TB) *Set {
	cfg := loadConfig(t, exampleConfig)
	targets, _ := Targets(exampleContract(t), cfg)
	return New(targets, Options{Gateway: "shop", Interval: cfg.Probe.Interval.Std()})
}

// TestGolden compares the output with testdata; run go test ./probe
// -update after an intended change and review the diff.
func TestGolden(t *testing.T) {
	s := exampleSet(t)
	for _, f := range []struct {
		name string
		gen  func() ([]byte, error)
	}{
		{"shop." + BlackboxFile, s.BlackboxYAML},
		{"shop." + ScrapeFile, s.ScrapeYAML},
		{"shop." + ProbesFile, s.ProbesYAML},
	} {
		got, err := f.gen()
		require.NoError(t, err)
		path := filepath.Join("testdata", f.name)
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s differs; run go test ./probe -update and review the diff", path)
		again, err := f.gen()
		require.NoError(t, err)
		require.Equal(t, got, again, "output is not deterministic")
	}
}

// TestProbesDecodeStrictly decodes every document of probes.yaml strictly
// into the operator's Probe type and checks kind and names.
func TestProbesDecodeStrictly(t *testing.T) {
	b, err := exampleSet(t).ProbesYAML()
	require.NoError(t, err)
	r := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	names := map[string]bool{}
	n := 0
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		var p monitoringv1.Probe
		require.NoError(t, sigsyaml.UnmarshalStrict(doc, &p))
		require.Equal(t, "Probe", p.Kind)
		require.Equal(t, "monitoring.coreos.com/v1", p.APIVersion)
		require.NoError(t, p.Spec.Targets.Validate())
		require.LessOrEqual(t, len(p.Name), 63)
		require.False(t, names[p.Name], "duplicate name %s", p.Name)
		names[p.Name] = true
		// Wrong-case keys pass UnmarshalStrict; compare with a re-encoding.
		back, err := sigsyaml.Marshal(&p)
		require.NoError(t, err)
		require.YAMLEq(t, string(doc), string(back))
		n++
	}
	require.Equal(t, 4, n)
}

// TestScrapeConfigPromtool checks the scrape jobs with promtool.
func TestScrapeConfigPromtool(t *testing.T) {
	if _, err := os.Stat("/usr/bin/promtool"); err != nil {
		t.Skip("promtool (Prometheus 2.42) is not installed at /usr/bin/promtool; install the prometheus package to run this test")
	}
	b, err := exampleSet(t).ScrapeYAML()
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	out, err := exec.Command("/usr/bin/promtool", "check", "config", "--syntax-only", p).CombinedOutput()
	require.NoError(t, err, "promtool check config:\n%s", out)
}

const blackboxBin = "/usr/bin/prometheus-blackbox-exporter"

// TestBlackbox runs Debian's blackbox_exporter with the generated modules
// (--config.check, then for real) against a local server, and checks
// probe_success for a good target, a wrong status, a wrong body and a
// missing header.
func TestBlackbox(t *testing.T) {
	if _, err := os.Stat(blackboxBin); err != nil {
		t.Skipf("%s is not installed; install the prometheus-blackbox-exporter package (0.23) to run this test", blackboxBin)
	}
	broken := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/users/42" && r.Header.Get("Accept") != "application/json":
			w.WriteHeader(http.StatusNotAcceptable)
		case r.URL.Path == "/v1/users/42" && broken:
			fmt.Fprint(w, `{"id": 43}`)
		case r.URL.Path == "/v1/users/42":
			fmt.Fprint(w, `{"id": 42}`)
		case r.URL.Path == "/health" && broken:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, `{"status":"ok"}`)
		}
	}))
	defer srv.Close()
	cfg := loadConfig(t, strings.Replace(exampleConfig, "https://api.example.com", srv.URL, 1))
	targets, _ := Targets(exampleContract(t), cfg)
	s := New(targets, Options{Gateway: "shop", Interval: cfg.Probe.Interval.Std()})
	b, err := s.BlackboxYAML()
	require.NoError(t, err)
	dir := t.TempDir()
	conf := filepath.Join(dir, BlackboxFile)
	require.NoError(t, os.WriteFile(conf, b, 0o644))
	out, err := exec.Command(blackboxBin, "--config.file="+conf, "--config.check").CombinedOutput()
	require.NoError(t, err, "blackbox_exporter --config.check:\n%s", out)

	addr := startBlackbox(t, conf)
	probe := func(tg Target) string {
		mod := s.moduleOf[tg.Name]
		u := fmt.Sprintf("http://%s/probe?module=%s&target=%s", addr, mod, tg.URL)
		var body []byte
		require.Eventually(t, func() bool {
			resp, err := http.Get(u)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			body, _ = io.ReadAll(resp.Body)
			return resp.StatusCode == 200
		}, 10*time.Second, 50*time.Millisecond)
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "probe_success ") {
				return strings.TrimPrefix(line, "probe_success ")
			}
		}
		t.Fatalf("no probe_success in:\n%s", body)
		return ""
	}
	byName := map[string]Target{}
	for _, tg := range targets {
		byName[tg.Name] = tg
	}
	for _, name := range []string{"gateway-health", "health", "user-42", "v1-catalog-products"} {
		require.Equal(t, "1", probe(byName[name]), "%s should succeed", name)
	}
	broken = true
	require.Equal(t, "0", probe(byName["health"]), "a 503 fails")
	require.Equal(t, "0", probe(byName["user-42"]), "a body that does not match fails")
	require.Equal(t, "1", probe(byName["gateway-health"]))
}

// startBlackbox runs blackbox_exporter with conf on a free loopback port
// until the test ends, and returns its host:port.
func startBlackbox(t *testing.T, conf string) string {
	t.Helper()
	addr := promtest.FreeAddr(t)
	promtest.StartProcess(t, filepath.Dir(conf), "blackbox_exporter", blackboxBin, "--config.file="+conf, "--web.listen-address="+addr)
	return addr
}

// TestBlackboxPrometheus runs the generated scrape job in a real
// Prometheus against a real blackbox_exporter: each check's module and
// target reach the exporter through the relabelling, and its metrics
// arrive under the prober's names with gateway and check.
func TestBlackboxPrometheus(t *testing.T) {
	for _, bin := range []string{blackboxBin, promtest.Bin} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("%s is not installed; install prometheus-blackbox-exporter (0.23) and prometheus (2.42) to run this test", bin)
		}
	}
	if testing.Short() {
		t.Skip("starts a blackbox_exporter and a Prometheus; skipped with -short")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	defer srv.Close()
	cfg := loadConfig(t, "probe:\n  interval: 1s\n  timeout: 1s\n  base_url: "+srv.URL+"\n  targets:\n    - {name: up, url: /up, expect_body: ok}\n    - {name: down, url: /down}\n")
	targets, _ := Targets(nil, cfg)
	dir := t.TempDir()
	conf := filepath.Join(dir, BlackboxFile)
	s := New(targets, Options{Gateway: "shop", Interval: time.Second})
	b, err := s.BlackboxYAML()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(conf, b, 0o644))
	s.Options.BlackboxAddress = startBlackbox(t, conf)
	scrape, err := s.ScrapeYAML()
	require.NoError(t, err)
	base := promtest.Start(t, dir, map[string][]byte{"prometheus.yml": append([]byte("global: {scrape_interval: 1s}\n"), scrape...)})
	value := func(q string) string {
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) != 1 {
			return ""
		}
		return fmt.Sprint(r.Data.Result[0].Value[1])
	}
	success := schema.ProbeSuccess.Name
	promtest.WaitFor(t, 30*time.Second, func() bool {
		return value(success+`{gateway="shop",check="up"}`) == "1" && value(success+`{gateway="shop",check="down"}`) == "0"
	}, func() string {
		return fmt.Sprintf("up=%q down=%q", value(success+`{check="up"}`), value(success+`{check="down"}`))
	})
	require.Equal(t, "503", value(schema.ProbeStatusCode.Name+`{check="down"}`))
	require.NotEmpty(t, value(schema.ProbeDuration.Name+`{check="up",phase="connect"}`))
	require.Empty(t, value(`count(probe_success)`), "blackbox's own names are renamed")
}

// TestThousandEndpoints: a 1,000-endpoint contract's probe files take
// well under a second (issue 15's budget for everything generate all
// writes).
func TestThousandEndpoints(t *testing.T) {
	c := &contract.Contract{Gateway: contract.KrakenD, Name: "big"}
	for i := range 1000 {
		p := fmt.Sprintf("/v1/resource%d", i)
		c.Endpoints = append(c.Endpoints, contract.Endpoint{Name: p, Path: p, Match: contract.MatchExact, Public: true, Methods: []string{"GET"}})
	}
	start := time.Now()
	targets, _ := Targets(c, loadConfig(t, "probe: {base_url: 'https://x'}\n"))
	s := New(targets, Options{Gateway: "big"})
	for _, gen := range []func() ([]byte, error){s.BlackboxYAML, s.ScrapeYAML, s.ProbesYAML} {
		_, err := gen()
		require.NoError(t, err)
	}
	require.Len(t, targets, 1001)
	require.Less(t, time.Since(start), time.Second)
}

// TestDocExample loads the probe section docs/probing.md shows, so that
// the documentation cannot drift from the configuration.
func TestDocExample(t *testing.T) {
	b, err := os.ReadFile("../docs/probing.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "```yaml\nprobe:")
	require.True(t, ok, "docs/probing.md has no probe example")
	example, _, ok := strings.Cut("probe:"+rest, "```")
	require.True(t, ok)
	cfg, err := config.Load("docs/probing.md", []byte(example))
	require.NoError(t, err)
	targets, _ := Targets(nil, cfg)
	require.Len(t, targets, 1)
	require.Equal(t, "https://api.example.com/v1/users/42", targets[0].URL)
}
