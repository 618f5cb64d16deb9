#!/usr/bin/env bash
# up.sh -- start a loopback-only Pyroscope server (built by testenv/kube/setup.sh) under
# $STATE_DIR/pyroscope, wait until it is ready, and print its URL. Stop it with
# `kill $(cat $STATE_DIR/pids/pyroscope.pid)` (testenv/kube/cluster-down.sh does).
# Env: STATE_DIR (required), BIN_DIR, PYRO_HTTP_PORT (default 4040), PYRO_GRPC_PORT (9095),
#      PYRO_MEMBERLIST_PORT (7946).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${STATE_DIR:?set STATE_DIR}"
BIN_DIR="$(realpath -m "${BIN_DIR:-$HOME/.cache/vigil/testbin}")"
export PYRO_HTTP_PORT="${PYRO_HTTP_PORT:-4040}" PYRO_GRPC_PORT="${PYRO_GRPC_PORT:-9095}"
export PYRO_MEMBERLIST_PORT="${PYRO_MEMBERLIST_PORT:-7946}" PYRO_DATA="$STATE_DIR/pyroscope"
mkdir -p "$PYRO_DATA" "$STATE_DIR/logs" "$STATE_DIR/pids"
for port in "$PYRO_HTTP_PORT" "$PYRO_GRPC_PORT" "$PYRO_MEMBERLIST_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "pyroscope: port $port is already in use (another pyroscope?); stop it or set PYRO_HTTP_PORT/PYRO_GRPC_PORT/PYRO_MEMBERLIST_PORT" >&2
    exit 1
  fi
done
# Run from the data folder: some components write relative paths (./data-compactor).
cd "$PYRO_DATA"
"$BIN_DIR/pyroscope" -config.file="$HERE/config.yaml" -config.expand-env=true \
  -usage-stats.enabled=false -ingester.min-ready-duration=0s \
  -compactor.ring.instance-addr=127.0.0.1 -distributor.ring.instance-addr=127.0.0.1 \
  -ingester.lifecycler.addr=127.0.0.1 -overrides-exporter.ring.instance-addr=127.0.0.1 \
  -query-frontend.instance-addr=127.0.0.1 -query-scheduler.ring.instance-addr=127.0.0.1 \
  -store-gateway.sharding-ring.instance-addr=127.0.0.1 \
  > "$STATE_DIR/logs/pyroscope.log" 2>&1 &
echo $! > "$STATE_DIR/pids/pyroscope.pid"
URL="http://127.0.0.1:$PYRO_HTTP_PORT"
for _ in $(seq 1 150); do
  kill -0 "$(cat "$STATE_DIR/pids/pyroscope.pid")" 2>/dev/null || break
  if curl -fsS -m 2 "$URL/ready" >/dev/null 2>&1; then echo "$URL"; exit 0; fi
  sleep 0.2
done
echo "pyroscope did not become ready; log: $STATE_DIR/logs/pyroscope.log" >&2
tail -20 "$STATE_DIR/logs/pyroscope.log" >&2
exit 1
