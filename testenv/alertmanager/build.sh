#!/usr/bin/env bash
# build.sh VERSION DEST_DIR -- build a real Prometheus Alertmanager from the Go module proxy into
# DEST_DIR/alertmanager, for the notification tests (scheduler/notify). `go install
# github.com/prometheus/alertmanager/cmd/alertmanager@VERSION` cannot work: its web UI is embedded
# from ui/app/dist, which upstream builds with npm and does not ship in the module. So the build
# copies the module's source, puts a one-line page where the UI would be (the tests use the API
# only), and builds cmd/alertmanager in it with upstream's go.mod and go.sum.
# Measured here: about 4 min on 2 cores with the module downloaded. Called by
# testenv/kube/setup.sh, which skips it when the stamp matches.
set -euo pipefail
VERSION="${1:?version, e.g. v0.35.0}"; DEST="$(realpath -m "${2:?destination dir}")"
W="$(mktemp -d "${TMPDIR:-/tmp}/alertmanager-src.XXXXXX")"
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
go mod download "github.com/prometheus/alertmanager@${VERSION}"
cp -r "$(go env GOMODCACHE)/github.com/prometheus/alertmanager@${VERSION}/." "$W/"
chmod -R u+w "$W"
for ui in elm mantine; do
  mkdir -p "$W/ui/app/dist/$ui"
  echo '<!doctype html><title>Alertmanager</title><p>UI not built (vigil test build: API only)' > "$W/ui/app/dist/$ui/index.html"
done
mkdir -p "$DEST"
(cd "$W" && go build -mod=mod -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION#v}" \
  -o "$DEST/alertmanager.tmp" ./cmd/alertmanager)
mv "$DEST/alertmanager.tmp" "$DEST/alertmanager"
