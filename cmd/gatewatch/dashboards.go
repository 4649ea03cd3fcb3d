package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"

	"github.com/alecthomas/kingpin/v2"
	"gopkg.in/yaml.v3"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/dashboards"
	"github.com/gatewatch/gatewatch/shipper"
)

// grafanaDir is where `gatewatch generate all` puts what `gatewatch
// generate dashboards` writes.
const grafanaDir = "grafana"

// defaultTokenEnv is the environment variable `dashboards push` reads the
// token from when neither a flag nor gatewatch.yaml names a source.
const defaultTokenEnv = "GATEWATCH_GRAFANA_TOKEN"

func init() {
	register(func(app *kingpin.Application) {
		cmd := app.Command("dashboards", "Grafana dashboards: push them to a Grafana.")
		var (
			in                 inputs
			grafanaURL         string
			tokenFile          string
			tokenEnv           string
			dryRun             bool
			message, outFormat string
		)
		push := cmd.Command("push", "Create or update the gateway's dashboards in Grafana through its HTTP API, in the folder grafana.folder (created if missing). Pushing unchanged dashboards writes nothing.")
		in.flags(push)
		push.Flag("grafana-url", "Grafana's base URL (default: grafana.url of gatewatch.yaml).").StringVar(&grafanaURL)
		push.Flag("token-file", "File holding a Grafana service-account token (Editor role).").StringVar(&tokenFile)
		push.Flag("token-env", "Environment variable holding the token (default: grafana.token of gatewatch.yaml, else "+defaultTokenEnv+").").StringVar(&tokenEnv)
		push.Flag("dry-run", "Read what Grafana has and say what would change, without writing.").BoolVar(&dryRun)
		push.Flag("message", "Version message Grafana keeps with each change.").Default("gatewatch dashboards push").StringVar(&message)
		push.Flag("output", "Output format: text, json or yaml.").Short('o').Default("text").EnumVar(&outFormat, "text", "json", "yaml")
		push.Action(func(*kingpin.ParseContext) error {
			cfg, s, err := generateDashboards(&in)
			if err != nil {
				return err
			}
			if grafanaURL == "" {
				grafanaURL = cfg.Grafana.URL
			}
			if grafanaURL == "" {
				return errors.New("no Grafana: pass --grafana-url URL, or set grafana.url in gatewatch.yaml")
			}
			token, err := pushToken(cfg, tokenFile, tokenEnv)
			if err != nil {
				return err
			}
			o := dashboards.PushOptions{URL: grafanaURL, Token: token, DryRun: dryRun, Message: message}
			if outFormat == "text" {
				o.Log = stdout
			}
			rs, err := dashboards.Push(context.Background(), s, o)
			if err != nil {
				return err
			}
			switch outFormat {
			case "json":
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rs)
			case "yaml":
				return yaml.NewEncoder(stdout).Encode(rs)
			}
			return nil
		})
	})
}

// pushToken reads the service-account token: --token-file, else
// --token-env, else grafana.token, else defaultTokenEnv.
func pushToken(cfg *config.Config, file, env string) (config.Secret, error) {
	ref := config.SecretRef{File: file, Env: env}
	where := "--token-file/--token-env"
	switch {
	case file != "" && env != "":
		return "", errors.New("pass at most one of --token-file and --token-env")
	case !ref.IsSet() && cfg.Grafana.Token.IsSet():
		ref, where = cfg.Grafana.Token, "grafana.token"
	case !ref.IsSet():
		ref, where = config.SecretRef{Env: defaultTokenEnv}, "the default "+defaultTokenEnv
	}
	t, err := ref.Read()
	if err != nil {
		return "", fmt.Errorf("reading the Grafana token (%s): %w; create a service-account token in Grafana (Administration > Service accounts) and pass it with --token-file or --token-env", where, err)
	}
	if t == "" {
		return "", fmt.Errorf("the Grafana token (%s) is empty", where)
	}
	return t, nil
}

// generateDashboards reads the inputs and generates the dashboards.
func generateDashboards(in *inputs) (*config.Config, *dashboards.Set, error) {
	cfg, ct, err := in.load()
	if err != nil {
		return nil, nil, err
	}
	s, err := dashboards.Generate(ct, cfg, dashboards.Options{KibanaSearch: shipper.SavedSearchID(&cfg.Shipper)})
	if err != nil {
		return nil, nil, fmt.Errorf("generating dashboards: %w", err)
	}
	return cfg, s, nil
}

// dashboardsFiles returns the dashboards and provisioning files named
// under dir ("" for none), each with a note on how to use it.
func dashboardsFiles(in *inputs, dir string) ([]outFile, error) {
	_, s, err := generateDashboards(in)
	if err != nil {
		return nil, err
	}
	fs, err := s.Files()
	if err != nil {
		return nil, err
	}
	out := make([]outFile, 0, len(fs))
	for _, f := range fs {
		note := "import in Grafana: Dashboards > New > Import, or gatewatch dashboards push"
		switch f.Name {
		case dashboards.DashboardsProvisionFile:
			note = "Grafana provisioning: mount " + path.Join(dir, dashboards.DashboardsDir) + "/ at " + dashboards.DefaultDashboardsPath
		case dashboards.DatasourceProvisionFile:
			note = "Grafana provisioning: the Prometheus datasource (uid " + dashboards.DatasourceUID + ")"
		}
		out = append(out, outFile{name: path.Join(dir, f.Name), content: f.Content, note: note})
	}
	return out, nil
}
