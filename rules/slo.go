package rules

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gatewatch/gatewatch/schema"

	"github.com/prometheus/common/model"
)

// burnRow is one condition of the multiwindow, multi-burn-rate alerts:
// both windows must burn the budget faster than factor.
type burnRow struct {
	severity    string
	long, short string
	factor      float64
	hold        time.Duration
}

// BurnRows are the four conditions (Google SRE Workbook table plus Sloth's
// 1d/2h ticket row), for a 30-day period.
var burnRows = []burnRow{
	{SeverityPage, "1h", "5m", 14.4, 2 * time.Minute},
	{SeverityPage, "6h", "30m", 6, 15 * time.Minute},
	{SeverityTicket, "1d", "2h", 3, time.Hour},
	{SeverityTicket, "3d", "6h", 1, 3 * time.Hour},
}

// burnRule is a generated burn-rate alert rule, kept for the unit tests.
type burnRule struct {
	alert  string
	parts  []burnPart
	row    burnRow
	budget float64
	// gateway is the gateway's name, gw its matcher.
	gateway, gw string
	labels      map[string]string
	// annotate renders the annotations for an endpoint and method, given
	// as template expressions or as values.
	annotate func(endpoint, method string) map[string]string
}

// burnPart is a target of a burn-rate rule with its traffic guard.
type burnPart struct {
	target target
	minReq float64
}

// matches reports whether the rule selects the series, and its guard.
func (b burnRule) matches(endpoint, method string) (float64, bool) {
	for _, p := range b.parts {
		if p.target.matches(endpoint, method) {
			return p.minReq, true
		}
	}
	return 0, false
}

// sloKey is what the alert rules of one class state statically.
type sloKey struct {
	team      string
	objective float64 // percent
	minReq    float64
	threshold time.Duration // latency only
}

// sloKind is availability or latency.
type sloKind struct {
	name  string // SLOAvailability or SLOLatency
	alert string
	ratio func(w string) string
	key   func(s series) (sloKey, bool)
	// text returns summary and description for a class and row.
	text func(k sloKey, r burnRow, endpoint, method string) (string, string)
}

func (g *generator) sloKinds() []sloKind {
	period := time.Duration(g.cfg.SLO.Period)
	return []sloKind{
		{
			name: SLOAvailability, alert: AlertAvailabilityBurn, ratio: ErrorRatio,
			key: func(s series) (sloKey, bool) {
				slo := g.cfg.SLOFor(s.ep)
				return sloKey{team: g.cfg.OwnerOf(s.ep), objective: slo.Availability, minReq: slo.MinRequestsPerHour}, !slo.Disabled
			},
			text: func(k sloKey, r burnRow, e, m string) (string, string) {
				b := budgetOf(k.objective)
				return fmt.Sprintf("%s %s is burning its availability error budget %sx too fast", m, e, formatFloat(r.factor)),
					fmt.Sprintf("More than %s%% of requests to %s %s failed with a 5xx status over the last %s and the last %s (objective: %s%% succeed over %s). At this rate the %s error budget of %s %s is gone in %s.",
						formatFloat(r.factor*b*100), m, e, r.long, r.short, formatFloat(k.objective), HumanDuration(period),
						periodPhrase(period), m, e, exhaustion(period, r.factor))
			},
		},
		{
			name: SLOLatency, alert: AlertLatencyBurn, ratio: SlowRatio,
			key: func(s series) (sloKey, bool) {
				slo := g.cfg.SLOFor(s.ep)
				return sloKey{team: g.cfg.OwnerOf(s.ep), objective: slo.LatencyTarget, minReq: slo.MinRequestsPerHour, threshold: slo.LatencyThreshold}, !slo.Disabled
			},
			text: func(k sloKey, r burnRow, e, m string) (string, string) {
				b := budgetOf(k.objective)
				thr := HumanDuration(k.threshold)
				return fmt.Sprintf("%s %s is burning its latency error budget %sx too fast", m, e, formatFloat(r.factor)),
					fmt.Sprintf("More than %s%% of requests to %s %s took longer than %s over the last %s and the last %s (objective: %s%% within %s over %s). At this rate the %s latency budget of %s %s is gone in %s.",
						formatFloat(r.factor*b*100), m, e, thr, r.long, r.short, formatFloat(k.objective), thr, shortDuration(period),
						periodPhrase(period), m, e, exhaustion(period, r.factor))
			},
		},
	}
}

// budgetOf is the error budget of an objective in percent: 99.9 → 0.001.
func budgetOf(objective float64) float64 { return round(1 - objective/100) }

