package main

import (
	"github.com/alecthomas/kingpin/v2"
)

func init() {
	register(func(app *kingpin.Application) {
		// `generate` is registered by generate.go, whose file name sorts
		// first; create it if that ever changes.
		gen := app.GetCommand("generate")
		if gen == nil {
			gen = app.Command("generate", "Generate monitoring artifacts from the contract and gatewatch.yaml.")
		}
		var (
			in  inputs
			out string
		)
		cmd := gen.Command("dashboards", "Grafana dashboards (overview, endpoint, sidecar, probes) as JSON under "+"dashboards/"+", and Grafana provisioning files for them and a Prometheus datasource under provisioning/.")
		in.flags(cmd)
		cmd.Flag("output", "Directory to write the files to (created if missing).").Short('o').Default(".").StringVar(&out)
		cmd.Action(func(*kingpin.ParseContext) error {
			files, err := dashboardsFiles(&in, "")
			if err != nil {
				return err
			}
			return writeFiles(out, files)
		})
	})
}
