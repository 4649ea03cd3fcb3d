package main

import (
	"errors"
	"fmt"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/contract/krakend"
	"github.com/gatewatch/gatewatch/contract/loader"
)

// inputs are the flags every command that works on a contract shares:
// gatewatch.yaml, or a contract file alone with default settings.
type inputs struct {
	configFile   string
	contractFile string
	format       string

	// loaded caches load's answer: a command reads its inputs once.
	loaded *loadedInputs
}

type loadedInputs struct {
	cfg *config.Config
	ct  *contract.Contract
	err error
}

// flags registers -c/--config, --contract and --format on cmd.
func (in *inputs) flags(cmd *kingpin.CmdClause) {
	cmd.Flag("config", "Path of gatewatch.yaml.").Short('c').StringVar(&in.configFile)
	cmd.Flag("contract", "Path of the gateway contract (krakend.json, kong.yaml, envoy.yaml); overrides contract.path of gatewatch.yaml, or stands alone with default settings.").StringVar(&in.contractFile)
	cmd.Flag("format", "Contract format: auto, krakend, kong or envoy.").Default("").EnumVar(&in.format, append([]string{""}, loader.Formats...)...)
}

// load reads gatewatch.yaml (or the defaults) and the contract it names,
// once; later calls return the same values.
func (in *inputs) load() (*config.Config, *contract.Contract, error) {
	if in.loaded == nil {
		cfg, ct, err := in.read()
		in.loaded = &loadedInputs{cfg, ct, err}
	}
	return in.loaded.cfg, in.loaded.ct, in.loaded.err
}

func (in *inputs) read() (*config.Config, *contract.Contract, error) {
	cfg := config.Default()
	if in.configFile != "" {
		c, err := config.LoadFile(in.configFile)
		if err != nil {
			return nil, nil, err
		}
		cfg = c
	}
	if in.contractFile != "" {
		cfg.Contract.Path = in.contractFile
	}
	if in.format != "" {
		cfg.Contract.Format = in.format
	}
	if cfg.Contract.Path == "" {
		return nil, nil, errors.New("no contract: pass --contract FILE, or -c gatewatch.yaml with contract.path set")
	}
	c, err := loader.Load(cfg.Contract.Path, cfg.Contract.Format, loader.Options{KrakenD: krakend.Options{
		Settings:  cfg.Contract.Settings,
		Partials:  cfg.Contract.Partials,
		Templates: cfg.Contract.Templates,
	}})
	if err != nil {
		return nil, nil, err
	}
	if cfg.Gateway.Name != "" {
		c.Name = cfg.Gateway.Name
	}
	return cfg, c, nil
}

// loadContract reads a contract file alone, as the contract commands do.
func loadContract(path, format string, fc krakend.Options) (*contract.Contract, error) {
	c, err := loader.Load(path, format, loader.Options{KrakenD: fc})
	if err != nil {
		return nil, fmt.Errorf("loading contract: %w", err)
	}
	return c, nil
}
