// Package canary judges a canary deployment against its baseline from
// Prometheus samples, the way Kayenta's NetflixACAJudge does (Mann-Whitney
// confidence intervals per metric, a weighted score over metric groups),
// removes a failed canary's target from a Kong upstream, and generates the
// same checks as Flagger MetricTemplates and Argo Rollouts
// AnalysisTemplates.
package canary
