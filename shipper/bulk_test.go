package shipper

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/shipper/estest"
)

func testClient(t *testing.T, srv *estest.Server, timeout time.Duration) (*Client, *metrics) {
	t.Helper()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}, DisableRetry: true})
	require.NoError(t, err)
	m := newMetrics(prometheus.NewRegistry())
	c := newClient(ClientOptions{
		ES: es, Backoff: Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
		Timeout: timeout, DLQIndex: "logs-gateway-dlq",
	}, m)
	return c, m
}

func putTemplate(t *testing.T, srv *estest.Server, name string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	require.NoError(t, err)
	res, err := es.Indices.PutIndexTemplate(name, bytesReader(b))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode, res.String())
}

func doc(status any) []byte {
	b, _ := json.Marshal(map[string]any{
		"@timestamp": "2026-11-22T10:00:00Z", "message": fmt.Sprintf("status=%v", status),
		"http": map[string]any{"response": map[string]any{"status_code": status}},
	})
	return b
}

func TestSendSettlesEveryItem(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	putTemplate(t, srv, "t", map[string]any{
		"index_patterns": []string{"logs-gateway-*"}, "priority": 200,
		"template": map[string]any{"mappings": map[string]any{"properties": map[string]any{
			"http": map[string]any{"properties": map[string]any{"response": map[string]any{"properties": map[string]any{"status_code": map[string]any{"type": "long"}}}}},
		}}},
	})
	c, m := testClient(t, srv, 5*time.Second)

	var b Batch
	b.Add("logs-gateway-2026.11.22", "a-1", doc(200))
	require.NoError(t, c.Send(context.Background(), &b))
	require.Equal(t, ResultStored, b.Outcome(0).Result)

	b.Reset()
	b.Add("logs-gateway-2026.11.22", "a-1", doc(200))    // replay
	b.Add("logs-gateway-2026.11.22", "a-2", doc("oops")) // mapping error
	b.Add("logs-gateway-2026.11.22", "a-3", doc(404))
	require.NoError(t, c.Send(context.Background(), &b))
	require.Equal(t, ResultDuplicate, b.Outcome(0).Result)
	o := b.Outcome(1)
	require.Equal(t, ResultDeadLetter, o.Result)
	require.Equal(t, 400, o.Status)
	require.Equal(t, "document_parsing_exception", o.Type)
	require.Equal(t, ResultStored, b.Outcome(2).Result)

	require.Equal(t, map[string]int{"a-1": 1, "a-3": 1}, srv.IDs("logs-gateway-2026.11.22"))
	dl := srv.Docs("logs-gateway-dlq")
	require.Len(t, dl, 1)
	require.Equal(t, "a-2", dl[0].ID)
	var d map[string]any
	require.NoError(t, json.Unmarshal(dl[0].Source, &d))
	require.Equal(t, `status=oops`, d["message"])
	require.Equal(t, "document_parsing_exception", d["error"].(map[string]any)["type"])
	require.Equal(t, "logs-gateway-2026.11.22", d["gatewatch"].(map[string]any)["target_index"])

	require.Equal(t, 2.0, testutil.ToFloat64(m.docs.WithLabelValues(ResultStored)))
	require.Equal(t, 1.0, testutil.ToFloat64(m.docs.WithLabelValues(ResultDuplicate)))
	require.Equal(t, 1.0, testutil.ToFloat64(m.docs.WithLabelValues(ResultDeadLetter)))
}

