package pdtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	keyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func post(t *testing.T, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp, m
}

func TestValidation(t *testing.T) {
	s := NewServer(map[string]string{keyA: "payments", keyB: "search"})
	defer s.Close()
	trigger := `{"routing_key":"` + keyA + `","event_action":"trigger","dedup_key":"k1","payload":{"summary":"s","source":"x","severity":"critical"},"links":[{"href":"https://g/d","text":"dashboard"}]}`
	cases := []struct {
		name, path, body string
		want             string // "" = accepted
	}{
		{"trigger", AlertPath, trigger, ""},
		{"trigger without dedup key", AlertPath, `{"routing_key":"` + keyB + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info","timestamp":"2015-07-17T08:42:58.315+0000"}}`, ""},
		{"resolve without payload", AlertPath, `{"routing_key":"` + keyA + `","event_action":"resolve","dedup_key":"k1"}`, ""},
		{"change", ChangePath, `{"routing_key":"` + keyA + `","payload":{"summary":"deployed","source":"ci","custom_details":{"hash":"3f2a"}},"links":[{"href":"https://git/c"}]}`, ""},
		{"no routing key", AlertPath, `{"event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical"}}`, "'routing_key' is missing"},
		{"short routing key", AlertPath, `{"routing_key":"abc","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical"}}`, "must be 32 characters"},
		{"unknown routing key", AlertPath, `{"routing_key":"cccccccccccccccccccccccccccccccc","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical"}}`, "not the key of any integration"},
		{"ruleset key on change", ChangePath, `{"routing_key":"R` + keyA[1:] + `","payload":{"summary":"s"}}`, "ruleset"},
		{"bad action", AlertPath, `{"routing_key":"` + keyA + `","event_action":"fire","dedup_key":"k","payload":{"summary":"s","source":"x","severity":"critical"}}`, "'event_action' \"fire\""},
		{"bad severity", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"page"}}`, "'payload.severity' \"page\""},
		{"no source", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","severity":"critical"}}`, "'payload.source'"},
		{"no payload on trigger", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger"}`, "'payload' is missing"},
		{"long summary", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"` + strings.Repeat("é", 1025) + `","source":"x","severity":"critical"}}`, "longer than 1024"},
		{"long dedup key", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","dedup_key":"` + strings.Repeat("d", 256) + `","payload":{"summary":"s","source":"x","severity":"critical"}}`, "'dedup_key' is longer"},
		{"resolve without dedup key", AlertPath, `{"routing_key":"` + keyA + `","event_action":"resolve"}`, "'dedup_key' is required"},
		{"unknown field", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","severity":"critical","payload":{"summary":"s","source":"x","severity":"critical"}}`, "unknown field"},
		{"wrong case", AlertPath, `{"Routing_Key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical"}}`, `unknown field "Routing_Key"`},
		{"wrong case in payload", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"Summary":"s","source":"x","severity":"critical"}}`, `unknown field "Summary"`},
		{"bad timestamp", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical","timestamp":"yesterday"}}`, "ISO 8601"},
		{"link without href", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical"},"links":[{"text":"t"}]}`, "'links[0].href'"},
		{"http image", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical"},"images":[{"src":"http://i"}]}`, "https"},
		{"too large", AlertPath, `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"critical","custom_details":{"x":"` + strings.Repeat("x", MaxBodyBytes) + `"}}}`, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(s.Rejections())
			resp, m := post(t, s.URL+c.path, c.body)
			if c.want == "" {
				if resp.StatusCode != http.StatusAccepted || m["status"] != "success" {
					t.Fatalf("got %d %v, want 202 success", resp.StatusCode, m)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got %d %v, want 400", resp.StatusCode, m)
			}
			rej := s.Rejections()
			if len(rej) != before+1 || !strings.Contains(strings.Join(rej[len(rej)-1].Errors, "; "), c.want) {
				t.Fatalf("errors %v, want one containing %q", m["errors"], c.want)
			}
		})
	}
	ev := s.Events()
	if len(ev) != 4 || ev[0].Team != "payments" || ev[0].Links[0].Text != "dashboard" || ev[1].Team != "search" || ev[1].DedupKey == "" || ev[3].Kind != "change" || ev[3].Details["hash"] != "3f2a" {
		t.Fatalf("recorded %+v", ev)
	}
	if open := s.Open("payments"); len(open) != 0 {
		t.Errorf("payments open %v after resolve, want none", open)
	}
	if open := s.Open("search"); len(open) != 1 || open[0] != ev[1].DedupKey {
		t.Errorf("search open %v, want [%s]", open, ev[1].DedupKey)
	}
	for _, r := range s.Rejections() {
		for _, e := range r.Errors {
			if strings.Contains(e, keyA) {
				t.Errorf("error %q echoes the routing key", e)
			}
		}
	}
}

