package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/shipper"
)

func init() {
	register(func(app *kingpin.Application) {
		// `generate` may be registered by generate.go before or after this
		// file: add to it, or create it.
		gen := app.GetCommand("generate")
		if gen == nil {
			gen = app.Command("generate", "Generate monitoring artifacts from the contract and gatewatch.yaml.")
		}
		var (
			configFile string
			out        string
		)
		cmd := gen.Command("elasticsearch", "Elasticsearch ILM policies and index templates, and Kibana saved objects (a data view and saved searches) for the shipped access logs.")
		cmd.Flag("config", "Path of gatewatch.yaml.").Short('c').StringVar(&configFile)
		cmd.Flag("output", "Directory to write the files to (created if missing).").Short('o').Default(".").StringVar(&out)
		cmd.Action(func(*kingpin.ParseContext) error {
			cfg := config.Default()
			if configFile != "" {
				c, err := config.LoadFile(configFile)
				if err != nil {
					return err
				}
				cfg = c
			}
			arts, err := shipper.Templates(&cfg.Shipper, cfg.Gateway.Name)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("creating output directory: %w", err)
			}
			for _, a := range arts {
				p := filepath.Join(out, a.Name)
				if err := os.WriteFile(p, a.Content, 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", p, err)
				}
				if a.Path != "" {
					fmt.Fprintf(stdout, "%s\t(PUT %s)\n", p, a.Path)
				} else {
					fmt.Fprintf(stdout, "%s\t(import in Kibana: Stack Management > Saved objects)\n", p)
				}
			}
			return nil
		})
	})
}
