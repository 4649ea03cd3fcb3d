package pagerduty

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseRetryAfter checks that no header value panics or gives a
// negative wait.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("30")
	f.Add("Fri, 04 Dec 2026 20:00:30 GMT")
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d, ok := parseRetryAfter(v, now); ok && d < 0 {
			t.Fatalf("%q gives %s", v, d)
		}
	})
}

// FuzzOutboxRead checks that a damaged outbox file is refused with an
// error, never a panic or an event without its body.
func FuzzOutboxRead(f *testing.F) {
	f.Add(`{"kind":"alert","alert":{"routing_key":"","event_action":"trigger","dedup_key":"k","payload":{"summary":"s","source":"x","severity":"critical"}}}`)
	f.Add(`{"kind":"change","change":{"routing_key":"","payload":{"summary":"s"}}}`)
	dir := f.TempDir()
	o, err := OpenOutbox(dir, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, content string) {
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		ev, err := o.read(1)
		if err != nil {
			return
		}
		if (ev.Kind == KindAlert && ev.Alert == nil) || (ev.Kind == KindChange && ev.Change == nil) || (ev.Kind != KindAlert && ev.Kind != KindChange) {
			t.Fatalf("accepted %q as %+v", content, ev)
		}
	})
}
