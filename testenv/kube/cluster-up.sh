#!/usr/bin/env bash
# cluster-up.sh -- start a loopback-only Kubernetes control plane for tests:
#   etcd + kube-apiserver [+ kube-scheduler] [+ kube-controller-manager] [+ kwok (fake kubelet)]
# and create fake Node(s) managed by kwok. Stop it with cluster-down.sh (kills recorded PIDs).
#
# Env (all optional):
#   STATE_DIR        where pki/, logs/, pids/, kubeconfig go      (default ${TMPDIR:-/tmp}/kube-testenv)
#   BIN_DIR          dir with kube-apiserver, kube-scheduler, ... (default dir of this script/bin)
#   ETCD_BIN         etcd binary (default $BIN_DIR/etcd = 3.6.x built by setup.sh). Debian's
#                    /usr/bin/etcd 3.4.23 serves kubectl CRUD but is NOT recommended: the apiserver
#                    then disables RequestWatchProgress and kwok's watch-list informers keep failing
#                    (pods take 5-25 s per transition instead of the configured 1 s).
#   ETCD_PORT        client port (default 23790; peer = +1)  APISERVER_PORT (default 16443)
#   WITH_SCHEDULER=1 WITH_KCM=1 WITH_KWOK=1   (set 0 to skip a component)
#   KWOK_NODES       number of fake nodes (default 1)        KWOK_STAGES (default kwok-stages.yaml)
#   KWOK_PORT        kwok's "kubelet" server on 127.0.0.1 (default APISERVER_PORT+2): the apiserver
#                    proxies pods/exec there; a test makes one of its fake pods exec-able by creating
#                    a kwok Exec object for it (see kwok-crds.yaml)
#   WITH_TOXIPROXY=1 toxiproxy API on 127.0.0.1:$TOXIPROXY_PORT (default 8474), no proxies: each test
#                    that cuts or slows a server makes a proxy of its own (executor/kube/kubetest.NewFaults)
# Node/pod IPs that kwok writes into status are loopback (127.0.0.1, 127.1.0.0/16), so
# nothing (e.g. the apiserver proxying `kubectl logs` to a "kubelet") ever dials a LAN address.
# Prints the kubeconfig path on success.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="$(realpath -m "${STATE_DIR:-${TMPDIR:-/tmp}/kube-testenv}")"
BIN_DIR="$(realpath -m "${BIN_DIR:-$HOME/.cache/vigil/testbin}")"
ETCD_BIN="${ETCD_BIN:-$BIN_DIR/etcd}"
for b in "$ETCD_BIN" "$BIN_DIR/kube-apiserver"; do
  [[ -x "$b" ]] || { echo "missing $b: run setup.sh first" >&2; exit 1; }
done
ETCD_PORT="${ETCD_PORT:-23790}"; ETCD_PEER_PORT=$((ETCD_PORT + 1))
APISERVER_PORT="${APISERVER_PORT:-16443}"
WITH_SCHEDULER="${WITH_SCHEDULER:-1}"; WITH_KCM="${WITH_KCM:-1}"; WITH_KWOK="${WITH_KWOK:-1}"
KWOK_NODES="${KWOK_NODES:-1}"; KWOK_STAGES="${KWOK_STAGES:-$HERE/kwok-stages.yaml}"
KWOK_PORT="${KWOK_PORT:-$((APISERVER_PORT + 2))}"
WITH_TOXIPROXY="${WITH_TOXIPROXY:-1}"; TOXIPROXY_PORT="${TOXIPROXY_PORT:-8474}"
KUBECTL="${KUBECTL:-$(command -v kubectl || echo "$BIN_DIR/kubectl")}"

T0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
log() { echo "[cluster-up +$(ms)ms] $*" >&2; }
wait_for() { # wait_for SECONDS PROC DESCRIPTION CMD...  (fails early if process PROC died)
  local deadline=$(( $(date +%s) + $1 )) proc="$2" what="$3"; shift 3
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) > deadline )); then log "TIMEOUT waiting for $what"; return 1; fi
    if [[ "$proc" != - ]] && ! kill -0 "$(cat "$STATE_DIR/pids/$proc.pid")" 2>/dev/null; then
      log "$proc exited: see $STATE_DIR/logs/$proc.log"; return 1
    fi
    sleep 0.2
  done
  log "$what ready"
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() { # start NAME CMD...  (records PID in pids/NAME.pid, output in logs/NAME.log)
  local name="$1"; shift
  "$@" > "$STATE_DIR/logs/$name.log" 2>&1 &
  echo $! > "$STATE_DIR/pids/$name.pid"
}

