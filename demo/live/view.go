package live

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/rules"
)

// event is a line of the demo's story: a burst, an alert, a page.
type event struct {
	at   time.Duration
	kind string
	text string
}

func (e event) String() string { return fmt.Sprintf("[%s] %-8s %s", clock(e.at), e.kind, e.text) }

// view is what the demo shows.
type view struct {
	setup  []string
	events []event

	rows               map[epKey]epRate
	err5m              map[epKey]float64
	lines              float64
	decodeErr, skipped float64

	alerts       []promAlert
	amActive     int
	amSuppressed int
	ruleErrs     int
	ruleErr      string
	promErr      string

	pages    []page
	rejected []string

	burst, next *burst
	nextAt      time.Duration

	fired, firedPages, resolved int
}

// Plain output prints the endpoint table this often.
const plainTableEvery = 30 * time.Second

// loop watches everything once a second and shows it until ctx ends or
// the demo's time is up.
func (d *demo) loop(ctx context.Context) error {
	o := d.o
	var end <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		end = t.C
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	var snaps []*snapshot
	alertState := map[string]promAlert{}
	lastTable := time.Duration(0)
	printed := 0 // events already printed in plain mode
	if o.Terminal {
		fmt.Fprint(o.Stdout, "\033[2J")
	}
	for n := 0; ; n++ {
		elapsed := time.Since(d.start)
		v := &d.view

		cur, next, nextAt := active(d.bursts, elapsed)
		if cur != v.burst {
			for _, s := range d.backends {
				s.SetFaults()
			}
			if cur != nil {
				d.backends[cur.target.host].SetFaults(cur.fault)
				d.event(elapsed, "BURST", fmt.Sprintf("%s for %s", cur.what, shortDur(cur.length)))
			} else {
				d.event(elapsed, "CALM", "the burst is over: every backend is healthy again")
			}
			v.burst = cur
		}
		v.next, v.nextAt = next, nextAt

		if s, err := scrapeSidecar(hc, d.sidecarURL); err == nil {
			snaps = append(snaps, s)
			old := snaps[0]
			for len(snaps) > 1 && s.at.Sub(snaps[1].at) >= 10*time.Second {
				snaps = snaps[1:]
				old = snaps[0]
			}
			v.rows = rates(old, s)
			v.lines, v.decodeErr, v.skipped = s.lines, s.decodeErrors, s.skipped
		}

		if d.prom != nil && n%2 == 0 {
			d.watchPrometheus(elapsed, alertState)
		}

		pages, rejected := d.pd.received()
		for _, p := range pages[len(v.pages):] {
			if p.Summary == "" {
				// A resolve or acknowledge carries only the dedup key:
				// show what its trigger said.
				for _, q := range v.pages {
					if q.DedupKey == p.DedupKey && q.Summary != "" {
						p.Summary = q.Summary
					}
				}
			}
			v.pages = append(v.pages, p)
			sev := ""
			if p.Severity != "" {
				sev = " " + p.Severity
			}
			d.event(p.At.Sub(d.start), "PAGE", fmt.Sprintf("%s%s to the %s service: %s (dedup %s)", p.Action, sev, p.Service, clip(p.Summary, 90), clip(p.DedupKey, 12)))
		}
		for _, r := range rejected[len(v.rejected):] {
			d.event(elapsed, "REFUSED", "the PagerDuty stand-in refused an event: "+r)
		}
		v.rejected = rejected

		for _, p := range d.procs {
			if p.exited() {
				return p.failure()
			}
		}

		if o.Terminal {
			fmt.Fprint(o.Stdout, "\033[H"+strings.ReplaceAll(d.screen(elapsed), "\n", "\033[K\n")+"\033[J")
		} else {
			for _, e := range v.events[printed:] {
				fmt.Fprintln(o.Stdout, e)
			}
			printed = len(v.events)
			if elapsed-lastTable >= plainTableEvery {
				lastTable = elapsed
				fmt.Fprintf(o.Stdout, "[%s] per endpoint over the last 10s:\n%s", clock(elapsed), d.table())
			}
		}

		select {
		case <-ctx.Done():
			return d.finish(time.Since(d.start))
		case <-end:
			return d.finish(time.Since(d.start))
		case <-tick.C:
		}
	}
}

func (d *demo) event(at time.Duration, kind, text string) {
	d.view.events = append(d.view.events, event{at: at, kind: kind, text: text})
}

