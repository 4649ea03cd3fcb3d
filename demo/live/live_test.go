package live

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract/loader"
	"github.com/gatewatch/gatewatch/schema"
)

// TestQuantile checks the p99 estimate against values worked out by hand
// the way histogram_quantile interpolates.
func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		name    string
		q       float64
		buckets map[float64]float64
		want    float64
	}{
		{"middle of the first bucket", 0.5, map[float64]float64{0.1: 10, 1: 10, inf: 10}, 0.05},
		{"interpolated in the second bucket", 0.99, map[float64]float64{0.01: 50, 0.1: 100, inf: 100}, 0.01 + 0.09*49/50},
		{"rank in +Inf gives the highest finite bound", 0.99, map[float64]float64{0.01: 10, 0.1: 20, inf: 100}, 0.1},
		{"no observations", 0.99, map[float64]float64{0.1: 0, inf: 0}, math.NaN()},
		{"no +Inf bucket", 0.99, map[float64]float64{0.1: 5}, math.NaN()},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := quantile(c.q, c.buckets)
			if math.IsNaN(c.want) {
				require.True(t, math.IsNaN(got), "got %v", got)
				return
			}
			require.InDelta(t, c.want, got, 1e-12)
		})
	}
}

// exposition is a sidecar scrape in the text format, with the labels the
// sidecar puts on its series (and one it may add, gateway).
func exposition(requests200, requests503 int, fast, slow int) string {
	var b strings.Builder
	w := func(f string, args ...any) { fmt.Fprintf(&b, f, args...) }
	w("# TYPE %s counter\n", schema.RequestsTotal.Name)
	w("%s{gateway=\"g\",endpoint=\"/v1/orders\",method=\"POST\",code=\"200\",track=\"stable\"} %d\n", schema.RequestsTotal.Name, requests200)
	w("%s{gateway=\"g\",endpoint=\"/v1/orders\",method=\"POST\",code=\"503\",track=\"stable\"} %d\n", schema.RequestsTotal.Name, requests503)
	w("# TYPE %s histogram\n", schema.RequestDuration.Name)
	n := schema.RequestDuration.Name
	w("%s_bucket{endpoint=\"/v1/orders\",method=\"POST\",track=\"stable\",le=\"0.01\"} %d\n", n, fast)
	w("%s_bucket{endpoint=\"/v1/orders\",method=\"POST\",track=\"stable\",le=\"0.5\"} %d\n", n, fast+slow)
	w("%s_bucket{endpoint=\"/v1/orders\",method=\"POST\",track=\"stable\",le=\"+Inf\"} %d\n", n, fast+slow)
	w("%s_sum{endpoint=\"/v1/orders\",method=\"POST\",track=\"stable\"} 1\n", n)
	w("%s_count{endpoint=\"/v1/orders\",method=\"POST\",track=\"stable\"} %d\n", n, fast+slow)
	w("# TYPE %s counter\n%s{file=\"a.log\"} %d\n", schema.LinesRead.Name, schema.LinesRead.Name, requests200+requests503+3)
	w("# TYPE %s counter\n%s{reason=\"syntax\"} 3\n", schema.DecodeErrors.Name, schema.DecodeErrors.Name)
	w("# TYPE %s counter\n%s{reason=\"other_log\"} 5\n", schema.SkippedLines.Name, schema.SkippedLines.Name)
	return b.String()
}

func parse(t *testing.T, at time.Time, text string) *snapshot {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	return parseSnapshot(at, fams)
}

// TestRates: two scrapes 10s apart give requests and 5xx per second
// summed over codes and tracks, the p99 of the requests in between only,
// and the totals since the start.
func TestRates(t *testing.T) {
	t0 := time.Unix(1000, 0)
	old := parse(t, t0, exposition(100, 10, 110, 0))
	cur := parse(t, t0.Add(10*time.Second), exposition(150, 20, 130, 40))
	require.Equal(t, 173.0, cur.lines)
	require.Equal(t, 3.0, cur.decodeErrors)
	require.Equal(t, 5.0, cur.skipped)
	r := rates(old, cur)[epKey{"/v1/orders", "POST"}]
	require.InDelta(t, 6.0, r.rps, 1e-9)
	require.InDelta(t, 1.0, r.errRPS, 1e-9)
	require.Equal(t, 170.0, r.total)
	require.Equal(t, 20.0, r.totalErrors)
	// 60 requests in between, 20 fast and 40 in (0.01, 0.5]: rank 59.4
	// lies 39.4/40 of the way into the second bucket.
	require.InDelta(t, 0.01+0.49*39.4/40, r.p99, 1e-9)
}

