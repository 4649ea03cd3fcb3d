// Package pdtest is a strict local stand-in for PagerDuty's Events API v2,
// for tests and demos: it validates every event as PagerDuty does
// (required fields, enums, sizes, known routing keys), records what it
// accepted, keeps the open alerts by dedup key, and can be told to answer
// 5xx or 429 (with Retry-After) to exercise senders' retries.
//
// It serves POST /v2/enqueue (alert events) and POST /v2/change/enqueue
// (change events) below its base URL, so the base URL is what
// go-pagerduty's WithV2EventsAPIEndpoint takes and the full
// URL+"/v2/enqueue" is what Alertmanager's pagerduty_configs url takes.
package pdtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits of the Events API v2 (PagerDuty developer docs, "Send an Alert
// Event" and "Events API v2 Overview").
const (
	MaxBodyBytes    = 512000
	MaxSummaryRunes = 1024
	MaxDedupKeyLen  = 255
	RoutingKeyLen   = 32
)

// Paths served below the base URL.
const (
	AlertPath  = "/v2/enqueue"
	ChangePath = "/v2/change/enqueue"
)

// Event is one accepted event.
type Event struct {
	// Kind is "alert" or "change".
	Kind string
	// Team is the team whose routing key the event carried.
	Team string
	// Action is trigger, acknowledge or resolve (empty for change events).
	Action string
	// DedupKey is the event's dedup key (generated for a trigger without
	// one, as PagerDuty does).
	DedupKey string
	// Summary, Source and Severity come from the payload.
	Summary, Source, Severity string
	// Links are the event's links, href and text.
	Links []Link
	// Details is the payload's custom_details, as decoded JSON.
	Details map[string]any
	// UserAgent is the request's User-Agent header.
	UserAgent string
	// Body is the request body as received.
	Body []byte
	// Received is when the event was accepted.
	Received time.Time
}

// Link is an event's link.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Rejection is a request answered 400, with the errors PagerDuty would give.
type Rejection struct {
	Path   string
	Errors []string
	Body   []byte
}

// Fault is an injected answer: Status (e.g. 503 or 429) with an optional
// Retry-After header value, for the next Count requests (Count < 0: until
// Heal).
type Fault struct {
	Status     int
	RetryAfter string
	Count      int
}

// Receiver is the Events API v2 handler. Its zero value is not usable; use
// NewReceiver.
type Receiver struct {
	mu       sync.Mutex
	teams    map[string]string // routing key -> team
	events   []Event
	rejected []Rejection
	faults   []Fault
	open     map[string]Event // team + "\x00" + dedup key -> trigger
	requests int
	faulted  int
	notify   chan struct{}
}

// NewReceiver returns a receiver that accepts the given routing keys, each
// mapped to its team's name. The map is copied.
func NewReceiver(keys map[string]string) *Receiver {
	r := &Receiver{teams: map[string]string{}, open: map[string]Event{}, notify: make(chan struct{})}
	for k, team := range keys {
		r.teams[k] = team
	}
	return r
}

// Server is a Receiver listening on a loopback port.
type Server struct {
	*Receiver
	srv *httptest.Server
	// URL is the base URL (no path).
	URL string
}

// NewServer starts a Receiver on a free loopback port. Close stops it.
func NewServer(keys map[string]string) *Server {
	r := NewReceiver(keys)
	srv := httptest.NewServer(r)
	return &Server{Receiver: r, srv: srv, URL: srv.URL}
}

// Listen starts a Receiver on addr ("127.0.0.1:9091", or ":0" for any
// port), for a demo whose other programs must know the address in
// advance. Close stops it.
func Listen(addr string, keys map[string]string) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PagerDuty stand-in: %w", err)
	}
	r := NewReceiver(keys)
	srv := httptest.NewUnstartedServer(r)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	return &Server{Receiver: r, srv: srv, URL: srv.URL}, nil
}