// watchPrometheus reads the alerts, the recorded error ratios and rule
// health from Prometheus and the alerts Alertmanager holds.
func (d *demo) watchPrometheus(elapsed time.Duration, state map[string]promAlert) {
	v := &d.view
	as, err := d.prom.alerts()
	if err != nil {
		v.promErr = err.Error()
		return
	}
	v.promErr = ""
	slices.SortFunc(as, func(a, b promAlert) int { return strings.Compare(a.what(), b.what()) })
	v.alerts = as
	seen := map[string]bool{}
	for _, a := range as {
		k := a.key()
		seen[k] = true
		old, ok := state[k]
		if ok && old.State == a.State {
			continue
		}
		state[k] = a
		switch a.State {
		case "pending":
			d.event(elapsed, "PENDING", a.what())
		case "firing":
			v.fired++
			if a.Labels[rules.LabelSeverity] == rules.SeverityPage {
				v.firedPages++
			}
			d.event(elapsed, "FIRING", a.what())
		}
	}
	for k, a := range state {
		if seen[k] {
			continue
		}
		delete(state, k)
		if a.State == "firing" {
			v.resolved++
			d.event(elapsed, "RESOLVED", a.what())
		} else {
			d.event(elapsed, "CLEARED", a.what()+" (was pending, never fired)")
		}
	}
	if r, err := d.prom.errorRatios("5m"); err == nil {
		v.err5m = r
	}
	if n, first, err := d.prom.ruleErrors(); err == nil {
		v.ruleErrs, v.ruleErr = n, first
	}
	if a, s, err := d.prom.amAlerts(); err == nil {
		v.amActive, v.amSuppressed = a, s
	}
}

// keys returns the table's rows: the contract's order, then the rest
// (unmatched) as the sidecar labels them.
func (d *demo) keys() []epKey {
	var ks []epKey
	for _, t := range d.targets {
		ks = append(ks, epKey{t.endpoint, t.method})
	}
	var rest []epKey
	for k := range d.view.rows {
		if !slices.Contains(ks, k) {
			rest = append(rest, k)
		}
	}
	slices.SortFunc(rest, func(a, b epKey) int { return strings.Compare(a.endpoint+a.method, b.endpoint+b.method) })
	return append(ks, rest...)
}

