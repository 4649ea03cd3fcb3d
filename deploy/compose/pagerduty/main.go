// Command pagerduty is the compose stack's local stand-in for PagerDuty's
// Events API v2, so that nothing leaves the machine: Alertmanager (and the
// prober) post to it instead of events.pagerduty.com. It answers as
// PagerDuty does — 202 with a dedup_key for a valid event, 400 with the
// problems for an invalid one — and keeps the incidents it opened, so the
// quickstart can show a page:
//
//	curl localhost:8099/incidents
//
// It checks what the stack's senders rely on (REFERENCE §1): routing_key,
// event_action, and summary, source and severity on a trigger. Routing
// keys are never printed or returned.
//
// The project's strict receiver for tests is pagerduty/pdtest; this
// program stays small on purpose.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

func main() {
	listen := flag.String("listen", ":8080", "address to listen on")
	flag.Parse()
	srv := &http.Server{Addr: *listen, Handler: newReceiver(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("PagerDuty Events API v2 stand-in listening on %s: POST /v2/enqueue, GET /incidents", *listen)
	log.Fatal(srv.ListenAndServe())
}

// maxEventBytes is PagerDuty's limit on one event.
const maxEventBytes = 512 * 1024

type event struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
}

// Incident is one alert the stand-in holds open or has resolved.
type Incident struct {
	DedupKey string    `json:"dedup_key"`
	Service  string    `json:"service"` // the routing key's last four characters
	Summary  string    `json:"summary"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"` // triggered, acknowledged or resolved
	Events   int       `json:"events"`
	Opened   time.Time `json:"opened"`
	Updated  time.Time `json:"updated"`
}

type receiver struct {
	mu        sync.Mutex
	incidents map[string]*Incident // by routing key + dedup key
	mux       *http.ServeMux
}

func newReceiver() *receiver {
	r := &receiver{incidents: map[string]*Incident{}, mux: http.NewServeMux()}
	r.mux.HandleFunc("POST /v2/enqueue", r.enqueue)
	r.mux.HandleFunc("GET /incidents", r.list)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

func (r *receiver) enqueue(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxEventBytes+1))
	if err != nil {
		reply(w, http.StatusBadRequest, "invalid event", []string{"reading the body: " + err.Error()}, "")
		return
	}
	if len(body) > maxEventBytes {
		reply(w, http.StatusBadRequest, "invalid event", []string{"event is larger than 512 KB"}, "")
		return
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		reply(w, http.StatusBadRequest, "invalid event", []string{"body is not a JSON event: " + err.Error()}, "")
		return
	}
	var problems []string
	if len(e.RoutingKey) != 32 {
		problems = append(problems, "routing_key must be a 32-character integration key")
	}
	if !slices.Contains([]string{"trigger", "acknowledge", "resolve"}, e.EventAction) {
		problems = append(problems, `event_action must be "trigger", "acknowledge" or "resolve"`)
	}
	if len(e.DedupKey) > 255 {
		problems = append(problems, "dedup_key is longer than 255 characters")
	}
	if e.EventAction == "trigger" {
		switch {
		case e.Payload == nil:
			problems = append(problems, "payload is missing")
		default:
			if e.Payload.Summary == "" || len([]rune(e.Payload.Summary)) > 1024 {
				problems = append(problems, "payload.summary must be 1 to 1024 characters")
			}
			if e.Payload.Source == "" {
				problems = append(problems, "payload.source is missing")
			}
			if !slices.Contains([]string{"critical", "error", "warning", "info"}, e.Payload.Severity) {
				problems = append(problems, `payload.severity must be "critical", "error", "warning" or "info"`)
			}
		}
	} else if e.DedupKey == "" {
		problems = append(problems, "dedup_key is required to "+e.EventAction)
	}
	if len(problems) > 0 {
		reply(w, http.StatusBadRequest, "Event object is invalid", problems, "")
		return
	}
	if e.DedupKey == "" {
		e.DedupKey = newKey()
	}
	r.apply(&e, time.Now().UTC())
	reply(w, http.StatusAccepted, "Event processed", nil, e.DedupKey)
}

// apply updates the incidents as PagerDuty does: a trigger opens one (or
// adds to the open one of that key and service), acknowledge and resolve
// change an open one and are dropped otherwise.
func (r *receiver) apply(e *event, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := e.RoutingKey + "/" + e.DedupKey
	inc, open := r.incidents[id]
	open = open && inc.Status != "resolved"
	switch e.EventAction {
	case "trigger":
		if !open {
			inc = &Incident{DedupKey: e.DedupKey, Service: "…" + e.RoutingKey[len(e.RoutingKey)-4:], Opened: now}
			r.incidents[id] = inc
		}
		inc.Summary, inc.Severity, inc.Status = e.Payload.Summary, e.Payload.Severity, "triggered"
	case "acknowledge", "resolve":
		if !open {
			return
		}
		inc.Status = map[string]string{"acknowledge": "acknowledged", "resolve": "resolved"}[e.EventAction]
	}
	inc.Events++
	inc.Updated = now
	log.Printf("%s %s: %s (%s)", e.EventAction, inc.DedupKey, inc.Summary, inc.Status)
}

func (r *receiver) list(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	out := make([]Incident, 0, len(r.incidents))
	for _, inc := range r.incidents {
		out = append(out, *inc)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Opened.Before(out[j].Opened) })
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func reply(w http.ResponseWriter, code int, msg string, errs []string, dedup string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	body := map[string]any{"status": "success", "message": msg}
	if code != http.StatusAccepted {
		body["status"] = "invalid event"
		body["errors"] = errs
	} else {
		body["dedup_key"] = dedup
	}
	_ = json.NewEncoder(w).Encode(body)
}

func newKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
