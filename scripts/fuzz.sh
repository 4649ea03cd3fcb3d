#!/usr/bin/env bash
# Runs every Fuzz target of the module for a short time each.
#
# A target that fails without writing a failing input to
# testdata/fuzz/<target>/ hit Go's fuzzing coordinator race at the end of
# -fuzztime ("context deadline exceeded", golang/go#75804, fixed in Go
# 1.27), not a finding: it is run once more, and fails only if it fails
# again. A target that writes a failing input fails at once.
set -euo pipefail
t=${1:-15s}
inputs() { { find "$1/testdata/fuzz/$2" -type f 2>/dev/null || true; } | wc -l; }
go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r pkg dir; do
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | awk '{print $2}'); do
    for try in 1 2; do
      echo "== $pkg $f"
      before=$(inputs "$dir" "$f")
      if go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"; then
        break
      fi
      if [ "$(inputs "$dir" "$f")" != "$before" ] || [ "$try" = 2 ]; then
        echo "FAIL: $pkg $f" >&2
        exit 1
      fi
      echo "-- $f failed without a failing input (the coordinator's deadline race); once more"
    done
  done
done
