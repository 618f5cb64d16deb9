#!/usr/bin/env bash
# Runs the benchmarks and writes their results, with the commands that
# produced them and where the CPU time goes, to $1:
#   - the scheduler's own overhead (in-memory and local executors, SQLite), 5 runs each;
#   - P4, pods through the Kubernetes executor against the ceiling of a bare client-go loop,
#     on the real test control plane (testenv/kube), 3 runs;
#   - P7, the longest loop turn while the apiserver is black-holed, 3 runs;
#   - P1 (instrument overhead), P2 (stack snapshot pause at 100k goroutines), P5 (stall -> bundle -> livez),
#     P6 (diag attach to first screen at 10k goroutines);
#   - Idle20k, the idle cost of a 20,000-task DAG folder (issue 16), 3 runs;
#   - Scale, 1k/10k/100k independent tasks end to end, per-task time and CPU, peak RSS (issue 18), 3 runs;
#   - History (issue 18): the idle loop, a 10-task run and each paged list's first page with
#     10 to 1,000,000 historical task instances (VIGIL_BENCH_HISTORY sets the sizes, e.g.
#     10,100000,1000000,10000000), on SQLite and (with VIGIL_TEST_POSTGRES) PostgreSQL, to
#     bench/history-results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results.txt}
count=${BENCH_COUNT:-5}
kube_count=${BENCH_KUBE_COUNT:-3}
cmd="go test -run '^\$' -bench 'Independent|Chain|Local' -benchtime 1x -count $count -cpuprofile bench/cpu.prof ./bench/"
kcmd="testenv/kube/with-cluster.sh go test -run '^\$' -bench KubePods -benchtime 1x -count $kube_count -timeout 30m ./bench/"
pcmd="testenv/kube/with-cluster.sh go test -count=3 -run TestRealBlackHoleDuringCreates -v ./executor/kube/"
p1cmd="TMPDIR=/dev/shm P1_PAIRS=${P1_PAIRS:-40} testenv/kube/with-cluster.sh go test -run '^\$' -bench InstrumentationOverhead -benchtime 1x -timeout 30m ./bench/"
p2cmd="go test -run '^\$' -bench 'Capture100k|RuntimeStackAll100k' -benchtime 3x -count 3 ./diag/stacks/"
p5cmd="testenv/kube/with-cluster.sh go test -count=3 -run TestStalledLoopLeavesBundle -v ./cmd/vigil/"
p6cmd="go test -run '^\$' -bench Attach10k -benchtime 20x -count 3 ./bench/"
icmd="go test -run '^\$' -bench Idle20k -benchtime 1x -count 3 ./bench/"
scmd="go test -run '^\$' -bench Scale -benchtime 1x -count 3 -timeout 60m ./bench/"
raw=$(mktemp); kraw=$(mktemp); praw=$(mktemp); p1raw=$(mktemp); p2raw=$(mktemp); p5raw=$(mktemp); p6raw=$(mktemp); iraw=$(mktemp); sraw=$(mktemp)
trap 'rm -f "$raw" "$kraw" "$praw" "$p1raw" "$p2raw" "$p5raw" "$p6raw" "$iraw" "$sraw" bench/bench.test' EXIT
eval "$cmd" | tee "$raw"
eval "$kcmd" 2>/dev/null | grep -E '^(Benchmark|goos|goarch|pkg|cpu|PASS|ok|FAIL)' | tee "$kraw"
eval "$pcmd" 2>/dev/null | grep -E 'P7:|^(--- |ok|FAIL)' | sed 's/^ *//' | tee "$praw"
eval "$p1cmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)' | tee "$p1raw"
eval "$p2cmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)' | tee "$p2raw"
eval "$p5cmd" 2>/dev/null | grep -E 'P5:|^(--- |ok|FAIL)' | sed 's/^ *//' | tee "$p5raw"
eval "$p6cmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)' | tee "$p6raw"
eval "$icmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)' | tee "$iraw"
eval "$scmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)' | tee "$sraw"
{
  echo "# Benchmarks (issues 2, 3, 4 and 5)"
  echo "#"
  echo "# Produced by: make bench"
  echo "#   $cmd"
  echo "#   $kcmd"
  echo "#   $pcmd"
  echo "#   $p1cmd"
  echo "#   $p2cmd"
  echo "#   $p5cmd"
  echo "#   $p6cmd"
  echo "#   $icmd"
  echo "#   $scmd"
  echo "# Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   Go: $(go version | cut -d' ' -f3)   CPUs: $(nproc)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
  echo "#"
  echo "# s/run is the time from the run's creation (Scheduler.Trigger) to its end;"
  echo "# ns/op is not meaningful here (set-up is excluded from the timer)."
  echo "# Targets: Independent1000 <= 1 s, Chain1000 <= 3 s, LocalTrue200 <= 5 s, P4-ratio >= 0.9."
  echo
  cat "$raw"
  echo
  echo "# P4: 1,000 pods on KWOK; bare-pods/s is a client-go loop (16 workers, no QPS limit) creating"
  echo "# the same pods and watching them succeed; vigil-pods/s is one run of 1,000 tasks through the"
  echo "# scheduler and the Kubernetes executor with the same client settings."
  cat "$kraw"
  echo
  echo "# P7: while the apiserver is black-holed by toxiproxy during pod creates, the longest"
  echo "# scheduling-loop turn (Scheduler.Stats().MaxIteration); target <= the create deadline (2s here)."
  cat "$praw"
  echo
  echo "# P1: scheduler throughput with every instrument on (in-flight registry, flight recorder,"
  echo "# Pyroscope push every 1s to the real server through the wire tracer) / all off; pairs of"
  echo "# 10,000-task runs, alternating order; P1-ratio is the median per-pair ratio. Target >= 0.99."
  cat "$p1raw"
  echo
  echo "# P2: grouped stack snapshot at 100k goroutines: pause-ms/op is the longest stop-the-world"
  echo "# pause during the snapshot, took-ms/op the whole snapshot; RuntimeStackAll100k is"
  echo "# runtime.Stack(all) for comparison. Targets: pause <= 1 ms, snapshot <= 500 ms."
  cat "$p2raw"
  echo
  echo "# P5: loop blocked on a black-holed DELETE (toxiproxy) -> bundle written and /livez failing,"
  echo "# default settings (2s loop heartbeat, stale after 3 periods, 1s watchdog tick). Target <= 15 s."
  cat "$p5raw"
  echo
  echo "# P6: diag attach (the whole command, in-process) to its first screen against a process with"
  echo "# 10,000 goroutines; first-screen-ms is the median of 20, max-first-screen-ms the slowest. Target <= 1 s."
  cat "$p6raw"
  echo
  echo "# Idle20k: CPU of an idle scheduler with one 20,000-task DAG (cpu-% of one core over 10 s) and its"
  echo "# longest loop turn; before/after the issue 16 change in bench/idle-results.txt."
  cat "$iraw"
  echo
  echo "# Scale: n independent tasks end to end (in-memory and local executors), time and CPU per task"
  echo "# and peak RSS; target at 100,000 within 1.5x of 1,000 (issue 18); history in bench/scale-results.txt."
  echo "# Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  cat "$sraw"
  echo
  echo "# Where the CPU time goes in the scheduler benchmarks (set-up included; cumulative):"
  go tool pprof -top -cum -nodecount=35 bench/cpu.prof 2>/dev/null | sed 's/^/# /'
} > "$out"
echo "wrote $out"