// String describes the event in one line: action, team, severity, dedup
// key and summary.
func (e Event) String() string {
	if e.Kind == "change" {
		return fmt.Sprintf("change team=%s %q", e.Team, e.Summary)
	}
	return fmt.Sprintf("%s team=%s severity=%s dedup_key=%s %q", e.Action, e.Team, e.Severity, e.DedupKey, e.Summary)
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Inject queues a fault; faults apply in order to the next requests.
func (r *Receiver) Inject(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

// Heal drops every queued fault.
func (r *Receiver) Heal() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = nil
}

// Events returns a copy of the accepted events, in arrival order.
func (r *Receiver) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Rejections returns a copy of the requests answered 400.
func (r *Receiver) Rejections() []Rejection {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Rejection(nil), r.rejected...)
}

// Open returns the dedup keys of the open alerts of team, sorted.
func (r *Receiver) Open(team string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var keys []string
	for k := range r.open {
		if t, d, _ := strings.Cut(k, "\x00"); t == team {
			keys = append(keys, d)
		}
	}
	sort.Strings(keys)
	return keys
}

// Counts returns how many requests arrived and how many were answered with
// an injected fault.
func (r *Receiver) Counts() (requests, faulted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.faulted
}

// Changed returns a channel closed at the next accepted event or
// rejection, so that tests wait without polling.
func (r *Receiver) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notify
}

// WaitFor waits until cond holds on the accepted events or timeout passes,
// and reports whether it held.
func (r *Receiver) WaitFor(timeout time.Duration, cond func([]Event) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ch := r.Changed()
		if cond(r.Events()) {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond(r.Events())
		}
	}
}

func (r *Receiver) changed() {
	close(r.notify)
	r.notify = make(chan struct{})
}

