package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
	"github.com/gatewatch/gatewatch/schema"
)

const (
	testKey  = "0123456789abcdef0123456789abcdef"
	otherKey = "fedcba9876543210fedcba9876543210"
	keyEnv   = "GATEWATCH_TEST_PD_KEY"
)

var fast = Retrier{Min: 5 * time.Millisecond, Max: 40 * time.Millisecond, MaxRetryAfter: 2 * time.Second}

func keyFile(t *testing.T, key string) config.SecretRef {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(p, []byte(key+"\n"), 0o600))
	return config.SecretRef{File: p}
}

func trigger(dedup, summary string) *Event {
	return &Event{Kind: KindAlert, Alert: &pd.V2Event{Action: "trigger", DedupKey: dedup,
		Payload: &pd.V2Payload{Summary: summary, Source: "test", Severity: "critical"}}}
}

func resolve(dedup string) *Event {
	return &Event{Kind: KindAlert, Alert: &pd.V2Event{Action: "resolve", DedupKey: dedup}}
}

// TestRetryDecision checks the policy for every HTTP status: 429, 408 and
// 5xx are retried, everything else is not (PagerDuty: never retry 400).
func TestRetryDecision(t *testing.T) {
	for s := 100; s < 600; s++ {
		want := s == 429 || s == 408 || s >= 500
		require.Equal(t, want, fast.Retry(&SendError{Answer: Answer{Status: s}}), "status %d", s)
	}
	require.True(t, fast.Retry(&SendError{Err: errors.New("connection refused")}), "network errors are retried")
	require.False(t, fast.Retry(&SendError{Err: fmt.Errorf("%w: x", errInvalid)}))
	require.False(t, fast.Retry(errors.New("not a send error")))
}

func TestDelay(t *testing.T) {
	r := Retrier{Min: time.Second, Max: 10 * time.Second, MaxRetryAfter: time.Minute}
	var got []time.Duration
	for i := 0; i < 6; i++ {
		got = append(got, r.Delay(i, &SendError{Answer: Answer{Status: 503}}))
	}
	require.Equal(t, []time.Duration{1e9, 2e9, 4e9, 8e9, 10e9, 10e9}, got)
	require.Equal(t, 7*time.Second, r.Delay(0, &SendError{Answer: Answer{Status: 429, RetryAfter: 7 * time.Second, HasRetryAfter: true}}))
	require.Equal(t, time.Minute, r.Delay(0, &SendError{Answer: Answer{Status: 429, RetryAfter: time.Hour, HasRetryAfter: true}}))
	d, ok := parseRetryAfter("Fri, 04 Dec 2026 20:00:30 GMT", time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC))
	require.True(t, ok)
	require.Equal(t, 30*time.Second, d)
	_, ok = parseRetryAfter("soon", time.Now())
	require.False(t, ok)
}

// TestSend checks what the wrapper keeps of each answer, and that the
// routing key is in none of the errors.
func TestSend(t *testing.T) {
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	c := New(s.URL, keyFile(t, testKey), nil)
	ctx := context.Background()

	require.NoError(t, c.Send(ctx, trigger("k1", "down")))
	ev := s.Events()
	require.Len(t, ev, 1)
	require.Equal(t, "platform", ev[0].Team)
	require.Contains(t, ev[0].UserAgent, "go-pagerduty")

	s.Inject(pdtest.Fault{Status: 429, RetryAfter: "3", Count: 1})
	err := c.Send(ctx, trigger("k1", "down"))
	var se *SendError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 429, se.Status)
	require.True(t, se.HasRetryAfter)
	require.Equal(t, 3*time.Second, se.RetryAfter)
	require.True(t, fast.Retry(err))

	err = c.Send(ctx, &Event{Kind: KindAlert, Alert: &pd.V2Event{Action: "trigger", Payload: &pd.V2Payload{Summary: "s", Source: "x", Severity: "page"}}})
	require.ErrorAs(t, err, &se)
	require.Equal(t, 400, se.Status)
	require.Contains(t, err.Error(), `'payload.severity' "page"`, "the Events API's errors are kept")
	require.False(t, fast.Retry(err))

	wrong := New(s.URL, keyFile(t, otherKey), nil)
	err = wrong.Send(ctx, trigger("k", "x"))
	require.ErrorContains(t, err, "not the key of any integration")
	require.NotContains(t, err.Error(), otherKey)

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	err = New(dead.URL, keyFile(t, testKey), nil).Send(ctx, trigger("k", "x"))
	require.ErrorAs(t, err, &se)
	require.Equal(t, 0, se.Status)
	require.True(t, fast.Retry(err), "a network error is retried: %v", err)
	require.NotContains(t, err.Error(), testKey)

	err = New(s.URL, config.SecretRef{Env: "GATEWATCH_TEST_UNSET_VARIABLE"}, nil).Send(ctx, trigger("k", "x"))
	require.ErrorContains(t, err, "GATEWATCH_TEST_UNSET_VARIABLE is not set")
}

