package rules

import (
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// PrometheusRule returns the rules as a prometheus-operator PrometheusRule
// resource named after the gateway (no namespace: apply it with -n).
func (s *Set) PrometheusRule() *monitoringv1.PrometheusRule {
	pr := &monitoringv1.PrometheusRule{
		TypeMeta: metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: metav1.ObjectMeta{
			Name: resourceName(s.Gateway),
			Labels: map[string]string{
				"app.kubernetes.io/name":       "gatewatch",
				"app.kubernetes.io/managed-by": "gatewatch",
				"app.kubernetes.io/instance":   resourceName(s.Gateway),
			},
		},
	}
	for _, g := range s.Rules.Groups {
		rg := monitoringv1.RuleGroup{Name: g.Name}
		for _, r := range g.Rules {
			mr := monitoringv1.Rule{
				Record:      r.Record,
				Alert:       r.Alert,
				Expr:        intstr.FromString(r.Expr),
				Labels:      r.Labels,
				Annotations: r.Annotations,
			}
			if r.For != "" {
				d := monitoringv1.Duration(r.For)
				mr.For = &d
			}
			rg.Rules = append(rg.Rules, mr)
		}
		pr.Spec.Groups = append(pr.Spec.Groups, rg)
	}
	return pr
}

// PrometheusRuleYAML returns prometheusrule.yaml.
func (s *Set) PrometheusRuleYAML() ([]byte, error) {
	b, err := yaml.Marshal(s.PrometheusRule())
	if err != nil {
		return nil, fmt.Errorf("writing PrometheusRule: %w", err)
	}
	return b, nil
}

// resourceName makes a Kubernetes object name (DNS subdomain) for the
// gateway's rules: "gatewatch-" and the dashboard uid's slug and hash.
func resourceName(gateway string) string {
	return "gatewatch-" + strings.TrimPrefix(DashboardUID(gateway), "gw-")
}
