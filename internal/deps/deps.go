//go:build tools

// Package deps pins the modules the project is built on while packages are being written.
package deps

import (
	_ "github.com/alecthomas/kingpin/v2"
	_ "github.com/axiomhq/hyperloglog"
	_ "github.com/elastic/go-elasticsearch/v8"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/oklog/run"
	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	_ "github.com/prometheus/alertmanager/config"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "github.com/prometheus/common/model"
	_ "github.com/prometheus/prometheus/model/rulefmt"
	_ "github.com/prometheus/prometheus/promql/parser"
	_ "github.com/stretchr/testify/require"
	_ "gopkg.in/yaml.v3"
	_ "sigs.k8s.io/yaml"
)
