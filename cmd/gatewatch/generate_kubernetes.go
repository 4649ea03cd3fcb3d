package main

import (
	"fmt"
	"path"

	"github.com/alecthomas/kingpin/v2"

	"github.com/gatewatch/gatewatch/deploy"
)

// kubernetesDir is where `gatewatch generate all` puts what `gatewatch
// generate kubernetes` writes.
const kubernetesDir = "kubernetes"

func init() {
	register(func(app *kingpin.Application) {
		// `generate` may be registered by generate.go before or after this
		// file: add to it, or create it.
		gen := app.GetCommand("generate")
		if gen == nil {
			gen = app.Command("generate", "Generate monitoring artifacts from the contract and gatewatch.yaml.")
		}
		var (
			in  inputs
			out string
		)
		cmd := gen.Command("kubernetes", "A kustomize component that adds the sidecar to the gateway's Deployment, with its Service, ServiceMonitor or PodMonitor, PodDisruptionBudget, PrometheusRule, and a HorizontalPodAutoscaler with prometheus-adapter rules or a KEDA ScaledObject (kubernetes.autoscaling.mode).")
		in.flags(cmd)
		cmd.Flag("output", "Directory to write the files to (created if missing).").Short('o').Default(".").StringVar(&out)
		cmd.Action(func(*kingpin.ParseContext) error {
			files, err := kubernetesFiles(&in, "")
			if err != nil {
				return err
			}
			return writeFiles(out, files)
		})
	})
}

// kubernetesFiles returns the Kubernetes folder for the contract and
// gatewatch.yaml of in, named under dir ("" for none).
func kubernetesFiles(in *inputs, dir string) ([]outFile, error) {
	cfg, c, err := in.load()
	if err != nil {
		return nil, err
	}
	fs, err := deploy.Kubernetes(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("generating Kubernetes manifests: %w", err)
	}
	files := make([]outFile, 0, len(fs))
	for _, f := range fs {
		note := ""
		switch f.Name {
		case deploy.KustomizationFile:
			note = "a kustomize component: list this folder under components: in the gateway's kustomization"
		case deploy.AdapterFile:
			note = "prometheus-adapter's rules, for the adapter's own configuration"
		}
		files = append(files, outFile{name: path.Join(dir, f.Name), content: f.Content, note: note})
	}
	return files, nil
}
