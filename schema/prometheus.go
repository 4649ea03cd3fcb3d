package schema

// Series and labels Prometheus itself writes, which dashboards read.
const (
	// PrometheusUp is the series Prometheus writes for every scrape
	// target: 1 when the last scrape succeeded. Generated scrape configs
	// set gateway on it.
	PrometheusUp = "up"
	// PrometheusAlerts is the series Prometheus writes for every pending
	// or firing alert, with the alert's labels.
	PrometheusAlerts = "ALERTS"
	// LabelAlertName is the alert's name on PrometheusAlerts.
	LabelAlertName = "alertname"
	// LabelAlertState is pending or firing on PrometheusAlerts.
	LabelAlertState = "alertstate"
	// LabelJob is the scrape job of a target.
	LabelJob = "job"
	// LabelInstance is the host:port of a scrape target.
	LabelInstance = "instance"
	// AlertStateFiring is the LabelAlertState of a firing alert.
	AlertStateFiring = "firing"
)
