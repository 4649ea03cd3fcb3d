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
		generateCommand(app, "kubernetes", "A kustomize component that adds the sidecar to the gateway's Deployment, with its Service, ServiceMonitor or PodMonitor, PodDisruptionBudget, PrometheusRule, and a HorizontalPodAutoscaler with prometheus-adapter rules or a KEDA ScaledObject (kubernetes.autoscaling.mode).",
			func(in *inputs) ([]outFile, error) { return kubernetesFiles(in, "") })
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