func TestChangeEvent(t *testing.T) {
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	c := New(s.URL, keyFile(t, testKey), nil)
	ev := ChangeEvent(Change{Summary: strings.Repeat("contract 3f2a deployed to canary ", 100), Source: "ci",
		Links: []Link{{Href: "https://git.example.com/commit/3f2a", Text: "commit"}}, Details: map[string]any{"hash": "3f2a"}})
	require.NoError(t, Deliver(context.Background(), c, fast, ev, nil, nil))
	got := s.Events()
	require.Len(t, got, 1)
	require.Equal(t, "change", got[0].Kind)
	require.Equal(t, 1024, len([]rune(got[0].Summary)), "summary truncated to the API's limit")
	require.Equal(t, "commit", got[0].Links[0].Text)
}

func TestFitLargeDetails(t *testing.T) {
	ev := trigger("k", "s")
	ev.Alert.Payload.Details = map[string]any{"log": strings.Repeat("x", MaxEventBytes)}
	ev.Fit()
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	require.NoError(t, New(s.URL, keyFile(t, testKey), nil).Send(context.Background(), ev))
	require.Contains(t, s.Events()[0].Details["error"], "512,000-byte limit")
}

func events(n int) []*Event {
	var evs []*Event
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("check-%d", i%3)
		if i%2 == 0 {
			evs = append(evs, trigger(k, fmt.Sprintf("event %d", i)))
		} else {
			evs = append(evs, resolve(k))
		}
	}
	return evs
}

// order returns "action dedup_key" of each event, to compare sequences.
func order(evs []pdtest.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Action+" "+e.DedupKey+" "+e.Summary)
	}
	return out
}

func want(evs []*Event) []string {
	var out []string
	for _, e := range evs {
		s := ""
		if e.Alert.Payload != nil && e.Alert.Action == "trigger" {
			s = e.Alert.Payload.Summary
		}
		out = append(out, e.Alert.Action+" "+e.Alert.DedupKey+" "+s)
	}
	return out
}

// TestOutboxOutage sends events through an outage — 503s, then 429s with
// Retry-After — and checks that all arrive once, in order, and that the
// outbox is empty and its files never held the routing key.
func TestOutboxOutage(t *testing.T) {
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	s.Inject(pdtest.Fault{Status: 503, Count: 4})
	s.Inject(pdtest.Fault{Status: 429, RetryAfter: "1", Count: 2})
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	o, err := OpenOutbox(dir, NewMetrics(reg, "shop"), nil)
	require.NoError(t, err)
	evs := events(12)
	for _, ev := range evs[:6] {
		require.NoError(t, o.Enqueue(ev))
	}
	for _, e := range mustReadDir(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, e))
		require.NoError(t, err)
		require.NotContains(t, string(b), testKey)
		require.NotContains(t, e, testKey)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	done := make(chan struct{})
	go func() { o.Run(ctx, New(s.URL, keyFile(t, testKey), nil), fast); close(done) }()
	for _, ev := range evs[6:] {
		require.NoError(t, o.Enqueue(ev))
	}
	require.True(t, s.WaitFor(20*time.Second, func(e []pdtest.Event) bool { return len(e) >= len(evs) }), "delivered %d of %d", len(s.Events()), len(evs))
	require.GreaterOrEqual(t, time.Since(start), 2*time.Second, "two Retry-After: 1 were honoured")
	require.Equal(t, want(evs), order(s.Events()))
	requests, faulted := s.Counts()
	require.Equal(t, 6, faulted)
	require.Equal(t, len(evs)+6, requests)
	require.Eventually(t, func() bool { return o.Len() == 0 }, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	ev, ob := schema.PagerDutyEvents, schema.PagerDutyOutbox
	exp := fmt.Sprintf(`# HELP %[1]s %[2]s
# TYPE %[1]s counter
%[1]s{gateway="shop",result="accepted"} 12
%[1]s{gateway="shop",result="rejected"} 0
%[1]s{gateway="shop",result="retried"} 6
# HELP %[3]s %[4]s
# TYPE %[3]s gauge
%[3]s{gateway="shop"} 0
`, ev.Name, ev.Help, ob.Name, ob.Help)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(exp)))
	lint, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, lint)
}

