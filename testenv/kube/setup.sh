#!/usr/bin/env bash
# setup.sh -- build every binary the real-apiserver tests need, from the Go module proxy only.
#   etcd/etcdctl (go.etcd.io/etcd/server/v3, etcdctl/v3)       -> $BIN_DIR/etcd, etcdctl
#   kube-apiserver, kube-scheduler[, kube-controller-manager]  -> $BIN_DIR/...
#   kwok (sigs.k8s.io/kwok/cmd/kwok)                            -> $BIN_DIR/kwok
#   toxiproxy server + cli (github.com/Shopify/toxiproxy/v2)    -> $BIN_DIR/toxiproxy-{server,cli}
#   pyroscope (github.com/grafana/pyroscope, wrapper module)    -> $BIN_DIR/pyroscope
#   promtool (github.com/prometheus/prometheus/cmd/promtool)    -> $BIN_DIR/promtool-$PROMTOOL_VERSION/promtool
#   alertmanager (github.com/prometheus/alertmanager, API only) -> $BIN_DIR/alertmanager
# Idempotent: a binary is rebuilt only when $BIN_DIR/.stamp-<name> doesn't name the wanted version
# (cache $BIN_DIR in CI and a warm run costs ~0 s).
# Env: BIN_DIR (default <script dir>/bin), K8S_VERSION, ETCD_VERSION, KWOK_VERSION,
#      TOXIPROXY_VERSION, PYROSCOPE_VERSION, PROMTOOL_VERSION, ALERTMANAGER_VERSION, WITH_KCM=1 (0 skips kube-controller-manager: ~2-3 min less cold build)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN_DIR="$(realpath -m "${BIN_DIR:-$HOME/.cache/vigil/testbin}")"
K8S_VERSION="${K8S_VERSION:-v1.37.2}"      # pairs with k8s.io/client-go v0.37.2
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-v2.12.0}"
PYROSCOPE_VERSION="${PYROSCOPE_VERSION:-v1.21.1}"
export PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}" BIN_DIR
ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.35.0}"
WITH_KCM="${WITH_KCM:-1}"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -modcacherw"
mkdir -p "$BIN_DIR"
LOG_DIR="${LOG_DIR:-$BIN_DIR/.logs}"; mkdir -p "$LOG_DIR"

step() { # step NAME VERSION CMD...  -- skip when stamp matches, log to $LOG_DIR/NAME.log
  local name="$1" ver="$2"; shift 2
  if [[ "$(cat "$BIN_DIR/.stamp-$name" 2>/dev/null)" == "$ver" ]]; then
    echo "[setup] $name $ver: up to date"; return 0
  fi
  local t0=$SECONDS
  if ! "$@" > "$LOG_DIR/$name.log" 2>&1; then
    echo "[setup] $name $ver: FAILED after $((SECONDS - t0))s; log: $LOG_DIR/$name.log"; tail -20 "$LOG_DIR/$name.log"; return 1
  fi
  echo "$ver" > "$BIN_DIR/.stamp-$name"
  echo "[setup] $name $ver: built in $((SECONDS - t0))s"
}
install_to() { # install_to DEST PKG@VER  (go install into a temp GOBIN, then rename)
  local dest="$1" pkg="$2" gobin; gobin="$(mktemp -d)"
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w" "$pkg"
  mv "$gobin"/* "$dest"; rmdir "$gobin"
}
build_toxiproxy() {
  install_to "$BIN_DIR/toxiproxy-server" "github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}"
  install_to "$BIN_DIR/toxiproxy-cli" "github.com/Shopify/toxiproxy/v2/cmd/cli@${TOXIPROXY_VERSION}"
}

K8S_COMPONENTS=(kube-apiserver kube-scheduler)
[[ "$WITH_KCM" == 1 ]] && K8S_COMPONENTS+=(kube-controller-manager)
# cluster-up.sh drives the cluster with kubectl; build one when the machine has none.
command -v kubectl >/dev/null 2>&1 || K8S_COMPONENTS+=(kubectl)
# gen-certs.sh needs openssl, cluster-up.sh curl: Debian packages, installed when missing.
for tool in openssl curl; do
  command -v "$tool" >/dev/null 2>&1 && continue
  echo "[setup] installing $tool (apt-get)"
  { apt-get update -qq && apt-get install -y -qq "$tool"; } >/dev/null
done
T0=$SECONDS
step etcd "$ETCD_VERSION" "$HERE/build-etcd.sh" "$ETCD_VERSION" "$BIN_DIR"
step k8s "$K8S_VERSION ${K8S_COMPONENTS[*]}" "$HERE/build-k8s.sh" "$K8S_VERSION" "$BIN_DIR" "${K8S_COMPONENTS[@]}"
step kwok "$KWOK_VERSION" install_to "$BIN_DIR/kwok" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
step toxiproxy "$TOXIPROXY_VERSION" build_toxiproxy
step pyroscope "$PYROSCOPE_VERSION" "$HERE/../pyroscope/build.sh" "$PYROSCOPE_VERSION" "$BIN_DIR"
step promtool "$PROMTOOL_VERSION" "$HERE/../prometheus/promtool.sh"
step alertmanager "$ALERTMANAGER_VERSION" "$HERE/../alertmanager/build.sh" "$ALERTMANAGER_VERSION" "$BIN_DIR"
echo "[setup] done in $((SECONDS - T0))s -> $BIN_DIR"
