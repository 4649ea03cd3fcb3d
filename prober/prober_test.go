package prober

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/pagerduty"
	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/schema"
)

const (
	testKey = "0123456789abcdef0123456789abcdef"
	keyEnv  = "GATEWATCH_TEST_PROBER_KEY"
)

var fast = pagerduty.Retrier{Min: 5 * time.Millisecond, Max: 40 * time.Millisecond, MaxRetryAfter: 2 * time.Second}

// backend answers 200 {"status":"ok"} until broken is set, then 503.
type backend struct {
	broken atomic.Bool
	srv    *httptest.Server
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.broken.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func target(name, url string) probe.Target {
	return probe.Target{Name: name, URL: url, Method: "GET", Timeout: 2 * time.Second, Endpoint: "/health"}
}

func TestResults(t *testing.T) {
	b := newBackend(t)
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			w.WriteHeader(406)
		}
		fmt.Fprint(w, `{"id": 42}`)
	}))
	defer tls.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	targets := []probe.Target{
		target("ok", b.srv.URL+"/health"),
		{Name: "tls", URL: tls.URL + "/v1/users/42", Method: "GET", Headers: map[string]string{"Accept": "application/json"}, ExpectStatus: []int{200}, ExpectBody: `"id":\s*42`, Timeout: time.Second},
		{Name: "wrong-body", URL: tls.URL + "/v1/users/42", Method: "GET", Headers: map[string]string{"Accept": "application/json"}, ExpectBody: `"id":\s*43`, Timeout: time.Second},
		{Name: "no-header", URL: tls.URL + "/v1/users/42", Method: "GET", ExpectStatus: []int{200}, Timeout: time.Second},
		{Name: "slow", URL: slow.URL, Method: "GET", Timeout: 100 * time.Millisecond},
		{Name: "refused", URL: "http://127.0.0.1:1/", Method: "GET", Timeout: time.Second},
	}
	reg := prometheus.NewPedanticRegistry()
	p, err := New(Options{Gateway: "shop", Targets: targets, Interval: time.Second, TriggerAfter: 3, ResolveAfter: 2, Registerer: reg, Transport: tls.Client().Transport})
	require.NoError(t, err)
	want := map[string]string{
		"ok": "", "tls": "", "wrong-body": `the body does not match "\"id\":\\s*43"`,
		"no-header": "status 406, expected 200", "slow": "timed out", "refused": "connection refused",
	}
	for i, tg := range targets {
		r := p.Check(context.Background(), i)
		if want[tg.Name] == "" {
			require.True(t, r.Success, "%s: %s", tg.Name, r.Err)
		} else {
			require.False(t, r.Success, tg.Name)
			require.Contains(t, r.Err, want[tg.Name], tg.Name)
		}
	}
	require.Equal(t, 1.0, testutil.ToFloat64(p.success.WithLabelValues("tls")))
	require.Equal(t, 0.0, testutil.ToFloat64(p.success.WithLabelValues("no-header")))
	require.Equal(t, 406.0, testutil.ToFloat64(p.status.WithLabelValues("no-header")))
	require.Equal(t, float64(tls.Certificate().NotAfter.Unix()), testutil.ToFloat64(p.expiry.WithLabelValues("tls")))
	require.Greater(t, testutil.ToFloat64(p.dur.WithLabelValues("tls", schema.PhaseTLS)), 0.0)
	require.Greater(t, testutil.ToFloat64(p.dur.WithLabelValues("ok", schema.PhaseConnect)), 0.0)
	require.Greater(t, testutil.ToFloat64(p.dur.WithLabelValues("ok", schema.PhaseProcessing)), 0.0)

	// Every series carries the gateway; the label sets exist at once.
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == schema.LabelGateway && l.GetValue() == "shop")
			}
			require.True(t, found, "%s lacks gateway", mf.GetName())
		}
	}
	for _, m := range []schema.Metric{schema.ProbeSuccess, schema.ProbeDuration, schema.ProbeStatusCode, schema.ProbeTLSExpiry} {
		require.True(t, names[m.Name], m.Name)
	}
	lint, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, lint)
}

func keyFile(t *testing.T) config.SecretRef {
	p := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(p, []byte(testKey), 0o600))
	return config.SecretRef{File: p}
}