// TestPagerDutyStandIn: pdtest's receiver, served for Alertmanager,
// accepts an event as Alertmanager 0.25 sends it (REFERENCE §1) under the
// service of its routing key and refuses one without a source; the
// demo's view of both never holds the routing key.
func TestPagerDutyStandIn(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	s, err := newPDStandIn("127.0.0.1:0", map[string]string{key: "page"})
	require.NoError(t, err)
	t.Cleanup(s.close)
	post := func(body string) int {
		resp, err := http.Post(s.URL(), "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	trigger := `{"routing_key":"` + key + `","dedup_key":"abc","event_action":"trigger","payload":{"summary":"[FIRING:1] GatewatchAvailabilityBudgetBurn","source":"Alertmanager","severity":"critical","custom_details":{"firing":"x"}},"client":"Alertmanager","client_url":"http://127.0.0.1:19093/"}`
	require.Equal(t, http.StatusAccepted, post(trigger))
	require.Equal(t, http.StatusAccepted, post(`{"routing_key":"`+key+`","dedup_key":"abc","event_action":"resolve"}`))
	require.Equal(t, http.StatusBadRequest, post(strings.Replace(trigger, `"source":"Alertmanager",`, "", 1)))
	pages, rejected := s.received()
	require.Len(t, pages, 2)
	require.Equal(t, page{At: pages[0].At, Service: "page", Action: "trigger", DedupKey: "abc", Summary: "[FIRING:1] GatewatchAvailabilityBudgetBurn", Severity: "critical"}, pages[0])
	require.Equal(t, "resolve", pages[1].Action)
	require.Len(t, rejected, 1)
	require.Contains(t, rejected[0], "source")
	require.NotContains(t, rejected[0], key)
}

// TestDemoConfig: the demo's gatewatch.yaml is the example's with the
// demo's settings, keeps its comments, and loads as gatewatch loads it,
// with the state under the output folder (a path a normal user can write)
// and the contract found relative to it.
func TestDemoConfig(t *testing.T) {
	out := t.TempDir()
	absContract, err := filepath.Abs("../../examples/krakend.json")
	require.NoError(t, err)
	relContract, err := filepath.Rel(out, absContract)
	require.NoError(t, err)
	b, err := demoConfig("../../examples/gatewatch.yaml", out, relContract, "127.0.0.1:19145", "http://127.0.0.1:19094/v2/enqueue", "/tmp/k/page", "/tmp/k/ticket")
	require.NoError(t, err)
	require.Contains(t, string(b), "# percent of requests without a 5xx")
	p := filepath.Join(out, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	cfg, err := config.LoadFile(p)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:19145", cfg.Sidecar.Listen)
	require.Equal(t, filepath.Join(out, "state"), cfg.Sidecar.CheckpointDir)
	require.Equal(t, "http://127.0.0.1:19094/v2/enqueue", cfg.Alerting.PagerDuty.URL)
	require.Equal(t, "/tmp/k/page", cfg.Alerting.PagerDuty.Page.RoutingKeyFile)
	require.Equal(t, config.Duration(5*time.Second), cfg.Alerting.GroupWait)
	require.Equal(t, 99.9, cfg.SLO.Availability, "the example's objective is kept")
	_, err = loader.Load(filepath.Join(out, relContract), "auto", loader.Options{})
	require.NoError(t, err)
}

// TestPrometheusConfig: the scrape job honours the sidecar's labels and
// sets the gateway target label, as the generated scrape configurations
// do.
func TestPrometheusConfig(t *testing.T) {
	b := string(prometheusConfig("generated/rules.yml", "gatewatch", "127.0.0.1:19145", "shop-gateway", "127.0.0.1:19093"))
	for _, want := range []string{"scrape_interval: 2s", "evaluation_interval: 2s", `- "generated/rules.yml"`, `job_name: "gatewatch"`,
		"honor_labels: true", `targets: ["127.0.0.1:19145"]`, schema.LabelGateway + `: "shop-gateway"`, `targets: ["127.0.0.1:19093"]`} {
		require.Contains(t, b, want)
	}
	require.NotContains(t, string(prometheusConfig("r.yml", "j", "s:1", "g", "")), "alertmanagers")
}

// TestSchedule: the error burst starts at once, the latency burst
// follows, then calm, and the story repeats every cycle.
func TestSchedule(t *testing.T) {
	c, err := loader.Load("../../examples/krakend.json", "auto", loader.Options{})
	require.NoError(t, err)
	ts := targets(c)
	require.Len(t, ts, 10)
	bs := schedule(ts)
	require.Equal(t, "POST", bs[0].target.method)
	require.Equal(t, "/v1/orders", bs[0].target.endpoint)
	require.Equal(t, "/orders", bs[0].fault.PathPrefix)
	require.Equal(t, "/products/", bs[1].fault.PathPrefix)
	cur, next, at := active(bs, 0)
	require.Same(t, &bs[0], cur)
	require.Same(t, &bs[1], next)
	require.Equal(t, 5*time.Minute, at)
	cur, _, _ = active(bs, 4*time.Minute+30*time.Second)
	require.Nil(t, cur)
	cur, next, at = active(bs, 10*time.Minute)
	require.Nil(t, cur)
	require.Same(t, &bs[0], next)
	require.Equal(t, cycle, at)
	cur, _, _ = active(bs, cycle+time.Minute)
	require.Same(t, &bs[0], cur)
}

// TestShellQuote: the printed command line runs as it is in a shell.
func TestShellQuote(t *testing.T) {
	require.Equal(t, `bin/gatewatch sidecar -c out/demo/gatewatch.yaml --x= 'a b' 'it'\''s'`,
		shellQuote([]string{"bin/gatewatch", "sidecar", "-c", "out/demo/gatewatch.yaml", "--x=", "a b", "it's"}))
}
