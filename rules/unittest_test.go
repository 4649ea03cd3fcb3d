package rules

import (
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEveryAlertTested checks the generated unit tests cover every alert
// rule: each rule is expected to fire (an expected alert carries all its
// labels) in some test, and each alert name is expected to stay quiet in
// another.
func TestEveryAlertTested(t *testing.T) {
	for name, s := range map[string]func() (*Set, error){
		"orders":    func() (*Set, error) { return Generate(ordersContract(), loadConfig(t, ordersConfig)) },
		"large":     func() (*Set, error) { return Generate(largeContract(40), loadConfig(t, ordersConfig)) },
		"no config": func() (*Set, error) { return Generate(ordersContract(), nil) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := s()
			require.NoError(t, err)
			quiet := map[string]bool{}
			var fired []map[string]string
			for _, tg := range s.Tests.Tests {
				for _, at := range tg.AlertRuleTests {
					if len(at.ExpAlerts) == 0 {
						quiet[at.Alertname] = true
					}
					for _, e := range at.ExpAlerts {
						l := maps.Clone(e.ExpLabels)
						l["alertname"] = at.Alertname
						fired = append(fired, l)
					}
				}
			}
			for _, g := range s.Rules.Groups {
				for _, r := range g.Rules {
					if r.Alert == "" {
						continue
					}
					require.True(t, quiet[r.Alert], "no test keeps %s quiet", r.Alert)
					found := false
					for _, l := range fired {
						if l["alertname"] != r.Alert {
							continue
						}
						match := true
						for k, v := range r.Labels {
							if l[k] != v {
								match = false
								break
							}
						}
						if match {
							found = true
							break
						}
					}
					require.True(t, found, "no test makes %s %v fire", r.Alert, r.Labels)
				}
			}
		})
	}
}

// TestAddOpTests checks the packing of operational tests into groups: a
// test never shares a group with one that adds series of a metric it
// reads, or that checks the same alert; identical series are written once.
func TestAddOpTests(t *testing.T) {
	up0 := Series{Series: `up{job="gw"}`, Values: "0x60"}
	up1 := Series{Series: `up{job="gw"}`, Values: "1x60"}
	other := Series{Series: `up{job="other"}`, Values: "1x60"}
	lag := Series{Series: `lag{job="gw"}`, Values: "1x60"}
	op := func(name, alert string, reads []string, in ...Series) opTest {
		r := map[string]bool{}
		for _, n := range reads {
			r[n] = true
		}
		return opTest{name: name, input: in, reads: r, test: AlertTest{EvalTime: "1h", Alertname: alert}}
	}
	g := &generator{}
	g.addOpTests([]opTest{
		op("down fires", "Down", []string{"up"}, up0),
		op("down quiet", "Down", []string{"up"}, up1),
		op("absent fires", "Absent", []string{"up"}, other),
		op("absent quiet", "Absent", []string{"up"}, up1),
		op("lag fires", "Lag", []string{"lag"}, lag),
		op("lag quiet", "Lag", []string{"lag"}, Series{Series: lag.Series, Values: "0x60"}),
	})
	var names []string
	for _, tg := range g.tests {
		names = append(names, tg.Name)
	}
	require.Equal(t, []string{
		"down fires; lag fires",
		"down quiet; absent quiet; lag quiet",
		"absent fires",
	}, names)
	require.Equal(t, []Series{up1, {Series: lag.Series, Values: "0x60"}}, g.tests[1].InputSeries)
	require.Len(t, g.tests[1].AlertRuleTests, 3)
}

// TestReads follows recording rules to the metrics they read.
func TestReads(t *testing.T) {
	g := &generator{recorded: map[string][]string{
		"job:req:rate5m": {`sum by (job) (rate(req_total[5m]))`},
		"job:err:ratio":  {`sum by (job) (rate(err_total[5m])) / job:req:rate5m`},
	}}
	r, err := g.reads(`job:err:ratio > 0.1 and up == 1`)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"job:err:ratio": true, "err_total": true, "job:req:rate5m": true, "req_total": true, "up": true}, r)
	_, err = g.reads(`rate(x[5m]`)
	require.ErrorContains(t, err, "parsing")
}

// TestExpectBurnGuard: with data since time 0, a long window sees only
// part of the traffic, so a rule whose guard the traffic meets only later
// becomes pending later and fires later.
func TestExpectBurnGuard(t *testing.T) {
	row := burnRow{severity: SeverityTicket, long: "3d", short: "6h", factor: 1, hold: time.Hour}
	rule := func(minReq float64) []burnRule {
		return []burnRule{{
			parts: []burnPart{{target: target{names: []string{"/a"}, methods: []string{"GET"}}, minReq: minReq}},
			row:   row, budget: 0.01, labels: map[string]string{},
			annotate: func(string, string) map[string]string { return nil },
		}}
	}
	// 1,000 a minute: over 3d the window sees 60,000/h × t/72h.
	cases := []struct {
		name   string
		minReq float64
		ratio  float64
		at     time.Duration
		fires  bool
	}{
		{"guard met from the first evaluation", 400, 0.5, 90 * time.Minute, true},
		{"held too short", 400, 0.5, 60 * time.Minute, false},
		// 60,000 × 1h/72h = 833 ≥ 800 from 1h on: pending at 1h, fires at 2h.
		{"guard met from 1h, 90m too early", 800, 0.5, 90 * time.Minute, false},
		{"guard met from 1h, fires at 2h", 800, 0.5, 2 * time.Hour, true},
		{"ratio at the threshold", 400, 0.01, 4 * time.Hour, false},
		{"other endpoint", 0, 0.5, 4 * time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := "/a"
			if c.name == "other endpoint" {
				e = "/b"
			}
			got := expectBurn(rule(c.minReq), e, "GET", c.ratio, 1000, c.at)
			require.Equal(t, c.fires, len(got) == 1, "%v", got)
		})
	}
}
