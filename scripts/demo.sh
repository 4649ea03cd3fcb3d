#!/usr/bin/env bash
# The main job on the bundled example: read the contract, audit it, and
# generate the monitoring stack from it. Usage: demo.sh BIN EXAMPLES OUT
set -euo pipefail
bin=${1:-bin/gatewatch}
ex=${2:-examples}
out=${3:-out/demo}
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }

step "The contract: every endpoint of the gateway" "$bin contract show $ex/krakend.json"
"$bin" contract show "$ex/krakend.json"

step "The audit a platform team runs in CI (exit 1 on error findings)" "$bin contract lint $ex/krakend.json"
"$bin" contract lint "$ex/krakend.json" || echo "(lint exited $?: findings of error severity)"

step "A breaking change caught before merge" "$bin contract diff $ex/krakend.json $ex/krakend-next.json"
"$bin" contract diff "$ex/krakend.json" "$ex/krakend-next.json" || echo "(diff exited $?: breaking changes)"

if "$bin" generate --help >/dev/null 2>&1; then
  step "Rules, promtool tests and Alertmanager routing from the contract" "$bin generate all -c $ex/gatewatch.yaml --output-dir $out"
  "$bin" generate all -c "$ex/gatewatch.yaml" --output-dir "$out"
  ls -l "$out"
  if command -v promtool >/dev/null; then
    step "Checked by the real tools" "promtool check rules && promtool test rules && amtool check-config"
    promtool check rules "$out/rules.yml"
    promtool test rules "$out/rules_test.yml"
    command -v amtool >/dev/null && amtool check-config "$out/alertmanager.yml"
  fi
fi
if [ -x scripts/demo-sidecar.sh ]; then
  scripts/demo-sidecar.sh "$bin" "$ex" "$out"
fi
printf '\nDone. Generated files are in %s\n' "$out"