// sloAlerts writes the burn-rate alerts of every SLO class and their tests.
func (g *generator) sloAlerts() ([]Rule, error) {
	var rs []Rule
	var sets []burnSet
	for _, kind := range g.sloKinds() {
		classes := classify(g.series, kind.key)
		first := len(g.burns)
		for _, rg := range ruleGroups(classes) {
			for _, row := range burnRows {
				b, err := g.burnRule(kind, rg, row)
				if err != nil {
					return nil, err
				}
				g.burns = append(g.burns, b)
				rs = append(rs, b.rule(kind))
			}
		}
		sets = append(sets, burnSet{kind: kind, classes: classes, burns: g.burns[first:]})
	}
	g.burnTests(sets)
	return rs, nil
}

// ruleGroup is the classes one alert rule serves: they differ only in
// their traffic guard.
type ruleGroup struct {
	key   sloKey // minReq unset
	parts []burnPart
}

// ruleGroups merges classes that differ only in the traffic guard, so that
// no two rules of a kind have the same labels.
func ruleGroups(classes []class[sloKey]) []ruleGroup {
	var out []ruleGroup
	idx := map[sloKey]int{}
	for _, cl := range classes {
		k := cl.key
		k.minReq = 0
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, ruleGroup{key: k})
		}
		for _, t := range cl.targets {
			out[i].parts = append(out[i].parts, burnPart{target: t, minReq: cl.key.minReq})
		}
	}
	return out
}

func (g *generator) burnRule(kind sloKind, rg ruleGroup, row burnRow) (burnRule, error) {
	k := rg.key
	labels := g.labels(LabelSeverity, row.severity, LabelTeam, k.team, LabelSLO, kind.name,
		LabelWindow, row.long, LabelObjective, formatFloat(k.objective))
	if kind.name == SLOLatency {
		labels[LabelThreshold] = HumanDuration(k.threshold)
	}
	static, err := g.annotations(kind.alert, "", "")
	if err != nil {
		return burnRule{}, err
	}
	return burnRule{
		alert:   kind.alert,
		parts:   rg.parts,
		row:     row,
		budget:  budgetOf(k.objective),
		gateway: g.gateway,
		gw:      g.gw,
		labels:  labels,
		annotate: func(e, m string) map[string]string {
			a := map[string]string{}
			for n, v := range static {
				a[n] = v
			}
			a[AnnotationSummary], a[AnnotationDescription] = kind.text(k, row, e, m)
			if db := g.endpointDashboard(e, m); db != "" {
				a[AnnotationDashboard] = db
			}
			return a
		},
	}, nil
}

// rule writes the alert rule: for every target of the class, both windows
// above factor × budget and at least minReq requests an hour on average
// over the long window.
func (b burnRule) rule(kind sloKind) Rule {
	th := fmt.Sprintf("(%s * %s)", formatFloat(b.row.factor), formatFloat(b.budget))
	var parts []string
	for _, p := range b.parts {
		parts = append(parts, fmt.Sprintf("%s > %s\nand\n%s > %s\nand\n%s * 3600 >= %s",
			selector(kind.ratio(b.row.long), append([]string{b.gw}, p.target.matchers()...)...), th,
			selector(kind.ratio(b.row.short), b.gw), th,
			selector(RequestRate(b.row.long), b.gw), formatFloat(p.minReq)))
	}
	return Rule{
		Alert:       b.alert,
		Expr:        orParts(parts),
		For:         shortDuration(b.row.hold),
		Labels:      escapeLabels(b.labels),
		Annotations: b.annotate(tmplLabel(schema.LabelEndpoint), tmplLabel(schema.LabelMethod)),
	}
}

func tmplLabel(name string) string { return "{{ $labels." + name + " }}" }

// shortDuration writes d as Prometheus 2.42 parses it (for, eval_time,
// windows): whole units only, 1s500ms.
func shortDuration(d time.Duration) string { return model.Duration(d).String() }

// HumanDuration writes d as people write it, for annotations, labels and
// messages: 1.5s, 250ms, 2m30s, 30d. Below a minute it is one number with
// its unit (fractions of a second as decimals); from a minute on, whole
// units as Prometheus writes them.
func HumanDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < 0:
		return "-" + HumanDuration(-d)
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', -1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
	if whole := d.Truncate(time.Second); whole != d {
		return model.Duration(whole).String() + HumanDuration(d-whole)
	}
	return model.Duration(d).String()
}
