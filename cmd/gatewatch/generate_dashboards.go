package main

import (
	"github.com/alecthomas/kingpin/v2"
)

func init() {
	register(func(app *kingpin.Application) {
		generateCommand(app, "dashboards", "Grafana dashboards (overview, endpoint, sidecar, probes) as JSON under "+"dashboards/"+", and Grafana provisioning files for them and a Prometheus datasource under provisioning/.",
			func(in *inputs) ([]outFile, error) { return dashboardsFiles(in, "") })
	})
}
