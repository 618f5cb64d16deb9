#!/usr/bin/env bash
# Runs the issue 7 figures against a throwaway PostgreSQL (through with-cluster.sh) and writes
# them, with the commands that produced them, to $1 (default bench/ha-results.txt):
#   - R3: 10,000 tasks (100 runs of 100) by one scheduler and by three on one database, in-memory
#     and local executors; every iteration checks the history (0 violations) and reports tasks/s;
#   - R3 with a SIGKILL: three `vigil run` processes, one killed mid-run, 10,000 tasks.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/ha-results.txt}
count=${BENCH_HA_COUNT:-3}
r3cmd="testenv/kube/with-cluster.sh go test -run '^\$' -bench HA10k -benchtime 1x -count $count -timeout 60m ./bench/"
killcmd="VIGIL_HA_RUNS=100 VIGIL_HA_WIDTH=98 VIGIL_HA_SLEEP=0 testenv/kube/with-cluster.sh go test -count=1 -v -timeout 30m -run TestHASchedulerKilled ./cmd/vigil/"
r3raw=$(mktemp); killraw=$(mktemp)
trap 'rm -f "$r3raw" "$killraw"' EXIT
eval "$r3cmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)|ha_bench_test' | sed 's/^ *//' | tee "$r3raw"
eval "$killcmd" 2>/dev/null | grep -E 'R3-kill|^(--- |ok|FAIL)' | sed 's/^ *//' | tee "$killraw"
ratio() { # executor: median tasks/s of 3 schedulers over that of 1
  awk -v ex="$1" '
    $1 ~ "executor="ex"/schedulers=1" { for (i=1;i<=NF;i++) if ($(i+1)=="tasks/s") one[++n1]=$i }
    $1 ~ "executor="ex"/schedulers=3" { for (i=1;i<=NF;i++) if ($(i+1)=="tasks/s") three[++n3]=$i }
    function med(a, n,   i, j, t) { for (i=1;i<=n;i++) for (j=i+1;j<=n;j++) if (a[j]<a[i]) { t=a[i]; a[i]=a[j]; a[j]=t }
      return (n%2) ? a[(n+1)/2] : (a[n/2]+a[n/2+1])/2 }
    END { if (n1 && n3) printf "%s: 1 scheduler %.0f tasks/s, 3 schedulers %.0f tasks/s (medians of %d), ratio %.2f\n", ex, med(one,n1), med(three,n3), n3, med(three,n3)/med(one,n1) }' "$r3raw"
}
{
  echo "# Several schedulers on one PostgreSQL (issue 7)"
  echo "#"
  echo "# Produced by: make bench-ha"
  echo "#   $r3cmd"
  echo "#   $killcmd"
  echo "# on $(nproc) cores, $(go version | cut -d' ' -f3), PostgreSQL from Debian (fsync off), $(date -u +%Y-%m-%d)."
  echo
  echo "## R3: 10,000 tasks, one scheduler vs three (history checked every iteration)"
  cat "$r3raw"
  echo
  echo "## Throughput, three schedulers over one"
  ratio memory
  ratio local
  echo
  echo "## R3 with one of three schedulers SIGKILLed mid-run (stale after 4s, sync every 2s)"
  cat "$killraw"
} > "$out"
echo "wrote $out"
