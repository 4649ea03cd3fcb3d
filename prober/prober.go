// Package prober runs `gatewatch probe`: it calls each check's URL at an
// interval from outside the cluster, exports the outcome as metrics, and
// pages PagerDuty itself through the on-disk outbox after TriggerAfter
// consecutive failures (resolving after ResolveAfter successes), so that
// the gateway being down pages even when the monitoring stack is down too.
package prober

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/gatewatch/gatewatch/pagerduty"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/schema"
)

// Options configure a Prober.
type Options struct {
	// Gateway is the gateway label's value and part of every dedup key.
	Gateway string
	Targets []probe.Target
	// Interval between two probes of a target.
	Interval time.Duration
	// TriggerAfter consecutive failures trigger an event; ResolveAfter
	// consecutive successes then resolve it.
	TriggerAfter, ResolveAfter int
	// Location is where this prober runs (custom details).
	Location string
	// Severity of trigger events.
	Severity string
	// Links are put into trigger events (dashboard, runbook); empty hrefs
	// are left out.
	Links []pagerduty.Link
	// Outbox receives the events; nil means the prober does not page.
	Outbox *pagerduty.Outbox
	// StateFile remembers which checks have an open incident, so that a
	// restarted prober resolves them; "" keeps it in memory only.
	StateFile string
	// Registerer gets the probe metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Transport overrides the HTTP transport (tests); nil means a new one
	// per prober, without keep-alives so each probe measures a connect.
	Transport http.RoundTripper
}

// Prober probes its targets.
type Prober struct {
	o       Options
	client  *http.Client
	log     *slog.Logger
	body    []*regexp.Regexp
	success *prometheus.GaugeVec
	dur     *prometheus.GaugeVec
	status  *prometheus.GaugeVec
	expiry  *prometheus.GaugeVec

	mu    sync.Mutex
	state map[string]*checkState
}

type checkState struct {
	failures, successes int
	// Open is true between the trigger and the resolve.
	Open bool `json:"open"`
}

// Result is one probe's outcome.
type Result struct {
	Success bool
	Status  int
	// Err says why the probe failed ("" on success).
	Err      string
	Phases   map[string]time.Duration
	Duration time.Duration
	// TLSExpiry is the earliest NotAfter of the peer's certificates (zero
	// for http).
	TLSExpiry time.Time
}

