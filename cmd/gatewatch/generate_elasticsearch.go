package main

import (
	"path"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/shipper"
)

// elasticsearchDir is where `gatewatch generate all` puts what `gatewatch
// generate elasticsearch` writes.
const elasticsearchDir = "elasticsearch"

func init() {
	register(func(app *kingpin.Application) {
		gen := generateParent(app)
		var configFile string
		cmd := gen.Command("elasticsearch", "Elasticsearch ILM policies and index templates, and Kibana saved objects (a data view and saved searches) for the shipped access logs.")
		cmd.Flag("config", "Path of gatewatch.yaml.").Short('c').StringVar(&configFile)
		out := outputDir(cmd)
		cmd.Action(func(*kingpin.ParseContext) error {
			cfg := config.Default()
			if configFile != "" {
				c, err := config.LoadFile(configFile)
				if err != nil {
					return err
				}
				cfg = c
			}
			files, err := elasticsearchFiles(cfg, cfg.Gateway.Name, "")
			if err != nil {
				return err
			}
			return writeFiles(out(), files)
		})
	})
}

// elasticsearchFiles returns the Elasticsearch and Kibana artifacts of
// cfg's shipper section for gateway, named under dir ("" for none), each
// with the request that installs it.
func elasticsearchFiles(cfg *config.Config, gateway, dir string) ([]outFile, error) {
	arts, err := shipper.Templates(&cfg.Shipper, gateway)
	if err != nil {
		return nil, err
	}
	files := make([]outFile, 0, len(arts))
	for _, a := range arts {
		note := "import in Kibana: Stack Management > Saved objects"
		if a.Path != "" {
			note = "PUT " + a.Path
		}
		files = append(files, outFile{name: path.Join(dir, a.Name), content: a.Content, note: note})
	}
	return files, nil
}
