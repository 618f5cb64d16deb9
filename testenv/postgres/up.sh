#!/usr/bin/env bash
# up.sh -- start a throwaway PostgreSQL on 127.0.0.1 for the tests, in a fresh temp folder,
# wait until it accepts connections, and print its URL (database "postgres", user "postgres",
# trust auth: loopback and a 0700 socket folder only). Installs Debian's postgresql package if
# initdb is missing. Stop it with testenv/kube/cluster-down.sh (fast shutdown, then removes its
# folder, named in $STATE_DIR/postgres.dir).
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

mkdir -p "$STATE_DIR/logs" "$STATE_DIR/pids"
# The cluster lives in a folder of its own: as root, initdb and the server run as the postgres
# user, which cannot enter a 0700 $STATE_DIR. cluster-down.sh removes it.
PGROOT="$(mktemp -d "${TMPDIR:-/tmp}/vigil-pg.XXXXXX")"
echo "$PGROOT" > "$STATE_DIR/postgres.dir"
DATA="$PGROOT/data"; SOCK="$PGROOT/sock"
mkdir -p "$SOCK"
chmod 0700 "$PGROOT" "$SOCK"
RUN=()
if [[ "$(id -u)" == 0 ]]; then
  chown -R postgres: "$PGROOT"
  RUN=(runuser -u postgres --)
fi
"${RUN[@]}" "$PG_BIN/initdb" -D "$DATA" --auth=trust -U postgres -E UTF8 --no-sync >"$STATE_DIR/logs/postgres-initdb.log" 2>&1 \
  || { tail -n 20 "$STATE_DIR/logs/postgres-initdb.log" >&2; exit 1; }
LOGFILE="$PGROOT/postgres.log"   # the postgres user cannot write into $STATE_DIR
"${RUN[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { tail -n 20 "$LOGFILE" >&2; exit 1; }
head -n 1 "$DATA/postmaster.pid" > "$STATE_DIR/pids/postgres.pid"
log "ready on 127.0.0.1:$PG_PORT (data $DATA)"
echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
