#!/bin/sh
# Imports the shipper's Kibana saved objects (the data view and saved
# searches `gatewatch generate all` wrote into elasticsearch/) once Kibana
# is up. The sidecar installs the index templates and ILM policies itself
# (shipper.bootstrap). Safe to run again: objects are overwritten.
set -eu
kibana=${KIBANA_URL:-http://kibana:5601}
file=/setup/generated/kibana-saved-objects.ndjson
for i in $(seq 1 60); do
  curl -fs "$kibana/api/status" >/dev/null && break
  echo "waiting for Kibana ($i)"; sleep 5
done
curl -fsS -X POST "$kibana/api/saved_objects/_import?overwrite=true" \
  -H 'kbn-xsrf: true' --form "file=@$file"
echo
echo "imported $file"
