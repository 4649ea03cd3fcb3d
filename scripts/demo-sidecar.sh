#!/usr/bin/env bash
# The sidecar part of the demo: traffic to the example contract's endpoints
# is written as KrakenD access-log lines, and the sidecar turns them into
# per-endpoint metrics. Usage: demo-sidecar.sh BIN EXAMPLES OUT
set -euo pipefail
bin=$1 ex=$2 out=$3
gen=bin/gen
listen=127.0.0.1:${DEMO_PORT:-19145}
log=$out/access.log
rm -rf "$out/state" "$log"

printf '\n\033[1m== The sidecar: access-log lines in, per-endpoint metrics out\033[0m\n'
echo "\$ bin/gen -contract $ex/krakend.json -format krakend -n 20000 -failing /v1/orders -out $log"
"$gen" -contract "$ex/krakend.json" -format krakend -n 20000 -failing /v1/orders -out "$log"
head -3 "$log"
echo "\$ $bin sidecar -c $ex/gatewatch.yaml --access-log $log --start beginning --listen $listen"
"$bin" sidecar -c "$ex/gatewatch.yaml" --access-log "$log" --access-log.format krakend \
  --start beginning --checkpoint-dir "$out/state" --listen "$listen" --log.format text >"$out/sidecar.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT

metrics=""
for _ in $(seq 1 50); do
  sleep 0.2
  metrics=$(curl -fsS "http://$listen/metrics" 2>/dev/null || true)
  total=$(printf '%s\n' "$metrics" | awk '/^gatewatch_sidecar_lines_read_total/ {s+=$NF} END {print s+0}')
  [ "$total" = 20000 ] && break
done
echo "\$ curl -s http://$listen/metrics | grep ..."
printf '%s\n' "$metrics" | grep -E '^gatewatch_(http_requests_total\{.*(code="503"|endpoint="unmatched")|contract_info|sidecar_lines_read_total)' | head -12
printf '%s\n' "$metrics" | awk '/^gatewatch_http_requests_total/ {s+=$NF} END {printf "sum(gatewatch_http_requests_total) = %d of 20000 lines\n", s}'
kill -TERM $pid
wait $pid || true
trap - EXIT
echo "(the sidecar stopped on SIGTERM and wrote its checkpoint to $out/state)"
