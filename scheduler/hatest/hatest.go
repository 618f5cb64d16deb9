// Package hatest runs several schedulers on one real PostgreSQL and checks
// what they recorded: every task instance ended, no try was submitted by
// two schedulers, and every transition was made by the one scheduler that
// owned the run at the time. The HA tests and the R3 benchmark use it.
package hatest

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/histcheck"
	"github.com/vigilhq/vigil/scheduler/store/postgres"
)

// FanDAG is a DAG of n tasks: t000 first, then t001..t(n-2) at once, then
// the last one after all of them.
func FanDAG(id string, n int, command []string) scheduler.DAGRecord {
	specs := map[string]dag.TaskSpec{}
	name := func(i int) string { return fmt.Sprintf("t%03d", i) }
	var middle []string
	for i := range n {
		spec := dag.TaskSpec{Command: command}
		switch {
		case i == 0:
		case i == n-1 && n > 2:
			spec.DependsOn = middle
		default:
			spec.DependsOn = []string{name(0)}
			middle = append(middle, name(i))
		}
		specs[name(i)] = spec
	}
	return scheduler.DAGRecord{ID: id, File: id + ".yaml", Source: []byte("id: " + id), Specs: specs, UpdatedAt: time.Now()}
}

// Node is one scheduler of a Cluster, with a store of its own.
type Node struct {
	Name  string
	Store *postgres.Store
	Sched *scheduler.Scheduler
	stop  context.CancelFunc
	done  chan struct{} // closed when Run returned, with err set
	err   error
}

// Stop cancels the node's loop and waits for it to drain.
func (n *Node) Stop() error {
	n.stop()
	<-n.done
	return n.err
}

// Cluster is several schedulers on one database.
type Cluster struct {
	T   testing.TB
	URL string
	// Admin is a store for the test itself (creating runs, reading).
	Admin *postgres.Store
	DB    *sql.DB
	mu    sync.Mutex
	nodes []*Node
}

// New opens the database at url (migrating it) for a cluster.
func New(t testing.TB, url string) *Cluster {
	t.Helper()
	admin, err := postgres.Open(t.Context(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Cluster{T: t, URL: url, Admin: admin, DB: db}
}

// Start runs a scheduler named name on url (the cluster's, or a proxy in
// front of it) with the given options over quick test defaults. It stops
// when the test ends.
func (c *Cluster) Start(name, url string, opts scheduler.Options) *Node {
	t := c.T
	t.Helper()
	st, err := postgres.Open(t.Context(), url, postgres.Options{DefaultTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = st
	opts.Instance = name
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Watchdog == nil {
		opts.Watchdog = watchdog.New(watchdog.Options{})
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = 200 * time.Millisecond
	}
	if opts.StaleAfter == 0 {
		opts.StaleAfter = 3 * time.Second
	}
	if opts.StoreTimeout == 0 {
		opts.StoreTimeout = 2 * time.Second
	}
	sched, err := scheduler.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{Name: name, Store: st, Sched: sched, stop: cancel, done: make(chan struct{})}
	go func() {
		n.err = sched.Run(ctx)
		st.Close()
		close(n.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-n.done:
		case <-time.After(30 * time.Second):
			t.Errorf("scheduler %s did not stop within 30s", name)
		}
	})
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n
}

// Trigger creates runs of rec with no owner, as `vigil dags trigger`
// does, for the schedulers to claim. It returns their ids.
func (c *Cluster) Trigger(rec scheduler.DAGRecord, runs int) []string {
	t := c.T
	t.Helper()
	ctx := t.Context()
	if err := c.Admin.SaveDAG(ctx, rec); err != nil {
		t.Fatal(err)
	}
	return c.CreateRuns(rec, runs)
}

// CreateRuns creates runs manual__0000 … of the stored DAG rec with no
// owner, for the schedulers to claim, and returns their ids.
func (c *Cluster) CreateRuns(rec scheduler.DAGRecord, runs int) []string {
	t := c.T
	t.Helper()
	ctx := t.Context()
	ids := make([]string, runs)
	for i := range runs {
		now := time.Now()
		ids[i] = fmt.Sprintf("manual__%04d", i)
		run, tis, err := scheduler.NewRun(rec, ids[i], now, true, scheduler.Actor{Component: "cli", Instance: "test"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Admin.CreateRun(ctx, run, tis, "triggered by the test"); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// WaitDone waits until no run is running, or fails t after timeout.
func (c *Cluster) WaitDone(timeout time.Duration) time.Duration {
	t := c.T
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		running, err := c.Admin.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
		cancel()
		if err == nil && len(running) == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still running after %s (last error %v)", len(running), timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Report is what Check found.
type Report = histcheck.Report

// Check reads every task instance and transition, in one query each, and
// runs histcheck over them with the cluster's schedulers as the only
// actors allowed after a run's creation: every instance ended (in
// wantState, if set), every record legal and explained, no try queued
// twice without a requeue, no change of scheduler without a takeover
// record.
func (c *Cluster) Check(ctx context.Context, schedulers []string, wantState scheduler.State) Report {
	t := c.T
	t.Helper()
	tis, err := c.Admin.ListTaskInstances(ctx, scheduler.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.DB.QueryContext(ctx, `SELECT seq, dag_id, run_id, task_id, try, from_state, to_state, at,
		actor_component, actor_instance, reason, manual, repeats, COALESCE(last_at, at) FROM transitions ORDER BY dag_id, run_id, task_id, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	hist := map[scheduler.TaskKey][]scheduler.Transition{}
	for rows.Next() {
		var r scheduler.Transition
		var at, lastAt sql.NullInt64
		if err := rows.Scan(&r.Seq, &r.Key.DAGID, &r.Key.RunID, &r.Key.TaskID, &r.Try, &r.From, &r.To, &at,
			&r.Actor.Component, &r.Actor.Instance, &r.Reason, &r.Manual, &r.Repeats, &lastAt); err != nil {
			t.Fatal(err)
		}
		r.At, r.LastAt = time.Unix(0, at.Int64), time.Unix(0, lastAt.Int64)
		hist[r.Key] = append(hist[r.Key], r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return histcheck.Check(histcheck.Input{Instances: tis, History: hist, Schedulers: schedulers, WantState: wantState})
}
