#!/usr/bin/env bash
# make demo: the bundled example, audited and then run for real until Ctrl-C
# (or for DEMO_SECONDS): a KrakenD engine in front of small backends, load,
# the sidecar, and where installed Prometheus and Alertmanager paging a
# PagerDuty stand-in (bin/gatewatch-demo, package demo/live).
# Usage: demo.sh BIN EXAMPLES OUT
set -euo pipefail
bin=${1:-bin/gatewatch}
ex=${2:-examples}
out=${3:-out/demo}

# Bold headings on a terminal only: no escape codes in pipes and CI logs.
if [ -t 1 ] && [ "${TERM:-dumb}" != dumb ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n$ %s\n' "$bold" "$1" "$plain" "$2"; }

step "The contract: every endpoint of the gateway" "$bin contract show $ex/krakend.json"
"$bin" contract show "$ex/krakend.json"

step "The audit a platform team runs in CI (exit 1 on findings)" "$bin contract lint $ex/krakend.json"
"$bin" contract lint "$ex/krakend.json" || echo "(lint exited $?: findings)"

step "A breaking change caught before merge" "$bin contract diff $ex/krakend.json $ex/krakend-next.json"
"$bin" contract diff "$ex/krakend.json" "$ex/krakend-next.json" || echo "(diff exited $?: breaking changes)"

step "The main job, live (Ctrl-C stops it${DEMO_SECONDS:+; DEMO_SECONDS=$DEMO_SECONDS})" \
  "bin/gatewatch-demo -gatewatch $bin -examples $ex -out $out"
exec bin/gatewatch-demo -gatewatch "$bin" -krakend bin/gatewatch-demo-krakend -examples "$ex" -out "$out"
