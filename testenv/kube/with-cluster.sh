#!/usr/bin/env bash
# with-cluster.sh CMD... -- build the test binaries if their versions changed, start a
# loopback-only control plane (etcd, kube-apiserver, kube-scheduler, kube-controller-manager,
# KWOK, toxiproxy), a Pyroscope server and a PostgreSQL, run CMD with KUBECONFIG,
# TOXIPROXY_API, PYROSCOPE_URL, VIGIL_TEST_POSTGRES and PROMTOOL (testenv/prometheus/promtool.sh) exported,
# VIGIL_CHROMIUM and VIGIL_PLAYWRIGHT (the web console's browser tests, testenv/browser/setup.sh),
# and always stop the cluster afterwards.   e.g.  testenv/kube/with-cluster.sh go test ./...
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The browser first: its install needs no cluster, and fails fast.
BROWSER_ENV="$("$HERE/../browser/setup.sh")"
eval "$BROWSER_ENV"
export STATE_DIR="$(realpath -m "${STATE_DIR:-$(mktemp -d /tmp/vigil-kube.XXXXXX)}")"
"$HERE/setup.sh"
PROMTOOL="$("$HERE/../prometheus/promtool.sh")"
export PROMTOOL
trap '"$HERE/cluster-down.sh"; rm -rf "$STATE_DIR"' EXIT
KUBECONFIG="$("$HERE/cluster-up.sh")" || { tail -n 30 "$STATE_DIR"/logs/*.log; exit 1; }
export KUBECONFIG TOXIPROXY_API="127.0.0.1:${TOXIPROXY_PORT:-8474}"
PYROSCOPE_URL="$("$HERE/../pyroscope/up.sh")" || exit 1
export PYROSCOPE_URL
VIGIL_TEST_POSTGRES="$("$HERE/../postgres/up.sh")" || exit 1
export VIGIL_TEST_POSTGRES
"$@"
