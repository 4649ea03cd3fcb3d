#!/usr/bin/env bash
# bench-compare-rules.sh — what the generated rules cost where they run:
# gatewatch's rules (availability and latency SLOs, with their recordings)
# against Sloth's (v0.16.0, availability only) for the same N endpoints,
# each set loaded into its own Debian Prometheus with the same series:
# HISTORY of backfilled history (promtool tsdb create-blocks-from
# openmetrics, so that the long windows read what they read in production)
# and LIVE seconds of live series from the real exporter.
#
# Usage: scripts/bench-compare-rules.sh [path/to/gatewatch]
# Environment: N (default 1000 endpoints), HISTORY (72h), STEP (1m, the
# history's sample interval), LIVE (180 seconds), EVAL (15s, scrape and
# rule evaluation interval), PROMETHEUS (/usr/bin/prometheus), PROMTOOL
# (/usr/bin/promtool), KEEP=1 keeps the work folder.
#
# Sloth is installed with go install into the work folder (never a
# dependency of gatewatch). Printed per set: rules, recorded series,
# samples recorded per evaluation (prometheus_rule_group_last_evaluation_samples)
# and rule evaluation time per cycle (sum over groups of
# prometheus_rule_group_last_duration_seconds, averaged over the last
# minute), then gatewatch / Sloth.
set -euo pipefail

cd "$(dirname "$0")/.."
GW=${1:-./bin/gatewatch}
N=${N:-1000}
HISTORY=${HISTORY:-72h}
STEP=${STEP:-1m}
LIVE=${LIVE:-180}
EVAL=${EVAL:-15s}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
SLOTH_VERSION=v0.16.0

[ -x "$GW" ] || { echo "bench-compare-rules: $GW not found; run make build or pass the binary" >&2; exit 2; }
for b in "$PROMETHEUS" "$PROMTOOL"; do
	[ -x "$b" ] || { echo "bench-compare-rules: $b not found; install Debian's prometheus package (2.42)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "bench-compare-rules: jq is needed to read the Prometheus API" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare-rules.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

echo "installing Sloth $SLOTH_VERSION into $WORK/bin"
GOBIN="$WORK/bin" go install "github.com/slok/sloth/cmd/sloth@$SLOTH_VERSION"
go build -o "$WORK/rulescost" ./bench/rulescost

echo "preparing $N endpoints, $HISTORY of history every $STEP"
"$WORK/rulescost" prepare -n "$N" -dir "$WORK" -history "$HISTORY" -step "$STEP"
printf 'gateway:\n  name: bench\n' >"$WORK/gatewatch.yaml"
"$GW" generate rules -c "$WORK/gatewatch.yaml" --contract "$WORK/kong.yaml" --output-dir "$WORK/gatewatch" >/dev/null 2>"$WORK/generate.log" ||
	{ cat "$WORK/generate.log" >&2; exit 1; }
mkdir -p "$WORK/sloth"
"$WORK/bin/sloth" generate -i "$WORK/sloth.yml" -o "$WORK/sloth/rules.yml" 2>"$WORK/sloth.log" ||
	{ cat "$WORK/sloth.log" >&2; exit 1; }
"$PROMTOOL" tsdb create-blocks-from openmetrics "$WORK/history.om" "$WORK/blocks" >/dev/null
rm -f "$WORK/history.om"

"$WORK/rulescost" serve -dir "$WORK" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$WORK/addr" ] && break; sleep 0.1; done
TARGET=$(cat "$WORK/addr")

declare -A URL
for set in gatewatch sloth; do
	d="$WORK/$set"
	port=$(freeport)
	mkdir -p "$d/data"
	cp -r "$WORK"/blocks/* "$d/data/"
	cat >"$d/prometheus.yml" <<EOF
global:
  scrape_interval: $EVAL
  evaluation_interval: $EVAL
rule_files: [rules.yml]
scrape_configs:
  - job_name: gatewatch
    honor_labels: true
    static_configs: [{targets: ["$TARGET"]}]
    relabel_configs: [{target_label: gateway, replacement: bench}]
  - job_name: prometheus
    static_configs: [{targets: ["127.0.0.1:$port"]}]
EOF
	"$PROMETHEUS" --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
		--storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$port" --log.level=warn \
		>"$d/prometheus.log" 2>&1 &
	PIDS+=($!)
	URL[$set]="http://127.0.0.1:$port"
done

echo "running both for ${LIVE}s"
sleep "$LIVE"

q() { curl -sf "$1/api/v1/query" --data-urlencode "query=$2" | jq -r '.data.result[0].value[1] // "0"'; }
declare -A RULES SERIES SAMPLES EVALS
for set in gatewatch sloth; do
	u=${URL[$set]}
	RULES[$set]=$(curl -sf "$u/api/v1/rules" | jq '[.data.groups[].rules | length] | add')
	SERIES[$set]=$(q "$u" 'count({__name__=~".+:.+"})')
	SAMPLES[$set]=$(q "$u" 'sum(prometheus_rule_group_last_evaluation_samples)')
	EVALS[$set]=$(q "$u" 'sum(avg_over_time(prometheus_rule_group_last_duration_seconds[1m]))')
done

echo
echo "N=$N endpoints, history $HISTORY every $STEP, live ${LIVE}s, evaluation every $EVAL"
printf '%-10s %8s %16s %18s %22s\n' set rules "recorded series" "samples per cycle" "evaluation s/cycle"
for set in gatewatch sloth; do
	printf '%-10s %8s %16s %18s %22.4f\n' "$set" "${RULES[$set]}" "${SERIES[$set]}" "${SAMPLES[$set]}" "${EVALS[$set]}"
done
awk -v g="${EVALS[gatewatch]}" -v s="${EVALS[sloth]}" -v gs="${SERIES[gatewatch]}" -v ss="${SERIES[sloth]}" -v n="$N" 'BEGIN {
	if (s > 0) printf "evaluation time gatewatch / Sloth: %.2f\n", g / s
	printf "recorded series per endpoint: gatewatch %.1f, Sloth %.1f\n", gs / n, ss / n
}'
