package e2e

import (
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

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/internal/promtest"
	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
	"github.com/gatewatch/gatewatch/probe"
)

// buildGatewatch builds the gatewatch binary into dir.
func buildGatewatch(t *testing.T, dir string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; this test builds the gatewatch binary")
	}
	bin := filepath.Join(dir, "gatewatch")
	out, err := exec.Command(gobin, "build", "-o", bin, "../cmd/gatewatch").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return bin
}

// TestProbeBinaryKill9 runs the gatewatch binary's `probe` against a
// gateway that fails while PagerDuty is down (503), kills it with SIGKILL
// while the trigger waits in the outbox, lets the gateway recover and
// PagerDuty come back, starts the binary again, and checks that PagerDuty
// receives the trigger and then the resolve, each once.
func TestProbeBinaryKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatewatch binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildGatewatch(t, dir)
	pd := pdtest.NewServer(map[string]string{pageKey: "page"})
	t.Cleanup(pd.Close)
	pd.Inject(pdtest.Fault{Status: 503, Count: -1})
	var down atomic.Bool
	down.Store(true)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(gateway.Close)
	cfgFile := filepath.Join(dir, "gatewatch.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(fmt.Sprintf(`
gateway: {name: shop}
probe:
  interval: 200ms
  timeout: 100ms
  trigger_after: 2
  resolve_after: 2
  listen: "off"
  outbox_dir: outbox
  base_url: %s
  targets: [{name: health, url: /health}]
  pagerduty:
    url: %s
    routing_key_env: GATEWATCH_TEST_PD_KEY
`, gateway.URL, pd.URL)), 0o644))
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "probe", "-c", cfgFile, "--log.level=warn")
		cmd.Env = append(os.Environ(), "GATEWATCH_TEST_PD_KEY="+pageKey)
		return promtest.StartCmd(t, cmd, filepath.Join(dir, "probe.log"))
	}
	first := start()
	require.Eventually(t, func() bool { _, f := pd.Counts(); return f >= 2 }, 30*time.Second, 20*time.Millisecond, "the prober pages and retries")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	ents, err := os.ReadDir(filepath.Join(dir, "outbox"))
	require.NoError(t, err)
	var waiting []string
	for _, e := range ents {
		require.NotContains(t, e.Name(), pageKey)
		if filepath.Ext(e.Name()) == ".json" && e.Name() != "state.json" {
			waiting = append(waiting, e.Name())
		}
	}
	require.Equal(t, []string{"00000000000000000001.json"}, waiting, "the trigger waits in the outbox")
	require.Empty(t, pd.Events())

	down.Store(false)
	pd.Heal()
	start()
	require.True(t, pd.WaitFor(30*time.Second, func(evs []pdtest.Event) bool { return len(evs) >= 2 }), "events: %s", summaries(pd.Events()))
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
	var got []string
	for _, e := range pd.Events() {
		got = append(got, e.Action+" "+e.DedupKey)
	}
	key := probe.DedupKey("shop", "health")
	require.Equal(t, []string{"trigger " + key, "resolve " + key}, got)
	require.Empty(t, pd.Rejections())
	log, err := os.ReadFile(filepath.Join(dir, "probe.log"))
	require.NoError(t, err)
	require.NotContains(t, string(log), pageKey, "the routing key is in no log line")
}
