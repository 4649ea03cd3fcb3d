package live

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// page is an Events API v2 event the PagerDuty stand-in accepted.
type page struct {
	At       time.Time
	Service  string // the service whose routing key it carried
	Action   string
	DedupKey string
	Summary  string
	Severity string
}

// pdReceiver is the demo's stand-in for PagerDuty's Events API v2
// (POST /v2/enqueue): it checks each event as PagerDuty documents it
// (JSON body of at most 512,000 bytes; a known routing key; event_action
// trigger, acknowledge or resolve; dedup_key of at most 255 characters;
// on a trigger payload.summary of 1 to 1,024 characters, payload.source
// and payload.severity critical, error, warning or info), answers 202 with
// the dedup key or 400 with the errors, and keeps what it accepted.
type pdReceiver struct {
	keys map[string]string // routing key -> service name
	srv  *http.Server
	addr string

	mu       sync.Mutex
	pages    []page
	rejected []string
}

// Limits of the Events API v2 (../../../shared/REFERENCE.md §1).
const (
	pdMaxBody     = 512000
	pdMaxSummary  = 1024
	pdMaxDedupKey = 255
)

func newPDReceiver(addr string, keys map[string]string) (*pdReceiver, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PagerDuty stand-in: %w", err)
	}
	r := &pdReceiver{keys: keys, addr: l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/enqueue", r.enqueue)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(l) }() // ErrServerClosed after Close
	return r, nil
}

// URL is the Events API v2 URL Alertmanager posts to.
func (r *pdReceiver) URL() string { return "http://" + r.addr + "/v2/enqueue" }

func (r *pdReceiver) close() { _ = r.srv.Close() }

type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary  string `json:"summary"`
		Source   string `json:"source"`
		Severity string `json:"severity"`
	} `json:"payload"`
}

func (r *pdReceiver) enqueue(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, pdMaxBody+1))
	var errs []string
	var ev pdEvent
	switch {
	case err != nil:
		errs = append(errs, "reading the body: "+err.Error())
	case len(body) > pdMaxBody:
		errs = append(errs, fmt.Sprintf("the event is larger than %d bytes", pdMaxBody))
	default:
		if err := json.Unmarshal(body, &ev); err != nil {
			errs = append(errs, "the body is not a JSON event: "+err.Error())
		} else {
			errs = ev.problems(r.keys)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if len(errs) > 0 {
		r.mu.Lock()
		r.rejected = append(r.rejected, errs...)
		r.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
		return
	}
	p := page{At: time.Now(), Service: r.keys[ev.RoutingKey], Action: ev.EventAction, DedupKey: ev.DedupKey}
	if ev.Payload != nil {
		p.Summary, p.Severity = ev.Payload.Summary, ev.Payload.Severity
	}
	r.mu.Lock()
	r.pages = append(r.pages, p)
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func (ev *pdEvent) problems(keys map[string]string) []string {
	var errs []string
	if _, ok := keys[ev.RoutingKey]; !ok {
		// Never echo the key: it is a credential.
		errs = append(errs, "routing_key is not the key of a known integration")
	}
	if !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, ev.EventAction) {
		errs = append(errs, fmt.Sprintf("event_action %q is not trigger, acknowledge or resolve", ev.EventAction))
	}
	if utf8.RuneCountInString(ev.DedupKey) > pdMaxDedupKey {
		errs = append(errs, fmt.Sprintf("dedup_key is longer than %d characters", pdMaxDedupKey))
	}
	if ev.EventAction != "trigger" {
		if ev.DedupKey == "" {
			errs = append(errs, "dedup_key is required to "+ev.EventAction)
		}
		return errs
	}
	if ev.Payload == nil {
		return append(errs, "payload is required on a trigger")
	}
	if n := utf8.RuneCountInString(ev.Payload.Summary); n == 0 || n > pdMaxSummary {
		errs = append(errs, fmt.Sprintf("payload.summary must have 1 to %d characters, not %d", pdMaxSummary, n))
	}
	if ev.Payload.Source == "" {
		errs = append(errs, "payload.source is required")
	}
	if !slices.Contains([]string{"critical", "error", "warning", "info"}, ev.Payload.Severity) {
		errs = append(errs, fmt.Sprintf("payload.severity %q is not critical, error, warning or info", ev.Payload.Severity))
	}
	return errs
}

// received returns the events accepted so far and the problems of those
// refused.
func (r *pdReceiver) received() ([]page, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pages), slices.Clone(r.rejected)
}
