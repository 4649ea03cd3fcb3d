#!/bin/sh
# KrakenD Community Edition writes its access log to stdout only. Copy its
# stdout into the file the gatewatch sidecar reads, and still to stdout
# (docker logs): KrakenD writes into a FIFO that tee drains. exec leaves
# KrakenD as the process that receives SIGTERM; tee ends when it does.
set -eu
log=${ACCESS_LOG:-/var/log/gateway/access.log}
fifo=$(mktemp -u /tmp/krakend.XXXXXX)
mkfifo "$fifo"
tee -a "$log" < "$fifo" &
exec krakend run -c "${KRAKEND_CONFIG:-/etc/krakend/krakend.json}" > "$fifo" 2>&1