// New returns a prober. It reads the state file when there is one.
func New(o Options) (*Prober, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.TriggerAfter < 1 {
		o.TriggerAfter = 1
	}
	if o.ResolveAfter < 1 {
		o.ResolveAfter = 1
	}
	tr := o.Transport
	if tr == nil {
		tr = &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true, TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	}
	p := &Prober{
		o:      o,
		log:    o.Logger,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		state:  map[string]*checkState{},
	}
	for _, t := range o.Targets {
		var re *regexp.Regexp
		if t.ExpectBody != "" {
			r, err := regexp.Compile(t.ExpectBody)
			if err != nil {
				return nil, fmt.Errorf("check %s: expect_body: %w", t.Name, err)
			}
			re = r
		}
		p.body = append(p.body, re)
		p.state[t.Name] = &checkState{}
	}
	if err := p.loadState(); err != nil {
		return nil, err
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	gw := prometheus.Labels{schema.LabelGateway: o.Gateway}
	vec := func(m schema.Metric) *prometheus.GaugeVec {
		var labels []string
		for _, l := range m.Labels {
			if l != schema.LabelGateway {
				labels = append(labels, l)
			}
		}
		return f.NewGaugeVec(prometheus.GaugeOpts{Name: m.Name, Help: m.Help, ConstLabels: gw}, labels)
	}
	p.success, p.dur, p.status, p.expiry = vec(schema.ProbeSuccess), vec(schema.ProbeDuration), vec(schema.ProbeStatusCode), vec(schema.ProbeTLSExpiry)
	for _, t := range o.Targets {
		// Until the first probe ends a check counts as failing, so that a
		// prober that cannot probe never looks healthy.
		p.success.WithLabelValues(t.Name).Set(0)
		p.status.WithLabelValues(t.Name).Set(0)
		for _, ph := range schema.ProbePhases {
			p.dur.WithLabelValues(t.Name, ph).Set(0)
		}
	}
	return p, nil
}

// Run probes every target each Interval, the first time at once, until
// ctx ends.
func (p *Prober) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range p.o.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the targets over the interval so that they do not all
			// leave at once.
			offset := time.Duration(0)
			if n := len(p.o.Targets); n > 1 {
				offset = p.o.Interval * time.Duration(i) / time.Duration(n)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(offset):
			}
			tick := time.NewTicker(p.o.Interval)
			defer tick.Stop()
			for {
				p.Check(ctx, i)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	wg.Wait()
}

// Check probes target i once, exports the result and sends an event when
// the check changes state.
func (p *Prober) Check(ctx context.Context, i int) Result {
	t := &p.o.Targets[i]
	r := p.probe(ctx, t, p.body[i])
	if ctx.Err() != nil {
		return r // shutting down: the probe was cut short, not failed
	}
	p.export(t, r)
	p.transition(t, r)
	return r
}

func (p *Prober) export(t *probe.Target, r Result) {
	v := 0.0
	if r.Success {
		v = 1
	}
	p.success.WithLabelValues(t.Name).Set(v)
	p.status.WithLabelValues(t.Name).Set(float64(r.Status))
	for _, ph := range schema.ProbePhases {
		p.dur.WithLabelValues(t.Name, ph).Set(r.Phases[ph].Seconds())
	}
	if !r.TLSExpiry.IsZero() {
		p.expiry.WithLabelValues(t.Name).Set(float64(r.TLSExpiry.Unix()))
	}
}

func (p *Prober) probe(ctx context.Context, t *probe.Target, body *regexp.Regexp) Result {
	r := Result{Phases: map[string]time.Duration{}}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	var dnsStart, connStart, tlsStart, wrote, first time.Time
	start := time.Now()
	trace := &httptrace.ClientTrace{
		DNSStart:     func(httptrace.DNSStartInfo) { dnsStart = time.Now() },
		DNSDone:      func(httptrace.DNSDoneInfo) { r.Phases[schema.PhaseResolve] = time.Since(dnsStart) },
		ConnectStart: func(string, string) { connStart = time.Now() },
		ConnectDone: func(string, string, error) {
			r.Phases[schema.PhaseConnect] = time.Since(connStart)
		},
		TLSHandshakeStart:    func() { tlsStart = time.Now() },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { r.Phases[schema.PhaseTLS] = time.Since(tlsStart) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
		GotFirstResponseByte: func() { first = time.Now() },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), t.Method, t.URL, nil)
	if err != nil {
		r.Err = "bad request: " + err.Error()
		return r
	}
	req.Header.Set("User-Agent", "gatewatch-probe")
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		r.Duration = time.Since(start)
		r.Err = describe(err)
		return r
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	end := time.Now()
	r.Duration = end.Sub(start)
	if !first.IsZero() {
		if !wrote.IsZero() {
			r.Phases[schema.PhaseProcessing] = first.Sub(wrote)
		}
		r.Phases[schema.PhaseTransfer] = end.Sub(first)
	}
	r.Status = resp.StatusCode
	if resp.TLS != nil {
		for _, c := range resp.TLS.PeerCertificates {
			if r.TLSExpiry.IsZero() || c.NotAfter.Before(r.TLSExpiry) {
				r.TLSExpiry = c.NotAfter
			}
		}
	}
	switch {
	case rerr != nil:
		r.Err = "reading the body: " + describe(rerr)
	case len(t.ExpectStatus) == 0 && (r.Status < 200 || r.Status > 299):
		r.Err = fmt.Sprintf("status %d, expected 2xx", r.Status)
	case len(t.ExpectStatus) > 0 && !slices.Contains(t.ExpectStatus, r.Status):
		r.Err = fmt.Sprintf("status %d, expected %s", r.Status, codes(t.ExpectStatus))
	case body != nil && !body.Match(b):
		r.Err = fmt.Sprintf("the body does not match %q", body.String())
	default:
		r.Success = true
	}
	return r
}

func codes(cs []int) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

// describe shortens an HTTP client error: the *url.Error's operation and
// URL are the check's own and said elsewhere.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// transition counts consecutive outcomes and sends the events.
func (p *Prober) transition(t *probe.Target, r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.state[t.Name]
	if r.Success {
		s.failures = 0
		s.successes++
	} else {
		s.successes = 0
		s.failures++
	}
	switch {
	case !s.Open && s.failures == p.o.TriggerAfter:
		p.log.Warn("check failing; opening an incident", "check", t.Name, "failures", s.failures, "err", r.Err)
		if p.send(p.triggerEvent(t, r, s.failures)) {
			s.Open = true
			p.saveState()
		}
	case s.Open && s.successes == p.o.ResolveAfter:
		p.log.Info("check recovered; resolving the incident", "check", t.Name)
		if p.send(&pagerduty.Event{Kind: pagerduty.KindAlert, Alert: &pd.V2Event{Action: "resolve", DedupKey: probe.DedupKey(p.o.Gateway, t.Name)}}) {
			s.Open = false
			p.saveState()
		}
	case !s.Open && !r.Success:
		p.log.Info("check failed", "check", t.Name, "failures", s.failures, "err", r.Err)
	}
}

// send stores ev in the outbox; it reports whether the event will leave
// (true without an outbox, where there is nothing to send).
func (p *Prober) send(ev *pagerduty.Event) bool {
	if p.o.Outbox == nil {
		return true
	}
	if err := p.o.Outbox.Enqueue(ev); err != nil {
		p.log.Error("storing a PagerDuty event failed; will try again at the next probe", "err", err)
		return false
	}
	return true
}

func (p *Prober) triggerEvent(t *probe.Target, r Result, failures int) *pagerduty.Event {
	u, _ := url.Parse(t.URL)
	source := t.URL
	if u != nil {
		source = u.Host
	}
	summary := fmt.Sprintf("%s: probe %s failing (%s %s): %s", p.o.Gateway, t.Name, t.Method, t.URL, r.Err)
	details := map[string]any{
		"gateway":      p.o.Gateway,
		"check":        t.Name,
		"url":          t.URL,
		"method":       t.Method,
		"location":     p.o.Location,
		"failures":     failures,
		"error":        r.Err,
		"status_code":  r.Status,
		"duration":     r.Duration.Round(time.Millisecond).String(),
		"trigger_rule": fmt.Sprintf("%d consecutive failures; resolves after %d successes", p.o.TriggerAfter, p.o.ResolveAfter),
	}
	if t.Endpoint != "" {
		details["endpoint"] = t.Endpoint
	}
	ev := &pd.V2Event{
		Action:   "trigger",
		DedupKey: probe.DedupKey(p.o.Gateway, t.Name),
		Client:   "gatewatch probe",
		Payload: &pd.V2Payload{
			Summary:   summary,
			Source:    source,
			Severity:  p.o.Severity,
			Timestamp: time.Now().UTC().Format(time.RFC3339),
			Component: t.Name,
			Group:     p.o.Gateway,
			Class:     "probe",
			Details:   details,
		},
	}
	for _, l := range p.o.Links {
		if l.Href != "" {
			ev.Links = append(ev.Links, map[string]string{"href": l.Href, "text": l.Text})
		}
	}
	out := &pagerduty.Event{Kind: pagerduty.KindAlert, Alert: ev}
	out.Fit()
	return out
}

func (p *Prober) loadState() error {
	if p.o.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(p.o.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the prober state: %w", err)
	}
	var saved map[string]checkState
	if err := json.Unmarshal(b, &saved); err != nil {
		p.log.Warn("ignoring an unreadable prober state file", "file", p.o.StateFile, "err", err)
		return nil
	}
	for name, s := range saved {
		if cur, ok := p.state[name]; ok {
			cur.Open = s.Open
		}
	}
	return nil
}

// saveState writes the open incidents atomically; p.mu is held.
func (p *Prober) saveState() {
	if p.o.StateFile == "" {
		return
	}
	b, err := json.Marshal(p.state)
	if err == nil {
		tmp := p.o.StateFile + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, p.o.StateFile)
		}
	}
	if err != nil {
		p.log.Error("writing the prober state", "file", filepath.Base(p.o.StateFile), "err", err)
	}
}
