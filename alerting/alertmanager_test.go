package alerting

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/internal/amtest"
	"github.com/gatewatch/gatewatch/rules"
)

// pdEvent is the part of a PagerDuty Events API v2 event the test checks.
type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	Payload     struct {
		Summary       string            `json:"summary"`
		Severity      string            `json:"severity"`
		CustomDetails map[string]string `json:"custom_details"`
	} `json:"payload"`
}

// TestAlertmanagerToPagerDuty runs a real Alertmanager 0.25 with the
// generated configuration, its PagerDuty URL pointing at a local Events API
// v2 receiver, and checks that a page of the payments team reaches the
// payments page service with the key read from its file, PagerDuty
// severity critical and the links in the details, and that a ticket of
// another team reaches the shared ticket service.
func TestAlertmanagerToPagerDuty(t *testing.T) {
	amtest.SkipUnlessInstalled(t)
	if testing.Short() {
		t.Skip("starts an Alertmanager; skipped with -short")
	}
	var (
		mu     sync.Mutex
		events []pdEvent
	)
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var e pdEvent
		if err := json.Unmarshal(b, &e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	}))
	t.Cleanup(pd.Close)

	dir := t.TempDir()
	keys := map[string]string{"page": "k-page", "ticket": "k-ticket", "payments-page": "k-payments-page"}
	for name, key := range keys {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(key+"\n"), 0o600))
	}
	cfg := load(t, fmt.Sprintf(`
owners:
  default: platform
  teams:
    - name: payments
      endpoints: [/v1/orders*]
alerting:
  group_wait: 1s
  group_interval: 1s
  pagerduty:
    url: %s/v2/enqueue
    page: {routing_key_file: %s}
    ticket: {routing_key_file: %s}
    teams:
      payments: {page_routing_key_file: %s}
`, pd.URL, filepath.Join(dir, "page"), filepath.Join(dir, "ticket"), filepath.Join(dir, "payments-page")))
	amURL := amtest.Start(t, dir, generate(t, cfg))

	alerts := []map[string]any{
		{"labels": map[string]string{"alertname": rules.AlertAvailabilityBurn, "severity": "page", "team": "payments",
			"gateway": "shop", "endpoint": "/v1/orders/{id}", "method": "GET", "slo": "availability"},
			"annotations": map[string]string{"summary": "GET /v1/orders/{id} is burning its availability error budget 14.4x too fast",
				"runbook_url": "https://runbooks.example.com/a", "dashboard_url": "https://grafana.example.com/d/x"}},
		{"labels": map[string]string{"alertname": rules.AlertDecodeErrors, "severity": "ticket", "team": "platform", "gateway": "shop"},
			"annotations": map[string]string{"summary": "decode errors", "runbook_url": "https://runbooks.example.com/b"}},
	}
	amtest.PostAlerts(t, amURL, alerts...)

	byKey := func() map[string]pdEvent {
		mu.Lock()
		defer mu.Unlock()
		m := map[string]pdEvent{}
		for _, e := range events {
			m[e.RoutingKey] = e
		}
		return m
	}
	require.Eventually(t, func() bool { return len(byKey()) == 2 }, 30*time.Second, 200*time.Millisecond, "events: %v", byKey())
	got := byKey()
	page, ok := got["k-payments-page"]
	require.True(t, ok, "the payments page goes to the payments page service: %v", got)
	require.Equal(t, "trigger", page.EventAction)
	require.Equal(t, "critical", page.Payload.Severity)
	require.Equal(t, "GET /v1/orders/{id} is burning its availability error budget 14.4x too fast", page.Payload.Summary)
	require.Equal(t, "https://runbooks.example.com/a", page.Payload.CustomDetails["runbook"])
	require.Equal(t, "https://grafana.example.com/d/x", page.Payload.CustomDetails["dashboard"])
	require.Equal(t, "GET /v1/orders/{id}", page.Payload.CustomDetails["endpoint"])
	ticket, ok := got["k-ticket"]
	require.True(t, ok, "the platform ticket goes to the shared ticket service: %v", got)
	require.Equal(t, "warning", ticket.Payload.Severity)
	require.NotContains(t, got, "k-page", "nothing pages the shared page service")
}