// TestOutboxRejected checks that a 400 is counted and dropped, not
// retried, and that the events behind it still leave.
func TestOutboxRejected(t *testing.T) {
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	reg := prometheus.NewPedanticRegistry()
	o, err := OpenOutbox(t.TempDir(), NewMetrics(reg, "shop"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	bad := trigger("k", "s")
	bad.Alert.Payload.Severity = "page"
	require.NoError(t, o.Enqueue(bad))
	require.NoError(t, o.Enqueue(trigger("k", "good")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx, New(s.URL, keyFile(t, testKey), nil), fast)
	require.True(t, s.WaitFor(10*time.Second, func(e []pdtest.Event) bool { return len(e) == 1 }))
	require.Len(t, s.Rejections(), 1, "the 400 was sent once")
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(o.metrics.events.WithLabelValues("rejected")) == 1 && o.Len() == 0
	}, 5*time.Second, 10*time.Millisecond)
}

// TestOutboxResume checks that a new Outbox on the same folder sends what
// an earlier one stored, and numbers new events after them.
func TestOutboxResume(t *testing.T) {
	dir := t.TempDir()
	o, err := OpenOutbox(dir, nil, nil)
	require.NoError(t, err)
	evs := events(4)
	for _, ev := range evs[:3] {
		require.NoError(t, o.Enqueue(ev))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000009.tmp"), []byte("{"), 0o600))
	o2, err := OpenOutbox(dir, nil, nil)
	require.NoError(t, err)
	require.NoError(t, o2.Enqueue(evs[3]))
	require.Equal(t, []string{"00000000000000000001.json", "00000000000000000002.json", "00000000000000000003.json", "00000000000000000004.json"}, mustReadDir(t, dir))
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o2.Run(ctx, New(s.URL, keyFile(t, testKey), nil), fast)
	require.True(t, s.WaitFor(10*time.Second, func(e []pdtest.Event) bool { return len(e) == 4 }))
	require.Equal(t, want(evs), order(s.Events()))
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestOutboxKill9 runs a sender in a child process (this test binary,
// re-executed) that stores events and keeps retrying them against a
// PagerDuty that answers 503, kills it with SIGKILL, and checks that a new
// sender on the same folder delivers every event exactly once, in order.
func TestOutboxKill9(t *testing.T) {
	if os.Getenv("GATEWATCH_OUTBOX_CHILD") != "" {
		outboxChild()
		return
	}
	s := pdtest.NewServer(map[string]string{testKey: "platform"})
	defer s.Close()
	s.Inject(pdtest.Fault{Status: 503, Count: -1})
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxKill9$")
	cmd.Env = append(os.Environ(), "GATEWATCH_OUTBOX_CHILD="+dir, "GATEWATCH_OUTBOX_URL="+s.URL, keyEnv+"="+testKey)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 5)
	_, err = io.ReadFull(out, buf) // "ready" once every event is stored
	require.NoError(t, err)
	require.Equal(t, "ready", string(buf))
	require.Eventually(t, func() bool { _, f := s.Counts(); return f >= 3 }, 10*time.Second, 5*time.Millisecond, "the child retries")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	require.Empty(t, s.Events())

	s.Heal()
	o, err := OpenOutbox(dir, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv(keyEnv, testKey)
	go o.Run(ctx, New(s.URL, config.SecretRef{Env: keyEnv}, nil), fast)
	evs := events(9)
	require.True(t, s.WaitFor(10*time.Second, func(e []pdtest.Event) bool { return len(e) >= len(evs) }))
	time.Sleep(100 * time.Millisecond) // a duplicate would arrive now
	require.Equal(t, want(evs), order(s.Events()))
}

func outboxChild() {
	o, err := OpenOutbox(os.Getenv("GATEWATCH_OUTBOX_CHILD"), nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	for _, ev := range events(9) {
		if err := o.Enqueue(ev); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	fmt.Print("ready")
	o.Run(context.Background(), New(os.Getenv("GATEWATCH_OUTBOX_URL"), config.SecretRef{Env: keyEnv}, nil), fast)
}
