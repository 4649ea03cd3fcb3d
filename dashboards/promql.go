package dashboards

import (
	"strconv"
	"strings"

	"github.com/gatewatch/gatewatch/rules"
	"github.com/gatewatch/gatewatch/schema"
)

// Grafana's interval variables.
const (
	rateInterval = "$__rate_interval"
	rangeVar     = "$__range"
)

// eq writes label="value"; re writes label=~"value" (value is a regex or
// a Grafana variable Grafana turns into one).
func eq(label, value string) string { return label + "=" + strconv.Quote(value) }
func re(label, value string) string { return label + "=~" + strconv.Quote(value) }

// sel writes metric{matchers}.
func sel(metric string, matchers ...string) string {
	return metric + "{" + strings.Join(matchers, ", ") + "}"
}

func rate(selector, window string) string {
	return "rate(" + selector + "[" + window + "])"
}

func increase(selector, window string) string {
	return "increase(" + selector + "[" + window + "])"
}

// sumBy writes sum by (labels) (expr), or sum (expr) without labels.
func sumBy(expr string, labels ...string) string {
	return agg("sum", expr, labels...)
}

func agg(op, expr string, labels ...string) string {
	if len(labels) == 0 {
		return op + " (" + expr + ")"
	}
	return op + " by (" + strings.Join(labels, ", ") + ") (" + expr + ")"
}

// orZero makes an empty sum 0, so that a ratio of no errors is 0, not
// empty: sum(...) or (0 * total) keeps total's labels.
func orZero(part, total string) string {
	return "(" + part + " or 0 * " + total + ")"
}

// scope is the label matchers every query of a dashboard starts with.
type scope []string

func (s scope) with(ms ...string) scope {
	out := make(scope, 0, len(s)+len(ms))
	return append(append(out, s...), ms...)
}

func (s scope) of(metric string) string { return sel(metric, s...) }

// Names used in queries.
var (
	requests    = schema.RequestsTotal.Name
	buckets     = schema.RequestDuration.Name + schema.BucketSuffix
	upBuckets   = schema.UpstreamDuration.Name + schema.BucketSuffix
	serverError = re(schema.LabelCode, "5..")
	tooMany     = eq(schema.LabelCode, "429")
	availSLO    = eq(rules.LabelSLO, rules.SLOAvailability)
	latencySLO  = eq(rules.LabelSLO, rules.SLOLatency)
)

// errorRatio is the 5xx share of requests in s over window, by labels.
func errorRatio(s scope, window string, labels ...string) string {
	total := sumBy(rate(s.of(requests), window), labels...)
	return orZero(sumBy(rate(s.with(serverError).of(requests), window), labels...), total) + " / " + total
}

// periodErrorRatio is errorRatio over a long window with increase, which
// reads better for a whole SLO period.
func periodErrorRatio(s scope, window string, labels ...string) string {
	total := sumBy(increase(s.of(requests), window), labels...)
	return orZero(sumBy(increase(s.with(serverError).of(requests), window), labels...), total) + " / " + total
}

// quantile is the q latency quantile of the histogram named by bucket
// series b in s, by labels.
func quantile(q string, b string, s scope, labels ...string) string {
	return "histogram_quantile(" + q + ", " + sumBy(rate(s.of(b), rateInterval), append(labels, schema.LabelLE)...) + ")"
}

// legendOf writes a legend showing the values of labels.
func legendOf(labels ...string) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = "{{" + l + "}}"
	}
	return strings.Join(parts, " ")
}

// labelValues is a query variable's query: the values of label on the
// series s selects.
func labelValues(selector, label string) string {
	return "label_values(" + selector + ", " + label + ")"
}
