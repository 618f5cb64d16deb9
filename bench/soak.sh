#!/usr/bin/env bash
# make soak: the full fault soak (issue 9) against the real test environment, through
# with-cluster.sh, with VIGIL_SOAK=full (R1 500 tasks per fault, R2 50 SIGKILLs, 10 PostgreSQL
# restarts, 15 kills of one of three schedulers, 500 tasks with evictions, the owner of two schedulers frozen 3 x 90 s). Writes the scenario table, with the command that
# produced it, to $1 (default bench/soak-results.txt); the run's log goes to soak.log. Exits
# non-zero if any scenario failed or found a violation.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/soak-results.txt}
# SOAK_ARGS adds go test flags, e.g. -run/-skip to resume a soak that stopped part way.
cmd="VIGIL_SOAK=full testenv/kube/with-cluster.sh go test -race -count=1 -v -timeout 150m ${SOAK_ARGS:-} ./soak/"
start=$(date +%s)
set +e
eval "$cmd" > soak.log 2>&1
status=$?
set -e
{
  echo "# Fault soak (issue 9)"
  echo "#"
  echo "# Produced by: make soak"
  echo "#   $cmd"
  echo "# on $(nproc) cores, $(go version | cut -d' ' -f3), -race binaries, $(date -u +%Y-%m-%d); took $(( ($(date +%s) - start) / 60 )) min; exit $status."
  echo
  echo "| Scenario | Tasks | Faults | Requests faulted | Took | Tasks/s | Pods | Retries | Requeues | Adoptions | Violations |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  grep -o 'SOAK |.*' soak.log | sed 's/^SOAK //'
  echo
  grep -E '^(--- (PASS|FAIL)|ok|FAIL)' soak.log | sed 's/^/    /'
} > "$out"
cat "$out"
exit $status
