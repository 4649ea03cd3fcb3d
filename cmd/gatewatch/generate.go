package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/alerting"
	"github.com/gatewatch/gatewatch/canary"
	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/rules"
)

// Files written by gatewatch generate.
const (
	rulesFile          = rules.RulesFileName
	rulesTestFile      = "rules_test.yml"
	prometheusRuleFile = "prometheusrule.yaml"
	scrapeFile         = rules.ScrapeFileName
	alertmanagerFile   = "alertmanager.yml"
)

func init() {
	register(func(app *kingpin.Application) {
		cmd := app.Command("generate", "Generate monitoring artifacts from the contract and gatewatch.yaml.")
		var in inputs
		sub := func(name, help string, what ...string) {
			c := cmd.Command(name, help)
			in.flags(c)
			dir := outputDir(c)
			var strict bool
			c.Flag("strict", "Owner and SLO patterns of gatewatch.yaml that match no endpoint are errors: nothing is written, exit status 1.").BoolVar(&strict)
			c.HelpLong(help + "\n\n" + generateExitHelp)
			c.Action(func(*kingpin.ParseContext) error {
				if err := preflight(&in, strict); err != nil {
					return err
				}
				return generate(&in, dir(), what)
			})
		}
		sub("rules", "Prometheus rules ("+rulesFile+"), their promtool unit tests ("+rulesTestFile+"), a PrometheusRule ("+prometheusRuleFile+") and the scrape job that sets the labels they select ("+scrapeFile+").", "rules")
		sub("alertmanager", "Alertmanager configuration routing alerts to PagerDuty ("+alertmanagerFile+").", "alertmanager")
		sub("canary", "Canary checks: Flagger MetricTemplates with a Canary analysis snippet, and an Argo Rollouts AnalysisTemplate ("+canary.FlaggerTemplatesFile+", "+canary.FlaggerAnalysisFile+", "+canary.ArgoTemplateFile+").", "canary")
		sub("all", "Everything the other generate commands write, each in its place: rules, alertmanager, canary, elasticsearch, dashboards, kubernetes, probes.", "rules", "alertmanager", "canary", "elasticsearch", "dashboards", "kubernetes", "probes")
	})
}

// generateExitHelp is the exit status part of every generate command's help.
const generateExitHelp = "Exit status: 0 files written, 1 with --strict, patterns of gatewatch.yaml that match no endpoint (nothing written), 2 the command could not do its job (bad arguments, unreadable or invalid input)."

// outFile is a file to write: its name (relative to the output
// directory), content, and a note printed after its path.
type outFile struct {
	name, note string
	content    []byte
}

func generate(in *inputs, dir string, what []string) error {
	var (
		cfg     *config.Config
		gateway string // the contract's name, when one was loaded
		files   []outFile
	)
	add := func(name string, b []byte, err error) error {
		if err != nil {
			return err
		}
		files = append(files, outFile{name: name, content: b})
		return nil
	}
	for _, w := range what {
		switch w {
		case "rules":
			c, ct, err := in.load()
			if err != nil {
				return err
			}
			cfg, gateway = c, ct.Name
			s, err := rules.Generate(ct, cfg)
			if err != nil {
				return fmt.Errorf("generating rules: %w", err)
			}
			for _, n := range s.Notes {
				fmt.Fprintf(stderr, "gatewatch: note: %s\n", n)
			}
			b, err := s.RulesYAML()
			if err := add(rulesFile, b, err); err != nil {
				return err
			}
			b, err = s.TestsYAML()
			if err := add(rulesTestFile, b, err); err != nil {
				return err
			}
			b, err = s.PrometheusRuleYAML()
			if err := add(prometheusRuleFile, b, err); err != nil {
				return err
			}
			b, err = s.ScrapeYAML()
			if err := add(scrapeFile, b, err); err != nil {
				return err
			}
		case "alertmanager":
			if cfg == nil {
				c, err := generateConfig(in)
				if err != nil {
					return err
				}
				cfg = c
			}
			am, err := alerting.Alertmanager(cfg)
			if err != nil {
				return fmt.Errorf("generating %s: %w", alertmanagerFile, err)
			}
			b, err := am.YAML()
			if err := add(alertmanagerFile, b, err); err != nil {
				return err
			}
		case "dashboards":
			ds, err := dashboardsFiles(in, grafanaDir)
			if err != nil {
				return err
			}
			files = append(files, ds...)
		case "canary":
			c, ct, err := in.load()
			if err != nil {
				return err
			}
			cfg = c
			cf, err := canary.GenerateChecks(rules.GatewayName(ct, c), ct, c)
			if err != nil {
				return fmt.Errorf("generating canary checks: %w", err)
			}
			for _, f := range cf {
				files = append(files, outFile{name: f.Name, content: f.Content})
			}
		case "elasticsearch":
			if cfg == nil {
				c, err := generateConfig(in)
				if err != nil {
					return err
				}
				cfg = c
			}
			// The gateway's name as the shipper stamps it on documents:
			// gateway.name, else the contract's.
			if cfg.Gateway.Name != "" || gateway == "" {
				gateway = cfg.Gateway.Name
			}
			es, err := elasticsearchFiles(cfg, gateway, elasticsearchDir)
			if err != nil {
				return fmt.Errorf("generating Elasticsearch templates: %w", err)
			}
			files = append(files, es...)
		case "kubernetes":
			k, err := kubernetesFiles(in, kubernetesDir)
			if err != nil {
				return err
			}
			files = append(files, k...)
		case "probes":
			pf, err := generateProbes(in, cfg)
			if err != nil {
				return err
			}
			files = append(files, pf...)
		}
	}
	return writeFiles(dir, files)
}

// writeFiles writes files under dir, creating the directories they need,
// and prints each path with its note.
func writeFiles(dir string, files []outFile) error {
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("creating output directory: %w", err)
		}
		if err := os.WriteFile(path, f.content, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if f.note != "" {
			fmt.Fprintf(stdout, "wrote %s\t(%s)\n", path, f.note)
		} else {
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
	}
	return nil
}

// generateConfig reads gatewatch.yaml alone (or the defaults): alertmanager.yml
// needs no contract.
func generateConfig(in *inputs) (*config.Config, error) {
	if in.configFile == "" {
		return config.Default(), nil
	}
	return config.LoadFile(in.configFile)
}
