package live

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// promAlert is an alert as Prometheus' /api/v1/alerts lists it.
type promAlert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"` // pending or firing
	ActiveAt time.Time         `json:"activeAt"`
}

// key identifies an alert by its labels.
func (a promAlert) key() string {
	names := make([]string, 0, len(a.Labels))
	for n := range a.Labels {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "=" + strconv.Quote(a.Labels[n]) + ",")
	}
	return b.String()
}

// what writes an alert as the display shows it: name, endpoint, severity
// and SLO window where it has them.
func (a promAlert) what() string {
	s := a.Labels[model.AlertNameLabel]
	if m, e := a.Labels[schema.LabelMethod], a.Labels[schema.LabelEndpoint]; e != "" {
		s += "  " + strings.TrimSpace(m+" "+e)
	}
	if v := a.Labels[rules.LabelSeverity]; v != "" {
		s += "  severity=" + v
	}
	if v := a.Labels[rules.LabelSLO]; v != "" {
		s += "  slo=" + v
	}
	if v := a.Labels[rules.LabelWindow]; v != "" {
		s += "  window=" + v
	}
	return s
}

// promClient reads Prometheus' and Alertmanager's HTTP APIs.
type promClient struct {
	c            *http.Client
	prometheus   string // base URL
	alertmanager string // base URL; "" when not running
}

func (p *promClient) get(u string, v any) error {
	resp, err := p.c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// alerts returns the pending and firing alerts.
func (p *promClient) alerts() ([]promAlert, error) {
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := p.get(p.prometheus+"/api/v1/alerts", &r); err != nil {
		return nil, err
	}
	return r.Data.Alerts, nil
}

// errorRatios returns the recorded 5xx ratio over window w per endpoint
// and method: the SLI the availability alerts read.
func (p *promClient) errorRatios(w string) (map[epKey]float64, error) {
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := p.get(p.prometheus+"/api/v1/query?query="+url.QueryEscape(rules.ErrorRatio(w)), &r); err != nil {
		return nil, err
	}
	out := map[epKey]float64{}
	for _, s := range r.Data.Result {
		v, _ := s.Value[1].(string)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		out[epKey{s.Metric[schema.LabelEndpoint], s.Metric[schema.LabelMethod]}] = f
	}
	return out, nil
}

// ruleErrors counts the rules whose last evaluation failed.
func (p *promClient) ruleErrors() (int, string, error) {
	var r struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := p.get(p.prometheus+"/api/v1/rules", &r); err != nil {
		return 0, "", err
	}
	n, first := 0, ""
	for _, g := range r.Data.Groups {
		for _, rule := range g.Rules {
			if rule.Health == "err" {
				n++
				if first == "" {
					first = rule.Name + ": " + rule.LastError
				}
			}
		}
	}
	return n, first, nil
}

// amAlerts counts the alerts Alertmanager holds: active, and silenced or
// inhibited.
func (p *promClient) amAlerts() (active, suppressed int, err error) {
	var r []struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := p.get(p.alertmanager+"/api/v2/alerts", &r); err != nil {
		return 0, 0, err
	}
	for _, a := range r {
		if a.Status.State == "suppressed" {
			suppressed++
		} else {
			active++
		}
	}
	return active, suppressed, nil
}