func TestFaults(t *testing.T) {
	s := NewServer(map[string]string{keyA: "payments"})
	defer s.Close()
	s.Inject(Fault{Status: 503, Count: 2})
	s.Inject(Fault{Status: 429, RetryAfter: "3", Count: 1})
	body := `{"routing_key":"` + keyA + `","event_action":"trigger","dedup_key":"k","payload":{"summary":"s","source":"x","severity":"critical"}}`
	var got []string
	for i := 0; i < 4; i++ {
		resp, _ := post(t, s.URL+AlertPath, body)
		got = append(got, resp.Status[:3]+"/"+resp.Header.Get("Retry-After"))
	}
	if strings.Join(got, " ") != "503/ 503/ 429/3 202/" {
		t.Fatalf("answers %v", got)
	}
	if n, f := s.Counts(); n != 4 || f != 3 {
		t.Errorf("counts %d %d, want 4 3", n, f)
	}
	s.Inject(Fault{Status: 500, Count: -1})
	for i := 0; i < 3; i++ {
		if resp, _ := post(t, s.URL+AlertPath, body); resp.StatusCode != 500 {
			t.Fatalf("got %d during a lasting fault", resp.StatusCode)
		}
	}
	s.Heal()
	done := make(chan bool)
	go func() { done <- s.WaitFor(5*time.Second, func(e []Event) bool { return len(e) == 2 }) }()
	if resp, _ := post(t, s.URL+AlertPath, body); resp.StatusCode != 202 {
		t.Fatalf("got %d after Heal", resp.StatusCode)
	}
	if !<-done {
		t.Fatal("WaitFor did not see the second event")
	}
}

// FuzzReceiver checks that no body makes the receiver panic or answer
// anything but 202 or 400.
func FuzzReceiver(f *testing.F) {
	f.Add(AlertPath, `{"routing_key":"`+keyA+`","event_action":"trigger","dedup_key":"k1","payload":{"summary":"s","source":"x","severity":"critical"},"links":[{"href":"https://g"}],"images":[{"src":"https://i"}]}`)
	f.Add(ChangePath, `{"routing_key":"`+keyA+`","payload":{"summary":"deployed"}}`)
	r := NewReceiver(map[string]string{keyA: "payments"})
	f.Fuzz(func(t *testing.T, path, body string) {
		if path != AlertPath {
			path = ChangePath
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		if w.Code != http.StatusAccepted && w.Code != http.StatusBadRequest {
			t.Fatalf("answered %d", w.Code)
		}
	})
}

func TestListen(t *testing.T) {
	s, err := Listen("127.0.0.1:0", map[string]string{keyA: "payments"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, _ := post(t, s.URL+AlertPath, `{"routing_key":"`+keyA+`","event_action":"trigger","dedup_key":"k","payload":{"summary":"down","source":"x","severity":"critical"}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("got %d", resp.StatusCode)
	}
	if got := s.Events()[0].String(); got != `trigger team=payments severity=critical dedup_key=k "down"` {
		t.Errorf("String() = %s", got)
	}
	if _, err := Listen(strings.TrimPrefix(s.URL, "http://"), nil); err == nil {
		t.Error("a second Listen on the same address succeeded")
	}
}
