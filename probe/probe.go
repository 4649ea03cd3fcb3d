// Package probe derives the external checks of a gateway from its contract
// and gatewatch.yaml, and writes them for the probers: blackbox_exporter
// modules, the Prometheus scrape jobs (the blackbox job relabelled to
// __param_target, and the job that scrapes `gatewatch probe`), and
// prometheus-operator Probe objects. The same target list feeds `gatewatch
// probe` (package prober).
//
// Everything here is a pure function of its inputs: the same contract and
// configuration give byte-identical files.
package probe

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
)

// Target is one check: an HTTP call and what its answer must be.
type Target struct {
	// Name is the check label's value.
	Name string
	// URL is absolute.
	URL    string
	Method string
	// Headers are sent with the request; the map is not shared with the
	// configuration.
	Headers map[string]string
	// ExpectStatus lists the accepted codes; empty means any 2xx.
	ExpectStatus []int
	// ExpectBody is a regular expression the body must match; "" for none.
	ExpectBody string
	// Timeout of one probe.
	Timeout time.Duration
	// Endpoint is the contract endpoint the target calls ("" when it comes
	// from gatewatch.yaml alone).
	Endpoint string
}

// HealthPath is KrakenD's built-in health endpoint.
const HealthPath = "/__health"

// HealthCheck is the check name of the gateway's own health endpoint.
const HealthCheck = "gateway-health"

// Targets returns the checks of the gateway: from the contract (GET
// endpoints without path parameters and without authentication that are
// public, and KrakenD's health endpoint) when probe.base_url is set, then
// those of gatewatch.yaml, which replace a derived check of the same name.
// Notes say what could not be derived. c may be nil.
func Targets(c *contract.Contract, cfg *config.Config) ([]Target, []string) {
	p := &cfg.Probe
	var out []Target
	var notes []string
	index := map[string]int{}
	add := func(t Target) {
		if i, ok := index[t.Name]; ok {
			out[i] = t
			return
		}
		index[t.Name] = len(out)
		out = append(out, t)
	}
	if c != nil {
		derived := contractTargets(c, p)
		switch {
		case len(derived) > 0 && p.BaseURL == "":
			notes = append(notes, fmt.Sprintf("the contract offers %d probe targets, but probe.base_url (the gateway's public URL) is not set in gatewatch.yaml; only probe.targets are written", len(derived)))
		case p.BaseURL != "":
			for _, t := range derived {
				add(t)
			}
		}
	}
	for _, ct := range p.Targets {
		t := Target{
			Name:         ct.Name,
			URL:          resolve(p.BaseURL, ct.URL),
			Method:       ct.Method,
			ExpectStatus: slices.Clone([]int(ct.ExpectStatus)),
			ExpectBody:   ct.ExpectBody,
			Timeout:      ct.Timeout.Std(),
		}
		if len(ct.Headers) > 0 {
			t.Headers = map[string]string{}
			for k, v := range ct.Headers {
				t.Headers[k] = v
			}
		}
		if t.Timeout == 0 {
			t.Timeout = p.Timeout.Std()
		}
		add(t)
	}
	return out, notes
}

// contractTargets lists the checks the contract offers, with their URLs
// relative to base_url.
func contractTargets(c *contract.Contract, p *config.ProbeConfig) []Target {
	var out []Target
	seen := map[string]bool{}
	if c.Gateway == contract.KrakenD {
		out = append(out, Target{Name: HealthCheck, URL: resolve(p.BaseURL, HealthPath), Method: "GET", Timeout: p.Timeout.Std()})
		seen[HealthCheck] = true
	}
	for _, ep := range c.Endpoints {
		if !probeable(&ep) {
			continue
		}
		name := CheckName(ep.Path)
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, Target{Name: name, URL: resolve(p.BaseURL, ep.Path), Method: "GET", Timeout: p.Timeout.Std(), Endpoint: ep.Name})
	}
	return out
}

// probeable: a public GET endpoint at one fixed path, without parameters
// or authentication, that does not depend on request headers or a host.
func probeable(ep *contract.Endpoint) bool {
	if !ep.Public || ep.Auth.Required || len(ep.Params) > 0 || ep.Match != contract.MatchExact ||
		len(ep.Headers) > 0 || len(ep.Hosts) > 0 || !strings.HasPrefix(ep.Path, "/") || strings.ContainsAny(ep.Path, "{}*") {
		return false
	}
	return len(ep.Methods) == 0 || slices.ContainsFunc(ep.Methods, func(m string) bool { return strings.EqualFold(m, "GET") })
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// CheckName turns a path into a check name: "/v1/catalog/products" gives
// "v1-catalog-products"; "/" gives "root".
func CheckName(path string) string {
	n := strings.Trim(nonName.ReplaceAllString(path, "-"), "-_.")
	if n == "" {
		return "root"
	}
	return n
}

func resolve(base, u string) string {
	if base == "" || !strings.HasPrefix(u, "/") {
		return u
	}
	b, err := url.Parse(base)
	if err != nil {
		return u
	}
	ref, err := url.Parse(u)
	if err != nil {
		return u
	}
	ref.Path = strings.TrimSuffix(b.Path, "/") + ref.Path
	ref.RawPath = ""
	ref.Scheme, ref.Host = b.Scheme, b.Host
	return ref.String()
}

// DedupKey is the PagerDuty dedup key of a check: the same from every
// prober instance, so that probers in several places open one incident.
func DedupKey(gateway, check string) string {
	k := "gatewatch/probe/" + gateway + "/" + check
	if len(k) <= 255 {
		return k
	}
	h := sha256.Sum256([]byte(gateway + "\x00" + check))
	return "gatewatch/probe/" + hex.EncodeToString(h[:])
}
