package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/store/postgres"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
	"github.com/vigilhq/vigil/scheduler/store/sqlite"
)

// historySizes are the numbers of historical task instances
// BenchmarkHistory seeds: VIGIL_BENCH_HISTORY, comma-separated (e.g.
// "10,100000,1000000,10000000"), or 10, 100,000 and 1,000,000.
func historySizes(b *testing.B) []int {
	v := os.Getenv("VIGIL_BENCH_HISTORY")
	if v == "" {
		return []int{10, 100_000, 1_000_000}
	}
	var sizes []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			b.Fatalf("VIGIL_BENCH_HISTORY=%q: want numbers of task instances, at least 10, like 10,100000", v)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// historyStore is a store under test: how to open it and run SQL on it.
type historyStore struct {
	name string
	open func(ctx context.Context) (scheduler.Store, error)
	raw  func() (*sql.DB, error)
	seed []string // statements; $RUNS is the number of runs, $SPEC a task's spec
}

// BenchmarkHistory (issue 18): a scheduler must not slow as history
// grows. For each store and each history size it seeds the DAG "bench"
// (10 tasks) with that many ended task instances (10 a run, two
// transitions each, one operation a run) by SQL, starts a scheduler on
// it, and reports:
//   - idle-p50-ms, idle-max-ms: the median and longest loop turn over 6 s
//     of nothing to do (three syncs, each listing the running runs);
//   - run10-s: a triggered 10-task run, creation to end (in-memory
//     executor), the median of seven;
//   - first-page-ms of each paged list the CLI makes (101 rows asked, as
//     --limit 100 does), the slowest of five calls, named for the command.
//
// It is heavy (minutes at 1M instances) and runs only from bench/run.sh.
func BenchmarkHistory(b *testing.B) {
	stores := []struct {
		name string
		new  func(b *testing.B) *historyStore
	}{{"sqlite", sqliteHistory}, {"postgres", postgresHistory}}
	for _, store := range stores {
		for _, n := range historySizes(b) {
			b.Run(fmt.Sprintf("store=%s/instances=%d", store.name, n), func(b *testing.B) {
				st := store.new(b)
				for b.Loop() {
					b.StopTimer()
					historyCase(b, st, n)
					b.StartTimer()
				}
			})
		}
	}
}

func sqliteHistory(b *testing.B) *historyStore {
	path := filepath.Join(b.TempDir(), "vigil.db")
	return &historyStore{
		name: "sqlite",
		open: func(ctx context.Context) (scheduler.Store, error) { return sqlite.Open(ctx, path, sqlite.Options{}) },
		raw: func() (*sql.DB, error) {
			return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_pragma=synchronous(OFF)")
		},
		seed: []string{
			`WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < $RUNS)
			INSERT INTO runs (dag_id, run_id, logical_date, manual, state, created_at, ended_at, created_by_component, created_by_instance)
			SELECT 'bench', printf('hist__%09d', i), 1577836800000000000 + i * 60000000000, 1, 'success',
				1577836800000000000 + i * 60000000000, 1577836800000000000 + i * 60000000000 + 1000000000, 'bench', 'seed' FROM g`,
			`WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < 10)
			INSERT INTO task_instances (dag_id, run_id, task_id, state, try, spec, external_id, exit_code,
				queued_at, started_at, ended_at, updated_at, version)
			SELECT r.dag_id, r.run_id, printf('t%04d', j), 'success', 1, '$SPEC', '', 0,
				r.created_at, r.created_at, r.ended_at, r.ended_at, 3 FROM runs r CROSS JOIN k`,
			`INSERT INTO transitions (dag_id, run_id, task_id, try, from_state, to_state, at,
				actor_component, actor_instance, reason, external_id, exit_code)
			SELECT ti.dag_id, ti.run_id, ti.task_id, x.try, x.f, x.t, ti.updated_at, 'scheduler', 'seed', 'seeded history', '', NULL
			FROM task_instances ti CROSS JOIN (SELECT 0 AS try, '' AS f, 'scheduled' AS t UNION ALL SELECT 1, 'running', 'success') x`,
			`INSERT INTO ops (kind, dag_id, run_id, task_id, args, actor_component, actor_instance, reason, created_at, state, result, done_by, done_at)
			SELECT 'clear_run', dag_id, run_id, '', '{}', 'cli', 'seed', 'seeded', created_at, 'done', 'seeded', 'seed', ended_at FROM runs`,
			`ANALYZE`,
		},
	}
}

func postgresHistory(b *testing.B) *historyStore {
	url := pgtest.FreshDatabase(b)
	return &historyStore{
		name: "postgres",
		open: func(ctx context.Context) (scheduler.Store, error) { return postgres.Open(ctx, url, postgres.Options{}) },
		raw:  func() (*sql.DB, error) { return sql.Open("pgx", url) },
		seed: []string{
			`SET synchronous_commit = off`,
			`INSERT INTO runs (dag_id, run_id, logical_date, manual, state, created_at, ended_at, created_by_component, created_by_instance)
			SELECT 'bench', 'hist__' || lpad(g::text, 9, '0'), 1577836800000000000 + g * 60000000000, true, 'success',
				1577836800000000000 + g * 60000000000, 1577836800000000000 + g * 60000000000 + 1000000000, 'bench', 'seed'
			FROM generate_series(0::bigint, $RUNS - 1) g`,
			`INSERT INTO task_instances (dag_id, run_id, task_id, state, try, spec, external_id, exit_code,
				queued_at, started_at, ended_at, updated_at, version)
			SELECT r.dag_id, r.run_id, 't' || lpad(j::text, 4, '0'), 'success', 1, convert_to('$SPEC', 'UTF8'), '', 0,
				r.created_at, r.created_at, r.ended_at, r.ended_at, 3 FROM runs r CROSS JOIN generate_series(0, 9) j`,
			`INSERT INTO transitions (dag_id, run_id, task_id, try, from_state, to_state, at,
				actor_component, actor_instance, reason, external_id, exit_code)
			SELECT ti.dag_id, ti.run_id, ti.task_id, x.try, x.f, x.t, ti.updated_at, 'scheduler', 'seed', 'seeded history', '', NULL
			FROM task_instances ti CROSS JOIN (VALUES (0, '', 'scheduled'), (1, 'running', 'success')) x (try, f, t)`,
			`INSERT INTO ops (kind, dag_id, run_id, task_id, args, actor_component, actor_instance, reason, created_at, state, result, done_by, done_at)
			SELECT 'clear_run', dag_id, run_id, '', '{}', 'cli', 'seed', 'seeded', created_at, 'done', 'seeded', 'seed', ended_at FROM runs`,
			`VACUUM ANALYZE`,
		},
	}
}

func historyCase(b *testing.B, hs *historyStore, instances int) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Hour)
	defer cancel()
	dir := b.TempDir()
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		b.Fatal(err)
	}
	dagText := wide(10, `["true"]`)
	if err := os.WriteFile(filepath.Join(dags, "bench.yaml"), []byte(dagText), 0o644); err != nil {
		b.Fatal(err)
	}
	spec, err := dag.EncodeSpec(dag.TaskSpec{Command: []string{"true"}})
	if err != nil {
		b.Fatal(err)
	}

	// The DAG first (runs reference it), through the store; then the
	// history, by SQL.
	st, err := hs.open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	specs := map[string]dag.TaskSpec{}
	for i := range 10 {
		specs[fmt.Sprintf("t%04d", i)] = dag.TaskSpec{Command: []string{"true"}}
	}
	if err := st.SaveDAG(ctx, scheduler.DAGRecord{ID: "bench", File: "bench.yaml", Source: []byte(dagText), Specs: specs}); err != nil {
		b.Fatal(err)
	}
	st.Close()
	seedStart := time.Now()
	raw, err := hs.raw()
	if err != nil {
		b.Fatal(err)
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range hs.seed {
		q = strings.ReplaceAll(q, "$RUNS", strconv.Itoa(instances/10))
		q = strings.ReplaceAll(q, "$SPEC", strings.ReplaceAll(string(spec), "'", "''"))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	conn.Close()
	raw.Close()
	b.ReportMetric(time.Since(seedStart).Seconds(), "seed-s")

	st, err = hs.open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pages := firstPages(b, ctx, st)

	var turns turnLog
	ended := make(chan scheduler.Run, 1)
	sched, err := scheduler.New(scheduler.Options{
		Store:            st,
		Executor:         executortest.NewMemory(executortest.MemoryOptions{}),
		Logger:           zap.NewNop(),
		DAGDir:           dags,
		Presets:          dag.DefaultPresets(),
		ObserveIteration: turns.observe,
		OnRunEnd:         func(r scheduler.Run) { ended <- r },
	})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sched.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	for !sched.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // the first load and sync
	turns.reset()
	time.Sleep(6 * time.Second)
	p50, longest := turns.stats()
	b.ReportMetric(ms(p50), "idle-p50-ms")
	b.ReportMetric(ms(longest), "idle-max-ms")

	var took []time.Duration
	for range 7 {
		start := time.Now()
		if _, err := sched.Trigger(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		select {
		case r := <-ended:
			took = append(took, time.Since(start))
			if r.State != scheduler.RunSuccess {
				b.Fatalf("run ended %s", r.State)
			}
		case <-time.After(2 * time.Minute):
			b.Fatal("a 10-task run did not end within 2 minutes")
		}
		time.Sleep(1100 * time.Millisecond) // manual run ids are by the second
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "run10-s")
	for _, p := range pages {
		b.ReportMetric(ms(p.took), p.name+"-ms")
	}
}

type pageTime struct {
	name string
	took time.Duration
}

// firstPages times the first page of each list the CLI pages, as the
// commands ask for it, the slowest of five calls each.
func firstPages(b *testing.B, ctx context.Context, st scheduler.Store) []pageTime {
	const limit = 101 // --limit 100 and one more, to know there is a next page
	success := []scheduler.State{scheduler.StateSuccess}
	lastRun := "hist__000000000"
	calls := []struct {
		name string
		call func(ctx context.Context) (int, error)
	}{
		{"runs-list", func(ctx context.Context) (int, error) {
			r, err := st.ListRuns(ctx, scheduler.RunFilter{Limit: limit})
			return len(r), err
		}},
		{"runs-list-dag", func(ctx context.Context) (int, error) {
			r, err := st.ListRuns(ctx, scheduler.RunFilter{DAGID: "bench", Limit: limit})
			return len(r), err
		}},
		{"runs-list-state", func(ctx context.Context) (int, error) {
			r, err := st.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunSuccess}, Limit: limit})
			return len(r), err
		}},
		{"tasks-list", func(ctx context.Context) (int, error) {
			r, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{Limit: limit})
			return len(r), err
		}},
		{"tasks-list-dag", func(ctx context.Context) (int, error) {
			r, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: "bench", Limit: limit})
			return len(r), err
		}},
		{"tasks-list-dag-run", func(ctx context.Context) (int, error) {
			r, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: "bench", RunID: lastRun, Limit: limit})
			return len(r), err
		}},
		{"tasks-list-state", func(ctx context.Context) (int, error) {
			r, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{States: success, Limit: limit})
			return len(r), err
		}},
		{"tasks-list-dag-state", func(ctx context.Context) (int, error) {
			r, err := st.ListTaskInstances(ctx, scheduler.TaskFilter{DAGID: "bench", States: success, Limit: limit})
			return len(r), err
		}},
		{"tasks-history", func(ctx context.Context) (int, error) {
			r, err := st.HistoryPage(ctx, scheduler.TaskKey{DAGID: "bench", RunID: lastRun, TaskID: "t0000"}, limit, "")
			return len(r), err
		}},
		{"ops-list", func(ctx context.Context) (int, error) {
			r, err := st.ListOps(ctx, scheduler.OpFilter{Limit: limit})
			return len(r), err
		}},
	}
	var out []pageTime
	for _, c := range calls {
		var slowest time.Duration
		for range 5 {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			start := time.Now()
			n, err := c.call(cctx)
			took := time.Since(start)
			cancel()
			if err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			if n == 0 {
				b.Fatalf("%s: empty page", c.name)
			}
			slowest = max(slowest, took)
		}
		out = append(out, pageTime{c.name, slowest})
	}
	return out
}

// turnLog keeps the loop turns since its reset.
type turnLog struct {
	mu    sync.Mutex
	on    bool
	turns []time.Duration
}

func (l *turnLog) observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.turns = append(l.turns, d)
	}
}

func (l *turnLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on, l.turns = true, nil
}

func (l *turnLog) stats() (p50, longest time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.turns) == 0 {
		return 0, 0
	}
	s := slices.Clone(l.turns)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