# History (issue 18), to its own file: minutes at 1M instances, an hour or more at 10M.
sizes=${VIGIL_BENCH_HISTORY:-10,100000,1000000}
hcmd="VIGIL_BENCH_HISTORY=$sizes go test -run '^\$' -bench History -benchtime 1x -timeout 180m ./bench/"
hraw=$(mktemp)
eval "$hcmd" 2>/dev/null | grep -E '^(Benchmark|PASS|ok|FAIL)' | tee "$hraw"
{
  echo "# History benchmark (issue 18)"
  echo "#"
  echo "# Produced by: make bench (bench/run.sh)"
  echo "#   $hcmd"
  echo "# Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   Go: $(go version | cut -d' ' -f3)   CPUs: $(nproc)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
  echo "#"
  echo "# instances = ended task instances seeded (10 a run, 2 transitions each, one operation a run);"
  echo "# idle-p50/max-ms: loop turns over 6 s idle; run10-s: median of 7 triggered 10-task runs;"
  echo "# <list>-ms: slowest of 5 first pages (101 rows) of the list the CLI command asks for; seed-s: seeding."
  cat "$hraw"
} > bench/history-results.txt
rm -f "$hraw"
echo "wrote bench/history-results.txt"

# Notifications (issue 20): a healthy vs a black-holed receiver, through toxiproxy.
if [ -n "${TOXIPROXY_API:-}" ]; then
  ncmd="go test -run '^\$' -bench Notify -benchtime 1x -count 5 ./bench/"
  nraw=$(mktemp)
  eval "$ncmd" 2>/dev/null | grep -E '^(goos|goarch|pkg|cpu|Benchmark|PASS|ok|FAIL)' | tee "$nraw"
  {
    echo "# Notifications benchmark (issue 20)"
    echo "#"
    echo "# Produced by: make bench (bench/run.sh), with \$TOXIPROXY_API set (source /tmp/vigil-testenv.sh)"
    echo "#   $ncmd"
    echo "# Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   Go: $(go version | cut -d' ' -f3)   CPUs: $(nproc)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
    echo "#"
    echo "# See bench/README.md (Notifications) for what each column means."
    cat "$nraw"
  } > bench/notify-results.txt
  rm -f "$nraw"
  echo "wrote bench/notify-results.txt"
else
  echo "TOXIPROXY_API unset: BenchmarkNotify skipped (source /tmp/vigil-testenv.sh)"
fi

# diag vet's own cost (issue 21): CPU of the checker over this repository, warm build cache.
vcmd="/usr/bin/time -f '%U %S %e %M' go run ./cmd/diag vet ./..."
go run ./cmd/diag vet ./... >/dev/null 2>&1 || true # warm the build cache
vraw=$(mktemp)
for _ in 1 2 3 4 5; do
  eval "$vcmd" 2>&1 >/dev/null | tail -1 | tee -a "$vraw"
done
{
  echo "# diag vet on this repository (issue 21)"
  echo "#"
  echo "# Produced by: make bench (bench/run.sh), 5 runs of"
  echo "#   $vcmd"
  echo "# Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   Go: $(go version | cut -d' ' -f3)   CPUs: $(nproc)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "#"
  echo "# columns: user s, sys s, elapsed s, max RSS KB (go run's build check and go list included)."
  echo "# Before/after the facts of issue 21: bench/vet-before-after.txt."
  cat "$vraw"
  awk '{u+=$1+$2; n++} END {if (n) printf "# mean user+sys: %.2f s\n", u/n}' "$vraw"
} > bench/vet-results.txt
rm -f "$vraw"
echo "wrote bench/vet-results.txt"