// ServeHTTP implements the Events API v2.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != AlertPath && req.URL.Path != ChangePath {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "could not read body"})
		return
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if len(r.faults) > 0 {
		f := &r.faults[0]
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				r.faults = r.faults[1:]
			}
		}
		r.faulted++
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, f.Status, map[string]any{"status": http.StatusText(f.Status), "message": "injected fault"})
		return
	}

	var ev Event
	var errs []string
	if len(body) > MaxBodyBytes {
		errs = []string{fmt.Sprintf("event is larger than %d bytes", MaxBodyBytes)}
	} else if req.URL.Path == AlertPath {
		ev, errs = r.alert(body)
	} else {
		ev, errs = r.change(body)
	}
	if len(errs) > 0 {
		r.rejected = append(r.rejected, Rejection{Path: req.URL.Path, Errors: errs, Body: body})
		r.changed()
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
		return
	}
	ev.UserAgent = req.UserAgent()
	ev.Body = body
	ev.Received = time.Now()
	r.events = append(r.events, ev)
	r.changed()
	if ev.Kind == "change" {
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Change event processed"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

type alertBody struct {
	RoutingKey  *string           `json:"routing_key"`
	EventAction *string           `json:"event_action"`
	DedupKey    *string           `json:"dedup_key"`
	Payload     *json.RawMessage  `json:"payload"`
	Images      []json.RawMessage `json:"images"`
	Links       []json.RawMessage `json:"links"`
	Client      *string           `json:"client"`
	ClientURL   *string           `json:"client_url"`
}

type alertPayload struct {
	Summary       *string        `json:"summary"`
	Source        *string        `json:"source"`
	Severity      *string        `json:"severity"`
	Timestamp     *string        `json:"timestamp"`
	Component     *string        `json:"component"`
	Group         *string        `json:"group"`
	Class         *string        `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

type changeBody struct {
	RoutingKey *string           `json:"routing_key"`
	Payload    *json.RawMessage  `json:"payload"`
	Links      []json.RawMessage `json:"links"`
}

type changePayload struct {
	Summary       *string        `json:"summary"`
	Source        *string        `json:"source"`
	Timestamp     *string        `json:"timestamp"`
	CustomDetails map[string]any `json:"custom_details"`
}

// strict decodes b into v, refusing unknown fields and fields whose case
// differs from the API's (encoding/json alone matches names in any case).
func strict(b []byte, v any) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	known := jsonNames(reflect.TypeOf(v).Elem())
	for k := range keys {
		if !known[k] {
			return fmt.Errorf("json: unknown field %q", k)
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the event object")
	}
	return nil
}

var (
	actions    = map[string]bool{"trigger": true, "acknowledge": true, "resolve": true}
	severities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}
)

// alert validates an alert event; r.mu is held.
func (r *Receiver) alert(b []byte) (Event, []string) {
	var ab alertBody
	if err := strict(b, &ab); err != nil {
		return Event{}, []string{"invalid JSON: " + err.Error()}
	}
	ev := Event{Kind: "alert"}
	var errs []string
	team, kerr := r.routingKey(ab.RoutingKey, true)
	if kerr != "" {
		errs = append(errs, kerr)
	}
	ev.Team = team
	switch {
	case ab.EventAction == nil:
		errs = append(errs, "'event_action' is missing or blank")
	case !actions[*ab.EventAction]:
		errs = append(errs, fmt.Sprintf("'event_action' %q is not one of trigger, acknowledge, resolve", *ab.EventAction))
	default:
		ev.Action = *ab.EventAction
	}
	if ab.DedupKey != nil {
		ev.DedupKey = *ab.DedupKey
		if len(ev.DedupKey) > MaxDedupKeyLen {
			errs = append(errs, fmt.Sprintf("'dedup_key' is longer than %d characters", MaxDedupKeyLen))
		}
	}
	if ev.Action != "" && ev.Action != "trigger" && ev.DedupKey == "" {
		errs = append(errs, "'dedup_key' is required for "+ev.Action)
	}
	for _, s := range []*string{ab.Client, ab.ClientURL} {
		if s != nil && !utf8.ValidString(*s) {
			errs = append(errs, "client fields must be valid UTF-8")
		}
	}
	links, lerrs := decodeLinks(ab.Links)
	ev.Links = links
	errs = append(errs, lerrs...)
	for i, raw := range ab.Images {
		var img struct {
			Src  *string `json:"src"`
			Href string  `json:"href"`
			Alt  string  `json:"alt"`
		}
		if err := strict(raw, &img); err != nil {
			errs = append(errs, fmt.Sprintf("'images[%d]': %v", i, err))
		} else if img.Src == nil || !strings.HasPrefix(*img.Src, "https://") {
			errs = append(errs, fmt.Sprintf("'images[%d].src' is required and must be an https URL", i))
		}
	}
	switch {
	case ab.Payload != nil:
		var p alertPayload
		if err := strict(*ab.Payload, &p); err != nil {
			errs = append(errs, "'payload': "+err.Error())
			break
		}
		if ev.Action != "trigger" {
			break // PagerDuty ignores the payload of acknowledge and resolve
		}
		errs = append(errs, checkSummary(p.Summary)...)
		if p.Source == nil || strings.TrimSpace(*p.Source) == "" {
			errs = append(errs, "'payload.source' is missing or blank")
		} else {
			ev.Source = *p.Source
		}
		switch {
		case p.Severity == nil:
			errs = append(errs, "'payload.severity' is missing or blank")
		case !severities[*p.Severity]:
			errs = append(errs, fmt.Sprintf("'payload.severity' %q is not one of critical, error, warning, info", *p.Severity))
		default:
			ev.Severity = *p.Severity
		}
		errs = append(errs, checkTimestamp(p.Timestamp)...)
		if p.Summary != nil {
			ev.Summary = *p.Summary
		}
		ev.Details = p.CustomDetails
	case ev.Action == "trigger":
		errs = append(errs, "'payload' is missing")
	}
	if len(errs) > 0 {
		return Event{}, errs
	}
	if ev.Action == "trigger" && ev.DedupKey == "" {
		var id [16]byte
		_, _ = rand.Read(id[:])
		ev.DedupKey = hex.EncodeToString(id[:])
	}
	key := ev.Team + "\x00" + ev.DedupKey
	switch ev.Action {
	case "trigger":
		if _, ok := r.open[key]; !ok {
			r.open[key] = ev
		}
	case "resolve":
		delete(r.open, key) // a resolve of no open alert is dropped, not refused
	}
	return ev, nil
}

// change validates a change event; r.mu is held.
func (r *Receiver) change(b []byte) (Event, []string) {
	var cb changeBody
	if err := strict(b, &cb); err != nil {
		return Event{}, []string{"invalid JSON: " + err.Error()}
	}
	ev := Event{Kind: "change"}
	var errs []string
	team, kerr := r.routingKey(cb.RoutingKey, false)
	if kerr != "" {
		errs = append(errs, kerr)
	}
	ev.Team = team
	links, lerrs := decodeLinks(cb.Links)
	ev.Links = links
	errs = append(errs, lerrs...)
	if cb.Payload == nil {
		errs = append(errs, "'payload' is missing")
	} else {
		var p changePayload
		if err := strict(*cb.Payload, &p); err != nil {
			errs = append(errs, "'payload': "+err.Error())
		} else {
			errs = append(errs, checkSummary(p.Summary)...)
			errs = append(errs, checkTimestamp(p.Timestamp)...)
			if p.Summary != nil {
				ev.Summary = *p.Summary
			}
			if p.Source != nil {
				ev.Source = *p.Source
			}
			ev.Details = p.CustomDetails
		}
	}
	if len(errs) > 0 {
		return Event{}, errs
	}
	return ev, nil
}

// routingKey checks a routing key and returns its team. Ruleset keys
// (starting with R) are refused for change events, as PagerDuty does.
func (r *Receiver) routingKey(k *string, rulesetOK bool) (string, string) {
	switch {
	case k == nil || *k == "":
		return "", "'routing_key' is missing or blank"
	case len(*k) != RoutingKeyLen:
		return "", fmt.Sprintf("'routing_key' must be %d characters", RoutingKeyLen)
	case !rulesetOK && strings.HasPrefix(*k, "R"):
		return "", "'routing_key' of a ruleset cannot receive change events"
	}
	team, ok := r.teams[*k]
	if !ok {
		return "", "'routing_key' is not the key of any integration" // no key echoed
	}
	return team, ""
}

func checkSummary(s *string) []string {
	switch {
	case s == nil || strings.TrimSpace(*s) == "":
		return []string{"'payload.summary' is missing or blank"}
	case !utf8.ValidString(*s):
		return []string{"'payload.summary' is not valid UTF-8"}
	case utf8.RuneCountInString(*s) > MaxSummaryRunes:
		return []string{fmt.Sprintf("'payload.summary' is longer than %d characters", MaxSummaryRunes)}
	}
	return nil
}

// timestampLayouts are the ISO 8601 forms PagerDuty documents and senders
// use.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"}

func checkTimestamp(s *string) []string {
	if s == nil {
		return nil
	}
	for _, l := range timestampLayouts {
		if _, err := time.Parse(l, *s); err == nil {
			return nil
		}
	}
	return []string{fmt.Sprintf("'payload.timestamp' %q is not an ISO 8601 time", *s)}
}

func decodeLinks(raws []json.RawMessage) ([]Link, []string) {
	var links []Link
	var errs []string
	for i, raw := range raws {
		var l struct {
			Href *string `json:"href"`
			Text string  `json:"text"`
		}
		if err := strict(raw, &l); err != nil {
			errs = append(errs, fmt.Sprintf("'links[%d]': %v", i, err))
			continue
		}
		if l.Href == nil || *l.Href == "" {
			errs = append(errs, fmt.Sprintf("'links[%d].href' is missing or blank", i))
			continue
		}
		links = append(links, Link{Href: *l.Href, Text: l.Text})
	}
	return links, errs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonNames returns the JSON field names of struct type t.
func jsonNames(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" {
			name = t.Field(i).Name
		}
		m[name] = true
	}
	return m
}
