package canary

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/gatewatch/gatewatch/config"
	"github.com/gatewatch/gatewatch/contract"
	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// Files written by GenerateChecks, relative to the output directory.
const (
	FlaggerTemplatesFile = "canary/flagger-metrictemplates.yaml"
	FlaggerAnalysisFile  = "canary/flagger-canary-analysis.yaml"
	ArgoTemplateFile     = "canary/argo-analysistemplate.yaml"
)

// Check is one gateway-wide check of the canary track against a maximum.
type Check struct {
	// Name is the metric's name in Flagger and Argo Rollouts
	// (error-ratio, latency-p99).
	Name string
	// Max is the highest passing value: an error ratio, or seconds.
	Max float64
	// query writes the PromQL for a track selector and a rate range.
	query func(sel, rate string) string
}

// Checks returns the checks a canary of gateway must pass: its 5xx ratio
// under the largest error budget of the contract's endpoints, and its p99
// latency under their largest latency threshold (the canary's whole
// traffic must not be worse than even the most lenient endpoint's
// objective).
func Checks(ct *contract.Contract, cfg *config.Config) []Check {
	var budget float64
	var threshold time.Duration
	for i := range ct.Endpoints {
		s := cfg.SLOFor(&ct.Endpoints[i])
		if s.Disabled {
			continue
		}
		budget = max(budget, s.ErrorBudget)
		threshold = max(threshold, s.LatencyThreshold)
	}
	if threshold == 0 {
		threshold = config.DefaultLatencyThreshold(0)
	}
	if budget == 0 {
		budget = cfg.SLOFor(&contract.Endpoint{}).ErrorBudget
	}
	total := schema.RequestsTotal.Name
	return []Check{
		{
			Name: "error-ratio", Max: budget,
			// "or vector(0)": a canary without a single 5xx has no error
			// series, and Flagger and Argo count an empty result as a
			// failed check.
			query: func(sel, rate string) string {
				return fmt.Sprintf("(sum(rate(%s{%s, %s=~\"5..\"}[%s])) or vector(0)) / sum(rate(%s{%s}[%s]))",
					total, sel, schema.LabelCode, rate, total, sel, rate)
			},
		},
		{
			Name: "latency-p99", Max: threshold.Seconds(),
			query: func(sel, rate string) string {
				return fmt.Sprintf("histogram_quantile(0.99, sum by (%s) (rate(%s{%s}[%s])))",
					schema.LabelLE, schema.RequestDuration.Name+schema.BucketSuffix, sel, rate)
			},
		},
	}
}

type objectMeta struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

