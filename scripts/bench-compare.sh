#!/usr/bin/env bash
# bench-compare.sh — gatewatch's metrics path against Debian's mtail on the
# same generated access log, and the sidecar's cost at a steady 1,000 lines
# per second.
#
# Usage: scripts/bench-compare.sh [path/to/gatewatch]
# Environment: LINES (default 1000000), FORMAT (envoy), RATE (1000),
# RATE_SECONDS (30), MTAIL (/usr/bin/mtail), KEEP=1 keeps the work folder.
#
# Both tools read the whole file once (gatewatch sidecar --once, mtail
# --one_shot) and keep the same metrics: requests by method, endpoint and
# status, and a latency histogram by method and endpoint. CPU time is user +
# system from /usr/bin/time. mtail's program is bench/mtail/gateway.mtail.
set -euo pipefail

cd "$(dirname "$0")/.."
GW=${1:-./bin/gatewatch}
LINES=${LINES:-1000000}
FORMAT=${FORMAT:-envoy}
RATE=${RATE:-1000}
RATE_SECONDS=${RATE_SECONDS:-30}
MTAIL=${MTAIL:-/usr/bin/mtail}
TIME=/usr/bin/time

[ -x "$GW" ] || { echo "bench-compare: $GW not found; run make build or pass the binary" >&2; exit 1; }
[ -x "$TIME" ] || { echo "bench-compare: $TIME (GNU time) is needed for CPU figures" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
cleanup() {
	[ -n "${SIDECAR_PID:-}" ] && kill "$SIDECAR_PID" 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "building the log generator"
go build -o "$WORK/gen" ./bench/gen

# A KrakenD contract with the endpoints loggen's paths belong to.
{
	echo '{"version": 3, "name": "bench", "endpoints": ['
	sep=""
	for res in users orders products carts payments invoices shipments; do
		for p in "/v1/$res" "/v1/$res/{id}" "/v1/$res/{id}/items/{item}" "/v2/$res/{uuid}"; do
			for m in GET POST PUT DELETE PATCH; do
				printf '%s{"endpoint": "%s", "method": "%s", "backend": [{"host": ["http://backend:8080"], "url_pattern": "/"}]}\n' "$sep" "$p" "$m"
				sep=","
			done
		done
	done
	echo ']}'
} >"$WORK/krakend.json"

echo "generating $LINES $FORMAT lines"
"$WORK/gen" -format "$FORMAT" -n "$LINES" -out "$WORK/access.log"
BYTES=$(stat -c %s "$WORK/access.log")
echo "log: $LINES lines, $BYTES bytes ($((BYTES / LINES)) bytes per line)"

# cpu FILE → "user+system seconds" and max RSS (KiB) written by /usr/bin/time.
cpu() { awk '{printf "%.2f %d\n", $1 + $2, $3}' "$1"; }

echo "gatewatch sidecar --once"
"$TIME" -o "$WORK/gw.time" -f '%U %S %M' "$GW" sidecar --contract "$WORK/krakend.json" \
	--access-log "$WORK/access.log" --access-log.format "$FORMAT" --start beginning \
	--checkpoint-dir "$WORK/ck" --once --log.level warn >"$WORK/gw.out"
cat "$WORK/gw.out"
read -r GW_CPU GW_RSS < <(cpu "$WORK/gw.time")

if [ -x "$MTAIL" ]; then
	echo "mtail --one_shot"
	"$TIME" -o "$WORK/mtail.time" -f '%U %S %M' "$MTAIL" --one_shot --one_shot_format prometheus \
		--logs "$WORK/access.log" --progs bench/mtail >"$WORK/mtail.out" 2>"$WORK/mtail.err"
	MT_COUNT=$(awk '/^gatewatch_http_requests_total\{/ {s += $NF} END {printf "%d", s}' "$WORK/mtail.out")
	echo "mtail counted $MT_COUNT requests"
	read -r MT_CPU MT_RSS < <(cpu "$WORK/mtail.time")
else
	echo "mtail not found at $MTAIL: comparison skipped"
	MT_CPU=""
fi

awk -v n="$LINES" -v g="$GW_CPU" -v gr="$GW_RSS" -v m="$MT_CPU" -v mr="${MT_RSS:-0}" 'BEGIN {
	printf "\n%-10s %10s %16s %12s\n", "tool", "cpu s", "lines/cpu-s", "max RSS MiB"
	printf "%-10s %10.2f %16.0f %12.1f\n", "gatewatch", g, n / g, gr / 1024
	if (m != "") {
		printf "%-10s %10.2f %16.0f %12.1f\n", "mtail", m, n / m, mr / 1024
		printf "ratio (gatewatch lines/cpu-s ÷ mtail lines/cpu-s): %.1fx\n", m / g
	}
}'

# Steady load: the sidecar following a file written at RATE lines/s.
echo
echo "sidecar at $RATE lines/s for ${RATE_SECONDS}s"
: >"$WORK/rate.log"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$GW" sidecar --contract "$WORK/krakend.json" --access-log "$WORK/rate.log" --access-log.format "$FORMAT" \
	--start beginning --checkpoint-dir "$WORK/ck-rate" --listen "127.0.0.1:$PORT" --log.level warn &
SIDECAR_PID=$!
sleep 1
TICK=$(getconf CLK_TCK)
stat_cpu() { awk '{print $14 + $15}' "/proc/$SIDECAR_PID/stat"; }
C0=$(stat_cpu)
T0=$(date +%s.%N)
"$WORK/gen" -format "$FORMAT" -rate "$RATE" -duration "${RATE_SECONDS}s" -out "$WORK/rate.log" -seed 2
sleep 1
C1=$(stat_cpu)
T1=$(date +%s.%N)
RSS=$(awk '/^VmRSS:/ {print $2}' "/proc/$SIDECAR_PID/status")
WRITTEN=$(wc -l <"$WORK/rate.log")
READ=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '/^gatewatch_sidecar_lines_read_total\{/ {s += $NF} END {printf "%d", s}')
kill -TERM "$SIDECAR_PID"
wait "$SIDECAR_PID" || true
SIDECAR_PID=""
awk -v c0="$C0" -v c1="$C1" -v t0="$T0" -v t1="$T1" -v tick="$TICK" -v rss="$RSS" -v w="$WRITTEN" -v r="$READ" 'BEGIN {
	printf "lines written %d, read %d\n", w, r
	printf "CPU %.2f%% of one core, RSS %.1f MiB\n", 100 * (c1 - c0) / tick / (t1 - t0), rss / 1024
}'