// table writes requests per second, 5xx per second and share, and p99 of
// every endpoint over the last 10 seconds (from the sidecar's /metrics),
// and the recorded 5m error ratio from Prometheus.
func (d *demo) table() string {
	var b strings.Builder
	v := &d.view
	fmt.Fprintf(&b, "  %-7s %-28s %7s %7s %7s %8s", "METHOD", "ENDPOINT", "REQ/S", "5XX/S", "5XX", "P99")
	if d.prom != nil {
		b.WriteString("  5XX 5M*")
	}
	b.WriteString("\n")
	var rps, errs float64
	for _, k := range d.keys() {
		r, ok := v.rows[k]
		if !ok {
			r = epRate{p99: math.NaN()}
		}
		rps += r.rps
		errs += r.errRPS
		share := "-"
		if r.rps > 0 {
			share = fmt.Sprintf("%.1f%%", 100*r.errRPS/r.rps)
		}
		fmt.Fprintf(&b, "  %-7s %-28s %7.1f %7.1f %7s %8s", k.method, clip(k.endpoint, 28), r.rps, r.errRPS, share, seconds(r.p99))
		if d.prom != nil {
			if e, ok := v.err5m[k]; ok && !math.IsNaN(e) {
				fmt.Fprintf(&b, "  %.2f%%", 100*e)
			} else {
				b.WriteString("  -")
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  %-7s %-28s %7.1f %7.1f\n", "", "all", rps, errs)
	if d.prom != nil {
		fmt.Fprintf(&b, "  * recorded by Prometheus: %s, the SLI of the availability alerts\n", rules.ErrorRatio("5m"))
	}
	return b.String()
}

// screen is the whole terminal frame.
func (d *demo) screen(elapsed time.Duration) string {
	v := &d.view
	var b strings.Builder
	of := "until Ctrl-C"
	if d.o.Duration > 0 {
		of = "of " + clock(d.o.Duration)
	}
	fmt.Fprintf(&b, "gatewatch demo: %s on a real KrakenD engine (Lura v2.12.1)   %s %s   Ctrl-C stops\n", d.gateway, clock(elapsed), of)
	fmt.Fprintf(&b, "traffic: %s\n", d.traffic)
	now := "calm, every backend healthy"
	if v.burst != nil {
		now = v.burst.what
	}
	fmt.Fprintf(&b, "now:  %s\nnext: %s at %s\n\n", now, v.next.what, clock(v.nextAt))
	fmt.Fprintf(&b, "PER ENDPOINT, last 10s (sidecar: %.0f log lines read, %.0f skipped as gin's error line after a 5xx, %.0f not decoded)\n", v.lines, v.skipped, v.decodeErr)
	b.WriteString(d.table())
	b.WriteString("\n")
	if d.prom == nil {
		b.WriteString("ALERTS AND PAGES: Prometheus and Alertmanager are not installed.\n")
		b.WriteString("  apt-get install prometheus prometheus-alertmanager, then make demo again.\n\n")
	} else {
		firing, pending := 0, 0
		for _, a := range v.alerts {
			if a.State == "firing" {
				firing++
			} else {
				pending++
			}
		}
		fmt.Fprintf(&b, "ALERTS (Prometheus): %d firing, %d pending    Alertmanager: %d active, %d inhibited or silenced\n", firing, pending, v.amActive, v.amSuppressed)
		if v.promErr != "" {
			fmt.Fprintf(&b, "  Prometheus: %s\n", clip(v.promErr, 90))
		}
		if v.ruleErrs > 0 {
			fmt.Fprintf(&b, "  %d rules fail to evaluate; first: %s\n", v.ruleErrs, clip(v.ruleErr, 80))
		}
		for i, a := range v.alerts {
			if i == 6 {
				fmt.Fprintf(&b, "  … %d more at %s\n", len(v.alerts)-i, d.prom.prometheus+"/alerts")
				break
			}
			fmt.Fprintf(&b, "  %-8s active %s  %s\n", a.State, clock(max(0, a.ActiveAt.Sub(d.start))), clip(a.what(), 100))
		}
		if len(v.alerts) == 0 {
			b.WriteString("  none yet: the first page alert fires about 2.5 minutes into an error burst (for: 2m)\n")
		}
		fmt.Fprintf(&b, "PAGES (PagerDuty stand-in): %d received, %d refused\n", len(v.pages), len(v.rejected))
		for _, p := range lastN(v.pages, 4) {
			fmt.Fprintf(&b, "  %s  %-8s %-8s %s\n", clock(p.At.Sub(d.start)), p.Action, p.Severity, clip(p.Summary, 80))
		}
		b.WriteString("\n")
	}
	b.WriteString("EVENTS\n")
	for _, e := range lastN(v.events, 6) {
		fmt.Fprintf(&b, "  %s\n", clip(e.String(), 110))
	}
	b.WriteString("\nOPEN\n")
	for _, u := range d.urls {
		fmt.Fprintf(&b, "  %-13s %s\n", u[0], u[1])
	}
	fmt.Fprintf(&b, "sidecar command: %s\n", d.sidecarCmd)
	fmt.Fprintf(&b, "files: %s (gatewatch.yaml, generated/, access.log, logs/)\n", d.out)
	return b.String()
}

// finish prints the summary.
func (d *demo) finish(elapsed time.Duration) error {
	v := &d.view
	w := d.o.Stdout
	if !d.o.Terminal {
		fmt.Fprintf(w, "[%s] per endpoint over the last 10s:\n%s", clock(elapsed), d.table())
	}
	var total, errs float64
	for _, r := range v.rows {
		total += r.total
		errs += r.totalErrors
	}
	fmt.Fprintf(w, "\n== summary after %s\n", shortDur(elapsed.Round(time.Second)))
	fmt.Fprintf(w, "requests counted by the sidecar: %.0f (5xx: %.0f) from %.0f access-log lines\n", total, errs, v.lines)
	if d.prom != nil {
		fmt.Fprintf(w, "alerts fired: %d (severity page: %d), resolved: %d\n", v.fired, v.firedPages, v.resolved)
		trig, res := 0, 0
		for _, p := range v.pages {
			switch p.Action {
			case "trigger":
				trig++
			case "resolve":
				res++
			}
		}
		fmt.Fprintf(w, "pages received by the PagerDuty stand-in: %d (trigger: %d, resolve: %d), refused: %d\n", len(v.pages), trig, res, len(v.rejected))
	} else {
		fmt.Fprintln(w, "alerts and pages: none (apt-get install prometheus prometheus-alertmanager to see them)")
	}
	fmt.Fprintf(w, "files kept in %s: gatewatch.yaml, generated/ (rules, alertmanager.yml), access.log, logs/\n", d.out)
	return nil
}

func lastN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// clock writes elapsed time as mm:ss (h:mm:ss past an hour).
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// seconds writes a latency as people write it: 850µs, 2.3ms, 19ms, 1.25s.
func seconds(s float64) string {
	if math.IsNaN(s) {
		return "-"
	}
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Millisecond:
		d = d.Round(time.Microsecond)
	case d < 10*time.Millisecond:
		d = d.Round(100 * time.Microsecond)
	case d < time.Second:
		d = d.Round(time.Millisecond)
	default:
		d = d.Round(10 * time.Millisecond)
	}
	return d.String()
}

// shortDur writes a duration as people write it: 4m, 2m30s, 1h.
func shortDur(d time.Duration) string { return model.Duration(d).String() }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