type metricTemplate struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		Provider struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"provider"`
		Query string `json:"query"`
	} `json:"spec"`
}

type flaggerMetric struct {
	Name        string `json:"name"`
	TemplateRef struct {
		Name string `json:"name"`
	} `json:"templateRef"`
	ThresholdRange struct {
		Max float64 `json:"max"`
	} `json:"thresholdRange"`
	Interval string `json:"interval"`
}

type flaggerAnalysis struct {
	Analysis struct {
		Interval   string          `json:"interval"`
		Threshold  int             `json:"threshold"`
		MaxWeight  int             `json:"maxWeight"`
		StepWeight int             `json:"stepWeight"`
		Metrics    []flaggerMetric `json:"metrics"`
	} `json:"analysis"`
}

type argoArg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type argoMetric struct {
	Name             string `json:"name"`
	Interval         string `json:"interval"`
	Count            int    `json:"count"`
	FailureLimit     int    `json:"failureLimit"`
	SuccessCondition string `json:"successCondition"`
	Provider         struct {
		Prometheus struct {
			Address string `json:"address"`
			Query   string `json:"query"`
		} `json:"prometheus"`
	} `json:"provider"`
}

type analysisTemplate struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       struct {
		Args    []argoArg    `json:"args"`
		Metrics []argoMetric `json:"metrics"`
	} `json:"spec"`
}

// GeneratedFile is a file GenerateChecks writes.
type GeneratedFile struct {
	Name    string
	Content []byte
}

// ResourceName names a gateway's canary objects: "gatewatch-", the
// dashboard uid's slug and hash, and the check.
func ResourceName(gateway, check string) string {
	return "gatewatch-" + strings.TrimPrefix(rules.DashboardUID(gateway), "gw-") + "-" + check
}

// GenerateChecks writes the checks of Checks as Flagger MetricTemplates
// with a Canary analysis snippet that uses them, and as an Argo Rollouts
// AnalysisTemplate. Queries select the gateway label and the canary
// section's track; Flagger fills {{ interval }}, Argo the track argument.
// The output is deterministic.
func GenerateChecks(gateway string, ct *contract.Contract, cfg *config.Config) ([]GeneratedFile, error) {
	c := cfg.Canary
	checks := Checks(ct, cfg)
	labels := map[string]string{
		"app.kubernetes.io/name":       "gatewatch",
		"app.kubernetes.io/managed-by": "gatewatch",
	}
	interval := flaggerDuration(c.Interval.Std())
	flaggerSel := schema.LabelGateway + "=" + strconv.Quote(gateway) + ", " + schema.LabelTrack + "=" + strconv.Quote(c.Track)
	var templates bytes.Buffer
	var fa flaggerAnalysis
	fa.Analysis.Interval = interval
	fa.Analysis.Threshold = c.FailureLimit
	fa.Analysis.MaxWeight = 50
	fa.Analysis.StepWeight = 10
	for i, ch := range checks {
		var mt metricTemplate
		mt.APIVersion, mt.Kind = "flagger.app/v1beta1", "MetricTemplate"
		mt.Metadata = objectMeta{Name: ResourceName(gateway, ch.Name), Labels: labels}
		mt.Spec.Provider.Type = "prometheus"
		mt.Spec.Provider.Address = c.PrometheusURL
		mt.Spec.Query = ch.query(flaggerSel, "{{ interval }}")
		b, err := yaml.Marshal(mt)
		if err != nil {
			return nil, fmt.Errorf("writing MetricTemplate %s: %w", ch.Name, err)
		}
		if i > 0 {
			templates.WriteString("---\n")
		}
		templates.Write(b)
		m := flaggerMetric{Name: ch.Name, Interval: interval}
		m.TemplateRef.Name = mt.Metadata.Name
		m.ThresholdRange.Max = ch.Max
		fa.Analysis.Metrics = append(fa.Analysis.Metrics, m)
	}
	analysis, err := yaml.Marshal(fa)
	if err != nil {
		return nil, fmt.Errorf("writing the Canary analysis: %w", err)
	}
	var at analysisTemplate
	at.APIVersion, at.Kind = "argoproj.io/v1alpha1", "AnalysisTemplate"
	at.Metadata = objectMeta{Name: ResourceName(gateway, "canary"), Labels: labels}
	at.Spec.Args = []argoArg{{Name: "track", Value: c.Track}}
	argoSel := schema.LabelGateway + "=" + strconv.Quote(gateway) + ", " + schema.LabelTrack + `="{{args.track}}"`
	for _, ch := range checks {
		m := argoMetric{
			Name: ch.Name, Interval: interval, Count: max(1, int(c.Window.Std()/c.Interval.Std())), FailureLimit: c.FailureLimit,
			// result[0] on an empty vector is an error; NaN fails the
			// comparison.
			SuccessCondition: "len(result) > 0 && result[0] <= " + strconv.FormatFloat(ch.Max, 'g', -1, 64),
		}
		m.Provider.Prometheus.Address = c.PrometheusURL
		m.Provider.Prometheus.Query = ch.query(argoSel, model.Duration(c.RateInterval).String())
		at.Spec.Metrics = append(at.Spec.Metrics, m)
	}
	argo, err := yaml.Marshal(at)
	if err != nil {
		return nil, fmt.Errorf("writing the AnalysisTemplate: %w", err)
	}
	return []GeneratedFile{
		{FlaggerTemplatesFile, templates.Bytes()},
		{FlaggerAnalysisFile, analysis},
		{ArgoTemplateFile, argo},
	}, nil
}

// flaggerDuration writes d as Flagger's schema wants it (^[0-9]+(m|s)):
// whole minutes as minutes, anything else as whole seconds.
func flaggerDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
}
