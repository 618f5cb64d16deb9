#!/usr/bin/env bash
# up.sh -- start a throwaway PostgreSQL on 127.0.0.1 for the tests, under $STATE_DIR/postgres,
# wait until it accepts connections, and print its URL (database "postgres", user "postgres",
# trust auth: loopback and a 0700 socket folder only). Installs Debian's postgresql package if
# initdb is missing. Stop it with `kill $(cat $STATE_DIR/pids/postgres.pid)` or
# testenv/kube/cluster-down.sh.
# Env: STATE_DIR (required), PG_PORT (default 25432).
set -euo pipefail
: "${STATE_DIR:?set STATE_DIR}"
PG_PORT="${PG_PORT:-25432}"
log() { echo "[postgres] $*" >&2; }

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }
  done
  return 1
}
if ! PG_BIN="$(find_bin)"; then
  log "initdb not found: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq >&2
  timeout 900 apt-get install -y -qq postgresql >&2
  PG_BIN="$(find_bin)" || { log "postgresql installed but no initdb under /usr/lib/postgresql"; exit 1; }
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
  log "port 127.0.0.1:$PG_PORT is in use (another postgres?); stop it or set PG_PORT"
  exit 1
fi

DATA="$STATE_DIR/postgres/data"; SOCK="$STATE_DIR/postgres/sock"
mkdir -p "$STATE_DIR/postgres" "$STATE_DIR/logs" "$STATE_DIR/pids" "$SOCK"
chmod 0700 "$SOCK"
# initdb and the server refuse to run as root.
RUN=()
if [[ "$(id -u)" == 0 ]]; then
  chown -R postgres: "$STATE_DIR/postgres"
  RUN=(runuser -u postgres --)
fi
"${RUN[@]}" "$PG_BIN/initdb" -D "$DATA" --auth=trust -U postgres -E UTF8 --no-sync >"$STATE_DIR/logs/postgres-initdb.log" 2>&1 \
  || { tail -n 20 "$STATE_DIR/logs/postgres-initdb.log" >&2; exit 1; }
LOGFILE="$STATE_DIR/postgres/postgres.log"
"${RUN[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { tail -n 20 "$LOGFILE" >&2; exit 1; }
head -n 1 "$DATA/postmaster.pid" > "$STATE_DIR/pids/postgres.pid"
log "ready on 127.0.0.1:$PG_PORT (data $DATA)"
echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
