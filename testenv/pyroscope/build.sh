#!/usr/bin/env bash
# build.sh VERSION DEST_DIR -- build a real Grafana Pyroscope server from the Go module proxy
# into DEST_DIR/pyroscope. `go install github.com/grafana/pyroscope/cmd/pyroscope@VERSION`
# cannot work (its go.mod has replace directives, which are not inherited), so the build goes
# through a small wrapper module that requires it, copies upstream's replace lines, and seeds
# go.sum from upstream's (the checksum database has no entry for one of its dskit pseudo-versions).
# Measured here: 4.5 min on 2 cores with part of its modules already downloaded; a fully cold
# build takes longer. Called by testenv/kube/setup.sh, which skips it when the stamp matches.
set -euo pipefail
VERSION="${1:?version, e.g. v1.21.1}"; DEST="$(realpath -m "${2:?destination dir}")"
API_VERSION="${PYROSCOPE_API_VERSION:-v1.5.0}" # == ./api at tag v1.21.1 (only go.mod differs)
W="$(mktemp -d "${TMPDIR:-/tmp}/pyroscope-wrap.XXXXXX")"
trap 'rm -rf "$W"' EXIT
cd "$W"
cat > go.mod <<MOD
module vigil.test/pyroscopewrap

go 1.25.7

require (
	github.com/grafana/pyroscope ${VERSION}
	github.com/grafana/pyroscope/api ${API_VERSION}
)

// copied from pyroscope ${VERSION}'s go.mod (replace directives are not inherited)
replace (
	github.com/hashicorp/memberlist => github.com/grafana/memberlist v0.3.1-0.20251126142931-6f9f62ab6f86
	gopkg.in/yaml.v3 => github.com/colega/go-yaml-yaml v0.0.0-20220720105220-255a8d16d094
)
MOD
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/grafana/pyroscope/cmd/pyroscope"\n' > tools.go
go mod download "github.com/grafana/pyroscope@${VERSION}"
cp "$(go env GOMODCACHE)/github.com/grafana/pyroscope@${VERSION}/go.sum" go.sum && chmod u+w go.sum
go mod tidy
mkdir -p "$DEST"
go build -trimpath -ldflags "-s -w -X github.com/grafana/pyroscope/pkg/util/build.Version=${VERSION#v}" \
  -o "$DEST/pyroscope.tmp" github.com/grafana/pyroscope/cmd/pyroscope
mv "$DEST/pyroscope.tmp" "$DEST/pyroscope"
