package pagerduty

import (
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
)

// Link is an event's link.
type Link struct {
	Href string
	Text string
}

// Change describes a change event: a deploy, a configuration change.
type Change struct {
	Summary string
	Source  string
	Links   []Link
	Details map[string]any
	// Time is when the change happened; zero means now.
	Time time.Time
}

// ChangeEvent builds the change event of c, within the API's limits.
func ChangeEvent(c Change) *Event {
	t := c.Time
	if t.IsZero() {
		t = time.Now()
	}
	e := &pd.ChangeEvent{Payload: pd.ChangeEventPayload{
		Summary:       c.Summary,
		Source:        c.Source,
		Timestamp:     t.UTC().Format(time.RFC3339),
		CustomDetails: c.Details,
	}}
	for _, l := range c.Links {
		e.Links = append(e.Links, pd.ChangeEventLink{Href: l.Href, Text: l.Text})
	}
	ev := &Event{Kind: KindChange, Change: e}
	ev.Fit()
	return ev
}
