package live

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/pagerduty/pdtest"
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

// pdStandIn serves package pdtest's strict Events API v2 receiver (it
// checks every event as PagerDuty does: required fields, enums, sizes,
// known routing keys) on a loopback address, for Alertmanager's
// pagerduty_url.
type pdStandIn struct {
	r    *pdtest.Receiver
	srv  *http.Server
	addr string
}

// newPDStandIn listens on addr; keys maps each routing key to the name of
// its service (page, ticket).
func newPDStandIn(addr string, keys map[string]string) (*pdStandIn, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PagerDuty stand-in: %w", err)
	}
	s := &pdStandIn{r: pdtest.NewReceiver(keys), addr: l.Addr().String()}
	s.srv = &http.Server{Handler: s.r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(l) }() // ErrServerClosed after close
	return s, nil
}

// URL is the Events API v2 URL Alertmanager posts to.
func (s *pdStandIn) URL() string { return "http://" + s.addr + pdtest.AlertPath }

func (s *pdStandIn) close() { _ = s.srv.Close() }

// received returns the alert events accepted so far and, for each event
// refused, its errors.
func (s *pdStandIn) received() ([]page, []string) {
	var ps []page
	for _, e := range s.r.Events() {
		if e.Kind != "alert" {
			continue
		}
		ps = append(ps, page{At: e.Received, Service: e.Team, Action: e.Action, DedupKey: e.DedupKey, Summary: e.Summary, Severity: e.Severity})
	}
	var rej []string
	for _, r := range s.r.Rejections() {
		rej = append(rej, strings.Join(r.Errors, "; "))
	}
	return ps, rej
}
