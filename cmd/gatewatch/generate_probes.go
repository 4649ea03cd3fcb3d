package main

import (
	"fmt"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/probe"
	"github.com/gatewatch/gatewatch/rules"
)

// probesDir is where `gatewatch generate all` puts what `gatewatch
// generate probes` writes.
const probesDir = "probes"

// probeAddresses are where Prometheus reaches the probers; `generate
// probes` sets them from its flags, `generate all` keeps the defaults.
var probeAddresses probe.Options

func init() {
	register(func(app *kingpin.Application) {
		cmd := generateCommand(app, "probes", "External checks: blackbox_exporter modules ("+probe.BlackboxFile+"), the Prometheus scrape jobs of blackbox_exporter and of gatewatch probe ("+probe.ScrapeFile+"), and prometheus-operator Probe objects ("+probe.ProbesFile+").",
			func(in *inputs) ([]outFile, error) {
				cfg, c, err := probeInputs(in)
				if err != nil {
					return nil, err
				}
				return probeFiles(cfg, c, "")
			})
		cmd.Flag("blackbox-address", "host:port at which Prometheus reaches blackbox_exporter.").Default(probe.DefaultBlackboxAddress).StringVar(&probeAddresses.BlackboxAddress)
		cmd.Flag("prober-address", "host:port at which Prometheus reaches gatewatch probe's /metrics.").Default(probe.DefaultProberAddress).StringVar(&probeAddresses.ProberAddress)
	})
}

// probeFiles returns the probe artifacts under dir ("" for the output
// directory itself). c may be nil: then only probe.targets are written.
func probeFiles(cfg *config.Config, c *contract.Contract, dir string) ([]outFile, error) {
	gateway := cfg.Gateway.Name
	if c != nil {
		gateway = rules.GatewayName(c, cfg)
	}
	if gateway == "" {
		gateway = rules.GatewayName(&contract.Contract{}, cfg)
	}
	targets, notes := probe.Targets(c, cfg)
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	o := probeAddresses
	o.Gateway, o.Interval = gateway, cfg.Probe.Interval.Std()
	s := probe.New(targets, o)
	var files []outFile
	for _, f := range []struct {
		name, note string
		gen        func() ([]byte, error)
	}{
		{probe.BlackboxFile, fmt.Sprintf("%d checks", len(targets)), s.BlackboxYAML},
		{probe.ScrapeFile, "", s.ScrapeYAML},
		{probe.ProbesFile, "", s.ProbesYAML},
	} {
		b, err := f.gen()
		if err != nil {
			return nil, fmt.Errorf("generating %s: %w", f.name, err)
		}
		name := f.name
		if dir != "" {
			name = dir + "/" + name
		}
		files = append(files, outFile{name: name, note: f.note, content: b})
	}
	return files, nil
}

// generateProbes is `generate all`'s probes step: cfg is what an earlier
// step read (nil when none did).
func generateProbes(in *inputs, cfg *config.Config) ([]outFile, error) {
	c, ct, err := probeInputs(in)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = c
	}
	return probeFiles(cfg, ct, probesDir)
}
