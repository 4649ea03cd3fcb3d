package main

import (
	"fmt"
	"strings"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
)

// preflight reads the inputs of a generate command and tells on stderr
// what the user should know before the files are written: latency
// thresholds derived from a timeout the file never set (the gateway's
// default), and owner, SLO and lint patterns of gatewatch.yaml that match
// no endpoint. With strict the patterns are findings: nothing is written
// and the command exits 1. When the inputs do not load (the generator
// itself then says why), or there is no contract, there is nothing to
// tell.
func preflight(in *inputs, strict bool) error {
	if in.configFile == "" && in.contractFile == "" {
		return nil
	}
	cfg, c, err := in.load()
	if err != nil {
		return nil
	}
	noteDefaultTimeouts(cfg, c)
	if in.configFile == "" {
		return nil
	}
	ps := cfg.UnmatchedPatterns(c)
	level := "warning"
	if strict {
		level = "error"
	}
	for _, p := range ps {
		fmt.Fprintf(stderr, "gatewatch: %s: %s\n", level, p)
	}
	if strict && len(ps) > 0 {
		fmt.Fprintf(stderr, "gatewatch: --strict: %d pattern(s) of %s match no endpoint; nothing written\n", len(ps), cfg.File)
		return exitError{code: 1}
	}
	return nil
}

// noteDefaultTimeouts says, once per timeout, which endpoints get a latency
// threshold from a timeout the contract does not set (Kong's 60s, Envoy's
// 15s): a threshold nobody chose.
func noteDefaultTimeouts(cfg *config.Config, c *contract.Contract) {
	type group struct {
		n     int
		names []string
	}
	byTimeout := map[string]*group{}
	var order []string
	thresholds := map[string]string{}
	for i := range c.Endpoints {
		ep := &c.Endpoints[i]
		if !ep.TimeoutIsDefault || ep.Timeout <= 0 || !cfg.ThresholdFromTimeout(ep) {
			continue
		}
		k := contract.FormatDuration(ep.Timeout)
		g := byTimeout[k]
		if g == nil {
			g = &group{}
			byTimeout[k] = g
			order = append(order, k)
			thresholds[k] = contract.FormatDuration(cfg.SLOFor(ep).LatencyThreshold)
		}
		g.n++
		if len(g.names) < 3 {
			g.names = append(g.names, ep.Name)
		}
	}
	for _, k := range order {
		g := byTimeout[k]
		more := ""
		if g.n > len(g.names) {
			more = ", ..."
		}
		fmt.Fprintf(stderr, "gatewatch: note: %d endpoint(s) of %s set no timeout and get %s's default %s; their latency SLO threshold is half of it, %s (%s%s). Set a timeout in the contract or slo.latency.threshold in gatewatch.yaml to choose one.\n",
			g.n, c.Source, productName(c.Gateway), k, thresholds[k], strings.Join(g.names, ", "), more)
	}
}

// productName is how people write the gateway's name.
func productName(k contract.Kind) string {
	switch k {
	case contract.Kong:
		return "Kong"
	case contract.Envoy:
		return "Envoy"
	case contract.KrakenD:
		return "KrakenD"
	}
	return string(k)
}