mkdir -p "$STATE_DIR"/{logs,pids}
for f in "$STATE_DIR"/pids/*.pid; do
  [[ -e "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && { log "already running ($f); run cluster-down.sh first"; exit 1; }
done
ports=("$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT")
[[ "$WITH_TOXIPROXY" == 1 ]] && ports+=("$TOXIPROXY_PORT")
[[ "$WITH_KWOK" == 1 ]] && ports+=("$KWOK_PORT")
for p in "${ports[@]}"; do
  port_free "$p" || { log "port 127.0.0.1:$p is in use (another cluster? set ETCD_PORT/APISERVER_PORT/...)"; exit 1; }
done
rm -rf "$STATE_DIR/etcd-data" "$STATE_DIR"/pids/*.pid
# on any failure: show the logs' tails and stop whatever was already started
trap 'rc=$?; if (( rc != 0 )); then tail -n 5 "$STATE_DIR"/logs/*.log >&2; STATE_DIR="$STATE_DIR" "$HERE/cluster-down.sh"; fi' EXIT
"$HERE/gen-certs.sh" "$STATE_DIR/pki"
PKI="$STATE_DIR/pki"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"
cat > "$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority: ${PKI}/ca.crt
users:
- name: admin
  user:
    client-certificate: ${PKI}/admin.crt
    client-key: ${PKI}/admin.key
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
EOF
export KUBECONFIG="$KUBECONFIG_FILE"

# --- etcd (loopback only; fsync off where supported: it is a throwaway test store) ---
ETCD_EXTRA=()
"$ETCD_BIN" --help 2>&1 | grep -q -- '--unsafe-no-fsync' && ETCD_EXTRA+=(--unsafe-no-fsync)
start etcd "$ETCD_BIN" --name test --data-dir "$STATE_DIR/etcd-data" \
  --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
  --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
  --initial-cluster "test=http://127.0.0.1:${ETCD_PEER_PORT}" "${ETCD_EXTRA[@]}"
wait_for 30 etcd "etcd ($("$ETCD_BIN" --version | head -1))" curl -sf "http://127.0.0.1:${ETCD_PORT}/health"

# --- kube-apiserver ---
# Its "kubelets" are kwok's server: reached by the Node's InternalIP (127.0.0.1), not by its
# hostname (kwok-node-N resolves nowhere), over TLS without verification (no
# --kubelet-certificate-authority; kwok serves a throwaway self-signed certificate).
start kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="${APISERVER_PORT}" \
  --cert-dir="$STATE_DIR/apiserver-certs" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --kubelet-preferred-address-types=InternalIP
wait_for 60 kube-apiserver "kube-apiserver" "$KUBECTL" get --raw /readyz

# --- kube-scheduler (binds pods to the fake nodes; kwok does not schedule) ---
if [[ "$WITH_SCHEDULER" == 1 ]]; then
  start kube-scheduler "$BIN_DIR/kube-scheduler" --kubeconfig="$KUBECONFIG_FILE" \
    --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --leader-elect=false --secure-port=0
fi

# --- kube-controller-manager (default ServiceAccount per namespace, namespace deletion,
#     garbage collection, Jobs, node lifecycle ...) ---
if [[ "$WITH_KCM" == 1 ]]; then
  start kube-controller-manager "$BIN_DIR/kube-controller-manager" --kubeconfig="$KUBECONFIG_FILE" \
    --authentication-kubeconfig="$KUBECONFIG_FILE" --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --leader-elect=false --secure-port=0 \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=false --flex-volume-plugin-dir="$STATE_DIR/flexvolume"
fi

# --- kwok: fake kubelet for every Node annotated kwok.x-k8s.io/node=fake ---
if [[ "$WITH_KWOK" == 1 ]]; then
  # kwok's server answers the apiserver's exec requests for the fake pods that have a kwok
  # Exec object (kwok-crds.yaml) by running the command locally; --node-port puts its port in
  # each Node's status.daemonEndpoints (kwok-stages.yaml), where the apiserver looks for it.
  "$KUBECTL" apply -f "$HERE/kwok-crds.yaml" >/dev/null
  wait_for 30 kube-apiserver "kwok Exec CRD" "$KUBECTL" wait --for=condition=Established crd/execs.kwok.x-k8s.io --timeout=1s
  start kwok "$BIN_DIR/kwok" --kubeconfig="$KUBECONFIG_FILE" --config="$KWOK_STAGES" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --node-ip=127.0.0.1 --cidr=127.1.0.0/16 \
    --server-address="127.0.0.1:${KWOK_PORT}" --node-port="${KWOK_PORT}" --enable-crds=Exec
  for i in $(seq 0 $((KWOK_NODES - 1))); do
    "$KUBECTL" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
EOF
  done
  wait_for 60 kwok "kwok nodes" "$KUBECTL" wait --for=condition=Ready node --all --timeout=1s
fi
if [[ "$WITH_KCM" == 1 ]]; then
  wait_for 60 kube-controller-manager "kube-controller-manager (default/default ServiceAccount)" "$KUBECTL" -n default get serviceaccount default
fi
# --- toxiproxy: tests put proxies of their own in front of the apiserver (TLS passes through; SAN 127.0.0.1 still matches) ---
if [[ "$WITH_TOXIPROXY" == 1 ]]; then
  start toxiproxy "$BIN_DIR/toxiproxy-server" -host 127.0.0.1 -port "$TOXIPROXY_PORT"
  wait_for 10 toxiproxy "toxiproxy" curl -sf "http://127.0.0.1:${TOXIPROXY_PORT}/version"
  log "toxiproxy: API 127.0.0.1:${TOXIPROXY_PORT}"
fi
[[ "$WITH_KWOK" == 1 ]] && log "kwok: kubelet server 127.0.0.1:${KWOK_PORT} (pods/exec for pods with a kwok Exec object)"
log "cluster up: KUBECONFIG=$KUBECONFIG_FILE (token: $PKI/admin.token)"
echo "$KUBECONFIG_FILE"
