#!/usr/bin/env bash
# promtool.sh -- build Prometheus's promtool (the real rule engine: `promtool test rules`) from the
# Go module proxy into $BIN_DIR/promtool-$PROMTOOL_VERSION/promtool, reusing it when present, and
# print its path. Called by testenv/kube/setup.sh (build) and with-cluster.sh (PROMTOOL=...).
# Measured here: 15 min cold on 2 cores shared with other builds (load ~8), modules not yet downloaded
# (it compiles every service discovery client); reused afterwards at no cost.
# Env: BIN_DIR (default ~/.cache/vigil/testbin), PROMTOOL_VERSION (default v0.316.0).
set -euo pipefail
BIN_DIR="$(realpath -m "${BIN_DIR:-$HOME/.cache/vigil/testbin}")"
PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"
DEST="$BIN_DIR/promtool-$PROMTOOL_VERSION"
if [[ ! -x "$DEST/promtool" ]]; then
  mkdir -p "$DEST"
  gobin="$(mktemp -d)"
  trap 'rm -rf "$gobin"' EXIT
  GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$gobin" \
    go install -trimpath -ldflags "-s -w" "github.com/prometheus/prometheus/cmd/promtool@${PROMTOOL_VERSION}" >&2
  mv "$gobin/promtool" "$DEST/promtool"
fi
echo "$DEST/promtool"