func TestSendFaults(t *testing.T) {
	cases := []struct {
		name    string
		faults  estest.Faults
		timeout time.Duration
		reason  string // a request error reason the metrics must show
	}{
		{"item 429 and 500", estest.Faults{Item429: 0.3, Item500: 0.2}, 5 * time.Second, ""},
		{"whole request 429", estest.Faults{RequestStatus: 429, RequestCount: 3}, 5 * time.Second, ReasonStatus429},
		{"whole request 503", estest.Faults{RequestStatus: 503, RequestCount: 2}, 5 * time.Second, ReasonStatus5xx},
		{"413 splits the batch", estest.Faults{RequestStatus: 413, RequestCount: 2}, 5 * time.Second, ReasonTooLarge},
		{"connection reset before storing", estest.Faults{ResetCount: 2}, 5 * time.Second, ReasonNetwork},
		{"connection reset after storing", estest.Faults{ResetCount: 1, AfterStore: true}, 5 * time.Second, ReasonNetwork},
		{"timeout after storing", estest.Faults{HangCount: 1, AfterStore: true}, 300 * time.Millisecond, ReasonTimeout},
		{"slow answers", estest.Faults{Delay: 20 * time.Millisecond}, 5 * time.Second, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := estest.New()
			defer srv.Close()
			c, m := testClient(t, srv, tc.timeout)
			srv.SetFaults(tc.faults)
			var b Batch
			want := map[string]int{}
			for i := range 200 {
				id := fmt.Sprintf("f-%d", i)
				b.Add("logs-gateway-2026.11.22", id, doc(200))
				want[id] = 1
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, c.Send(ctx, &b))
			for i := range b.Len() {
				r := b.Outcome(i).Result
				require.Contains(t, []string{ResultStored, ResultDuplicate}, r, "item %d", i)
			}
			require.Equal(t, want, srv.IDs("logs-gateway-*"), "every document exactly once")
			require.Greater(t, srv.Stats().Injected, 0, "the fault was injected")
			if tc.reason != "" {
				require.Positive(t, testutil.ToFloat64(m.errors.WithLabelValues(tc.reason)))
			}
		})
	}
}

func TestSendDropsWhenDeadLetterFails(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	c, m := testClient(t, srv, 5*time.Second)
	srv.SetFaults(estest.Faults{Item400: 1})
	var b Batch
	b.Add("logs-gateway-2026.11.22", "d-1", doc(200))
	require.NoError(t, c.Send(context.Background(), &b))
	require.Equal(t, ResultDropped, b.Outcome(0).Result)
	require.Equal(t, 1.0, testutil.ToFloat64(m.docs.WithLabelValues(ResultDropped)))
	require.Zero(t, srv.Count("*"))
}

func TestSendStopsWithContext(t *testing.T) {
	srv := estest.New()
	defer srv.Close()
	c, _ := testClient(t, srv, time.Second)
	srv.SetFaults(estest.Faults{RequestStatus: 503, RequestCount: -1})
	var b Batch
	b.Add("logs-gateway-2026.11.22", "s-1", doc(200))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.Send(ctx, &b), context.DeadlineExceeded)
	require.Equal(t, "", b.Outcome(0).Result, "an unsettled item is not acknowledged")
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	for attempt, hi := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		hi *= time.Millisecond
		for range 20 {
			d := b.Delay(attempt)
			require.GreaterOrEqual(t, d, hi/2, "attempt %d", attempt)
			require.LessOrEqual(t, d, hi, "attempt %d", attempt)
		}
	}
}

// FuzzBulkResponse feeds arbitrary answers to the response handling: it
// must never panic, and a body that does not account for every item must
// be a request error (retried), never a silent success.
func FuzzBulkResponse(f *testing.F) {
	for _, s := range []string{
		`{"took":1,"errors":false,"items":[{"create":{"status":201}}]}`,
		`{"errors":true,"items":[{"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}}]}`,
		`{"errors":true,"items":[]}`,
		`{"error":{"type":"x","reason":"y"},"status":400}`,
		`not json`, ``, `{"errors": false`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		_ = errorReason([]byte(body))
		if noErrors([]byte(body)) {
			return // trusted like Elasticsearch's own flag, only after a 200
		}
		var br bulkResponse
		if json.Unmarshal([]byte(body), &br) == nil && len(br.Items) == 1 {
			for _, v := range br.Items[0] {
				_ = v.Status
			}
		}
	})
}

func FuzzDateLayout(f *testing.F) {
	for _, s := range []string{"yyyy.MM.dd", "yyyy-MM-dd_HH", "", "y", "MMyyyy"} {
		f.Add(s)
	}
	at := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, p string) {
		l, err := DateLayout(p)
		if err != nil {
			return
		}
		name := at.Format(l)
		require.Len(t, name, len(p), "every token is as long as its value")
	})
}
