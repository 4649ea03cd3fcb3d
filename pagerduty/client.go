// Package pagerduty sends events to PagerDuty's Events API v2 through
// github.com/PagerDuty/go-pagerduty: alert events (trigger, resolve) for
// the prober and change events for CI/CD pipelines.
//
// go-pagerduty builds and sends the requests but neither retries nor keeps
// the Events API's error body or Retry-After header; an HTTPClient wrapper
// here keeps both, a Retrier decides what to retry and how long to wait,
// and an Outbox on disk makes sure that no event is lost across a PagerDuty
// outage or a restart of the sender.
//
// The routing key is read from its file or environment variable at each
// send, is never stored in the outbox, and never appears in errors.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/gatewatch/gatewatch/config"
)

// Limits of the Events API v2 (PagerDuty developer docs, "Send an Alert
// Event").
const (
	MaxSummaryRunes = 1024
	MaxEventBytes   = 512000
	MaxDedupKeyLen  = 255
)

// Event kinds.
const (
	KindAlert  = "alert"
	KindChange = "change"
)

// Event is one event to send: an alert event or a change event. It is
// what the outbox stores, so its routing key fields stay empty; Client
// fills them in at send time.
type Event struct {
	Kind   string          `json:"kind"`
	Alert  *pd.V2Event     `json:"alert,omitempty"`
	Change *pd.ChangeEvent `json:"change,omitempty"`
}

// DedupKey returns the alert event's dedup key ("" for change events).
func (e *Event) DedupKey() string {
	if e.Alert != nil {
		return e.Alert.DedupKey
	}
	return ""
}

// Fit truncates the summary to the API's 1,024 characters and, when the
// event would exceed 512,000 bytes, replaces its custom details with a
// note saying so, as Alertmanager does.
func (e *Event) Fit() {
	var summary *string
	switch {
	case e.Alert != nil && e.Alert.Payload != nil:
		summary = &e.Alert.Payload.Summary
	case e.Change != nil:
		summary = &e.Change.Payload.Summary
	}
	if summary != nil && utf8.RuneCountInString(*summary) > MaxSummaryRunes {
		r := []rune(*summary)
		*summary = string(r[:MaxSummaryRunes-1]) + "…"
	}
	b, err := json.Marshal(e)
	if err != nil || len(b) <= MaxEventBytes-200 { // room for the routing key and envelope
		return
	}
	note := map[string]any{"error": "custom details removed: the event exceeded PagerDuty's 512,000-byte limit"}
	switch {
	case e.Alert != nil && e.Alert.Payload != nil:
		e.Alert.Payload.Details = note
	case e.Change != nil:
		e.Change.Payload.CustomDetails = note
	}
}

// Client sends events to one Events API v2 base URL with one routing key.
type Client struct {
	pd  *pd.Client
	key config.SecretRef
}

// New returns a client for baseURL (https://events.pagerduty.com, or
// https://events.eu.pagerduty.com) whose routing key is read from key at
// each send. httpClient nil means a client with a 30 s timeout.
func New(baseURL string, key config.SecretRef, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := pd.NewClient("", pd.WithV2EventsAPIEndpoint(strings.TrimSuffix(baseURL, "/")))
	c.HTTPClient = &HTTPClient{Client: httpClient}
	return &Client{pd: c, key: key}
}

// Send sends ev once. A failure is a *SendError.
func (c *Client) Send(ctx context.Context, ev *Event) error {
	key, err := c.key.Read()
	if err != nil {
		return &SendError{Err: fmt.Errorf("reading the routing key: %w", err)}
	}
	if key.Reveal() == "" {
		return &SendError{Err: errors.New("the routing key is empty")}
	}
	var ans Answer
	ctx = context.WithValue(ctx, answerKey{}, &ans)
	switch ev.Kind {
	case KindAlert:
		if ev.Alert == nil {
			return &SendError{Err: fmt.Errorf("%w: alert event without its body", errInvalid)}
		}
		e := *ev.Alert
		e.RoutingKey = key.Reveal()
		_, err = c.pd.ManageEventWithContext(ctx, &e)
	case KindChange:
		if ev.Change == nil {
			return &SendError{Err: fmt.Errorf("%w: change event without its body", errInvalid)}
		}
		e := *ev.Change
		e.RoutingKey = key.Reveal()
		_, err = c.pd.CreateChangeEventWithContext(ctx, e)
	default:
		return &SendError{Err: fmt.Errorf("%w: unknown event kind %q", errInvalid, ev.Kind)}
	}
	if err == nil { // go-pagerduty takes any 2xx; PagerDuty answers 202
		return nil
	}
	se := &SendError{Answer: ans}
	if ans.Status == 0 {
		se.Err = errors.New(redact(err.Error(), key.Reveal()))
	}
	return se
}

// Answer is what the Events API said: the status, the body's status,
// message and errors, and the Retry-After header.
type Answer struct {
	Status     int
	APIStatus  string
	Message    string
	Errors     []string
	RetryAfter time.Duration
	// HasRetryAfter is true when the header was present and valid.
	HasRetryAfter bool
}

// SendError is a failed send: an answer other than 202, or no answer.
type SendError struct {
	Answer
	// Err is the transport error or a local failure (no answer).
	Err error
}

func (e *SendError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("sending to PagerDuty: %v", e.Err)
	}
	msg := fmt.Sprintf("PagerDuty answered %d", e.Status)
	if e.APIStatus != "" || e.Message != "" {
		msg += fmt.Sprintf(" (%s: %s)", e.APIStatus, e.Message)
	}
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	if e.HasRetryAfter {
		msg += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return msg
}

func (e *SendError) Unwrap() error { return e.Err }

type answerKey struct{}

// HTTPClient is the go-pagerduty HTTPClient that keeps what the library
// throws away: the Events API's status, message and errors, and the
// Retry-After header, recorded into the Answer the request's context
// carries.
type HTTPClient struct {
	Client *http.Client
}

// Do sends req and records its answer.
func (h *HTTPClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := h.Client.Do(req)
	ans, _ := req.Context().Value(answerKey{}).(*Answer)
	if err != nil || ans == nil {
		return resp, err
	}
	ans.Status = resp.StatusCode
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var v struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(body, &v) == nil {
		ans.APIStatus, ans.Message, ans.Errors = v.Status, v.Message, v.Errors
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		ans.RetryAfter, ans.HasRetryAfter = d, true
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After value: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// redact removes the routing key from a message (an error that quotes a
// request, say).
func redact(msg, key string) string {
	if key == "" {
		return msg
	}
	return strings.ReplaceAll(msg, key, "<secret>")
}