// TestIncident checks the state machine: a trigger after three failures
// (not before, not again), a resolve after two successes, with the
// dedup key, severity, links and location PagerDuty shows.
func TestIncident(t *testing.T) {
	b := newBackend(t)
	pds := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer pds.Close()
	dir := t.TempDir()
	ob, err := pagerduty.OpenOutbox(filepath.Join(dir, "outbox"), nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ob.Run(ctx, pagerduty.New(pds.URL, keyFile(t), nil), fast)
	links := []pagerduty.Link{{Href: "https://grafana.example.com/d/gw-shop", Text: "Dashboard"}, {Href: "https://runbooks.example.com/GatewatchProbeFailing", Text: "Runbook"}}
	opts := Options{Gateway: "shop", Targets: []probe.Target{target("health", b.srv.URL+"/health")}, Interval: time.Second,
		TriggerAfter: 3, ResolveAfter: 2, Location: "eu-west", Severity: "critical", Links: links, Outbox: ob, StateFile: filepath.Join(dir, "state.json")}
	p, err := New(opts)
	require.NoError(t, err)
	run := func(n int) {
		for i := 0; i < n; i++ {
			p.Check(ctx, 0)
		}
	}
	run(1)
	b.broken.Store(true)
	run(2)
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, pds.Events(), "two failures do not page")
	run(4)
	require.True(t, pds.WaitFor(5*time.Second, func(e []pdtest.Event) bool { return len(e) == 1 }))
	ev := pds.Events()[0]
	require.Equal(t, "trigger", ev.Action)
	require.Equal(t, "platform", ev.Team)
	require.Equal(t, "critical", ev.Severity)
	require.Equal(t, "gatewatch/probe/shop/health", ev.DedupKey)
	require.Contains(t, ev.Summary, "shop: probe health failing")
	require.Contains(t, ev.Summary, "status 503")
	require.Equal(t, "eu-west", ev.Details["location"])
	require.Equal(t, "/health", ev.Details["endpoint"])
	require.Equal(t, []pdtest.Link{{Href: links[0].Href, Text: "Dashboard"}, {Href: links[1].Href, Text: "Runbook"}}, ev.Links)

	// A restarted prober remembers the open incident and resolves it.
	p, err = New(opts)
	require.NoError(t, err)
	b.broken.Store(false)
	run(1)
	time.Sleep(50 * time.Millisecond)
	require.Len(t, pds.Events(), 1, "one success does not resolve")
	run(3)
	require.True(t, pds.WaitFor(5*time.Second, func(e []pdtest.Event) bool { return len(e) == 2 }))
	require.Equal(t, "resolve", pds.Events()[1].Action)
	require.Equal(t, "gatewatch/probe/shop/health", pds.Events()[1].DedupKey)
	require.Empty(t, pds.Open("platform"))
	time.Sleep(50 * time.Millisecond)
	require.Len(t, pds.Events(), 2)
	require.Empty(t, pds.Rejections())
}

// TestKill9 runs a prober in a child process (this test binary again)
// against a failing check while PagerDuty answers 503, then 429 with
// Retry-After, kills it with SIGKILL while its trigger waits in the
// outbox, and checks that a new prober on the same folders delivers the
// trigger and, once the check recovers, the resolve: each once, in order.
func TestKill9(t *testing.T) {
	if dir := os.Getenv("GATEWATCH_PROBER_CHILD"); dir != "" {
		child(dir)
		return
	}
	b := newBackend(t)
	b.broken.Store(true)
	pds := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer pds.Close()
	pds.Inject(pdtest.Fault{Status: 503, Count: 3})
	pds.Inject(pdtest.Fault{Status: 429, RetryAfter: "1", Count: -1})
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$")
	cmd.Env = append(os.Environ(), "GATEWATCH_PROBER_CHILD="+dir, "GATEWATCH_PROBER_TARGET="+b.srv.URL+"/health",
		"GATEWATCH_PROBER_PD="+pds.URL, keyEnv+"="+testKey)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { _, f := pds.Counts(); return f >= 4 }, 15*time.Second, 10*time.Millisecond, "the child pages and retries")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.Empty(t, pds.Events())
	ents, err := os.ReadDir(filepath.Join(dir, "outbox"))
	require.NoError(t, err)
	require.Len(t, ents, 1, "the trigger waits in the outbox")
	require.NotContains(t, ents[0].Name(), testKey)

	pds.Heal()
	b.broken.Store(false)
	t.Setenv(keyEnv, testKey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, ob := childProber(dir, b.srv.URL+"/health")
	go ob.Run(ctx, pagerduty.New(pds.URL, config.SecretRef{Env: keyEnv}, nil), fast)
	go p.Run(ctx)
	require.True(t, pds.WaitFor(10*time.Second, func(e []pdtest.Event) bool { return len(e) >= 2 }))
	time.Sleep(200 * time.Millisecond)
	var got []string
	for _, e := range pds.Events() {
		got = append(got, e.Action+" "+e.DedupKey)
	}
	require.Equal(t, []string{"trigger gatewatch/probe/shop/health", "resolve gatewatch/probe/shop/health"}, got)
}

func childProber(dir, url string) (*Prober, *pagerduty.Outbox) {
	ob, err := pagerduty.OpenOutbox(filepath.Join(dir, "outbox"), nil, nil)
	if err != nil {
		panic(err)
	}
	p, err := New(Options{Gateway: "shop", Targets: []probe.Target{target("health", url)}, Interval: 20 * time.Millisecond,
		TriggerAfter: 2, ResolveAfter: 2, Severity: "critical", Outbox: ob, StateFile: filepath.Join(dir, "state.json")})
	if err != nil {
		panic(err)
	}
	return p, ob
}

func child(dir string) {
	p, ob := childProber(dir, os.Getenv("GATEWATCH_PROBER_TARGET"))
	ctx := context.Background()
	go ob.Run(ctx, pagerduty.New(os.Getenv("GATEWATCH_PROBER_PD"), config.SecretRef{Env: keyEnv}, nil), fast)
	p.Run(ctx)
}
