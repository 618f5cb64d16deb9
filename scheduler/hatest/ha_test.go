package hatest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/executor/executortest"
	"github.com/vigilhq/vigil/internal/toxiproxy"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

func failOn(t *testing.T, rep Report) {
	t.Helper()
	for _, v := range rep.Violations {
		t.Error(v)
	}
}

// TestThreeSchedulersRunEachTryOnce: three schedulers share one database
// and one machine; 40 runs of 12 tasks, triggered with no owner, are
// claimed between them and every try is submitted once.
func TestThreeSchedulersRunEachTryOnce(t *testing.T) {
	c := New(t, pgtest.FreshDatabase(t))
	mach := executortest.NewMemory(executortest.MemoryOptions{})
	names := []string{"s1", "s2", "s3"}
	nodes := startAll(c, mach, names, scheduler.Options{Parallelism: 16, ClaimBatch: 2})
	c.Trigger(FanDAG("fan", 12, []string{"true"}), 40)
	c.WaitDone(2 * time.Minute)

	rep := c.Check(t.Context(), names, scheduler.StateSuccess)
	failOn(t, rep)
	if rep.Instances != 40*12 {
		t.Errorf("%d instances, want %d", rep.Instances, 40*12)
	}
	submittedOnce(t, c, mach)
	if len(mach.Started()) != 40*12 {
		t.Errorf("%d tries ran, want %d", len(mach.Started()), 40*12)
	}
	claimed := int64(0)
	for _, n := range nodes {
		claimed += n.Sched.Stats().RunsClaimed
	}
	if claimed != 40 {
		t.Errorf("%d runs claimed in all, want 40 (each once)", claimed)
	}
	t.Logf("transitions by scheduler: %v", rep.ByScheduler)
}

// TestSilentSchedulerTakenOver: s1 runs tries that hang, then loses the
// database (its store is closed under it, as a partition or a pause would
// leave it). It lets go of its runs; s2 takes them over once s1's beat is
// stale, records why, adopts the running tries instead of starting them
// again, and finishes the runs.
func TestSilentSchedulerTakenOver(t *testing.T) {
	c := New(t, pgtest.FreshDatabase(t))
	hang := func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.TaskID == "t000"}, true
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{Outcome: hang})
	s1 := c.Start("s1", c.URL, scheduler.Options{Executor: mach})
	c.Trigger(FanDAG("fan", 4, []string{"true"}), 3)
	waitFor(t, "s1 to run the 3 hanging tries", func() bool { return len(mach.Running()) == 3 })

	s1.Store.Close()
	cut := time.Now()
	waitFor(t, "s1 to let go of its runs", func() bool { return s1.Sched.Stats().RunsLost == 3 })
	s2 := c.Start("s2", c.URL, scheduler.Options{Executor: mach.Reopen()})
	waitFor(t, "s2 to claim the runs", func() bool { return s2.Sched.Stats().RunsClaimed == 3 })
	t.Logf("s2 took the runs %s after s1 lost the database (stale after 3s)", time.Since(cut).Round(time.Millisecond))
	first := scheduler.TaskKey{DAGID: "fan", RunID: "manual__0000", TaskID: "t000"}
	waitFor(t, "s2 to adopt the running tries", func() bool {
		h, err := c.Admin.History(t.Context(), first)
		return err == nil && h[len(h)-1].Actor.Instance == "s2"
	})
	finishRunning(t, mach)
	c.WaitDone(time.Minute)

	rep := c.Check(t.Context(), []string{"s1", "s2"}, scheduler.StateSuccess)
	failOn(t, rep)
	submittedOnce(t, c, mach)
	h, err := c.Admin.History(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	adopted := false
	for _, r := range h {
		if strings.HasPrefix(r.Reason, "adopted from scheduler s1: heartbeat stale") && r.Actor.Instance == "s2" &&
			strings.Contains(r.Reason, "try 1 is still running") {
			adopted = true
		}
	}
	if !adopted {
		t.Errorf("no record of s2 adopting t000's running try from s1; history: %+v", h)
	}
	// The waiting instances changed hands with a record too.
	h, err = c.Admin.History(t.Context(), scheduler.TaskKey{DAGID: "fan", RunID: "manual__0000", TaskID: "t003"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) < 2 || h[1].From != scheduler.StateScheduled || h[1].To != scheduler.StateScheduled || !strings.HasPrefix(h[1].Reason, "adopted from scheduler s1") {
		t.Errorf("t003's second record should be its adoption by s2: %+v", h)
	}
}

// TestCleanStopHandsOverAtOnce: a scheduler that stops cleanly says so,
// and another takes its runs without waiting out the stale threshold.
func TestCleanStopHandsOverAtOnce(t *testing.T) {
	c := New(t, pgtest.FreshDatabase(t))
	hang := func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.TaskID == "t000"}, true
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{Outcome: hang})
	s1 := c.Start("s1", c.URL, scheduler.Options{Executor: mach})
	c.Trigger(FanDAG("fan", 2, []string{"true"}), 2)
	waitFor(t, "s1 to run both first tries", func() bool { return len(mach.Running()) == 2 })
	// An hour: only the clean stop can hand the runs over within the test.
	s2 := c.Start("s2", c.URL, scheduler.Options{Executor: mach.Reopen(), StaleAfter: time.Hour})
	if err := s1.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "s2 to claim s1's runs", func() bool { return s2.Sched.Stats().RunsClaimed == 2 })
	// The claim records waiting instances at once; the running t000 is
	// reconciled (adopted) at s2's next sync.
	var last scheduler.Transition
	waitFor(t, "s2 to adopt s1's running try", func() bool {
		h, err := c.Admin.History(t.Context(), scheduler.TaskKey{DAGID: "fan", RunID: "manual__0001", TaskID: "t000"})
		if err != nil || len(h) == 0 {
			return false
		}
		last = h[len(h)-1]
		return last.Actor.Instance == "s2"
	})
	if !strings.HasPrefix(last.Reason, "adopted from scheduler s1: it stopped") {
		t.Errorf("last record %+v; want the adoption from a stopped s1", last)
	}
	finishRunning(t, mach)
	c.WaitDone(time.Minute)
	failOn(t, c.Check(t.Context(), []string{"s1", "s2"}, scheduler.StateSuccess))
}

// TestDatabaseLostAndBack: the database goes away under a lone scheduler
// (toxiproxy drops every connection and refuses new ones) for longer than
// the stale threshold. The scheduler keeps running, its "store.db"
// heartbeat goes stale and its loop's does not; when the database is back
// it claims its runs again and finishes them, with nothing run twice.
func TestDatabaseLostAndBack(t *testing.T) {
	dbURL := pgtest.FreshDatabase(t)
	c := New(t, dbURL)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := toxiproxy.New(t, u.Host)
	u.Host = proxy.Listen
	hang := func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Hang: tr.Key.TaskID == "t000"}, true
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{Outcome: hang})
	wd := watchdog.New(watchdog.Options{})
	s1 := c.Start("s1", u.String(), scheduler.Options{Executor: mach, Watchdog: wd})
	c.Trigger(FanDAG("fan", 3, []string{"true"}), 2)
	waitFor(t, "s1 to run the hanging tries", func() bool { return len(mach.Running()) == 2 })

	proxy.SetEnabled(false)
	waitFor(t, "s1 to let go of its runs", func() bool { return s1.Sched.Stats().RunsLost == 2 })
	stale := map[string]bool{}
	for _, st := range wd.Snapshot() {
		stale[st.Name] = st.Stale
	}
	if !stale["store.db"] || stale["scheduler.loop"] {
		t.Errorf("heartbeats while the database is gone: %v; want store.db stale, scheduler.loop not", stale)
	}
	finishRunning(t, mach)
	proxy.SetEnabled(true)
	c.WaitDone(time.Minute)
	failOn(t, c.Check(t.Context(), []string{"s1"}, scheduler.StateSuccess))
	submittedOnce(t, c, mach)
	h, err := c.Admin.History(t.Context(), scheduler.TaskKey{DAGID: "fan", RunID: "manual__0000", TaskID: "t000"})
	if err != nil {
		t.Fatal(err)
	}
	// The last record; a running record before it exists only if the
	// start was recorded before the database went.
	if last := h[len(h)-1]; !strings.HasPrefix(last.Reason, "taken back after the store was out of reach") || last.To != scheduler.StateSuccess {
		t.Errorf("t000's end should be recorded as found when s1 took its run back: %+v", h)
	}
}

// startAll starts a scheduler per name, all on one simulated machine.
func startAll(c *Cluster, mach *executortest.Memory, names []string, opts scheduler.Options) []*Node {
	var nodes []*Node
	for i, name := range names {
		o := opts
		o.Executor = mach
		if i > 0 {
			o.Executor = mach.Reopen()
		}
		nodes = append(nodes, c.Start(name, c.URL, o))
	}
	return nodes
}

// finishRunning ends every try still running on the machine, with exit 0.
func finishRunning(t *testing.T, mach *executortest.Memory) {
	t.Helper()
	for _, k := range mach.Running() {
		if err := mach.Finish(k, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// submittedOnce fails t for every try Start was called for more than once,
// with the task's history.
func submittedOnce(t *testing.T, c *Cluster, mach *executortest.Memory) {
	t.Helper()
	for _, k := range mach.Started() {
		if n := mach.Starts(k); n != 1 {
			h, _ := c.Admin.History(t.Context(), k.TaskKey)
			var b strings.Builder
			for _, r := range h {
				fmt.Fprintf(&b, "\n    try %d %s → %s by %s: %s", r.Try, r.From, r.To, r.Actor, r.Reason)
			}
			t.Errorf("try %s submitted %d times:%s", k, n, b.String())
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestScheduleTickCreatesOneRun: three schedulers load the same DAG file
// with a schedule; each tick becomes one run, created (and owned) by one of
// them, and every try of every run is submitted once.
func TestScheduleTickCreatesOneRun(t *testing.T) {
	c := New(t, pgtest.FreshDatabase(t))
	dir := t.TempDir()
	start := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Second)
	src := "id: tick\nschedule: \"@every 1s\"\ncatchup: true\nmax_active_runs: 16\nstart_date: " + start.Format(time.RFC3339) +
		"\ntasks:\n  - {id: a, command: [\"true\"]}\n  - {id: b, depends_on: [a], command: [\"true\"]}\n"
	if err := os.WriteFile(filepath.Join(dir, "tick.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{})
	names := []string{"s1", "s2", "s3"}
	nodes := startAll(c, mach, names, scheduler.Options{DAGDir: dir})
	waitFor(t, "8 scheduled runs to end", func() bool {
		runs, err := c.Admin.ListRuns(t.Context(), scheduler.RunFilter{DAGID: "tick", States: []scheduler.RunState{scheduler.RunSuccess}})
		return err == nil && len(runs) >= 8
	})
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := c.Admin.ListRuns(t.Context(), scheduler.RunFilter{DAGID: "tick"})
	if err != nil {
		t.Fatal(err)
	}
	// One run per tick, the ticks contiguous from the start date.
	ticks := map[time.Time]bool{}
	creators := map[string]int{}
	for _, r := range runs {
		if ticks[r.LogicalDate] {
			t.Errorf("tick %s has two runs", r.LogicalDate)
		}
		ticks[r.LogicalDate] = true
		creators[r.CreatedBy.Instance]++
	}
	for i := range len(runs) {
		if at := start.Add(time.Duration(i) * time.Second); !ticks[at] {
			t.Errorf("no run for tick %s (runs %d)", at, len(runs))
		}
	}
	submittedOnce(t, c, mach)
	rep := c.Check(t.Context(), names, "")
	for _, v := range rep.Violations {
		if len(v.Problems) != 1 || !strings.HasPrefix(v.Problems[0], "did not end: ") {
			t.Error(v) // runs still going when the schedulers stopped are not violations
		}
	}
	t.Logf("%d runs, created by %v", len(runs), creators)
}

// TestDatabaseRestart: the PostgreSQL server itself goes down (immediate
// shutdown: every connection dropped) under three schedulers while their
// tries run, stays down past the stale threshold, and comes back. Nobody
// crashes; every run is finished once, by its owner or by a scheduler
// that took it over with a record.
func TestDatabaseRestart(t *testing.T) {
	srv := pgtest.StartServer(t)
	c := New(t, srv.URL)
	slow := func(tr scheduler.Try) (executortest.Outcome, bool) {
		return executortest.Outcome{Duration: 2 * time.Second}, true
	}
	mach := executortest.NewMemory(executortest.MemoryOptions{Outcome: slow})
	names := []string{"s1", "s2", "s3"}
	nodes := startAll(c, mach, names, scheduler.Options{ClaimBatch: 2})
	c.Trigger(FanDAG("fan", 5, []string{"true"}), 9)
	waitFor(t, "tries to run", func() bool { return len(mach.Running()) >= 3 })
	srv.Stop()
	time.Sleep(5 * time.Second) // past the stale threshold (3s)
	srv.Start()
	c.WaitDone(2 * time.Minute)
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			t.Errorf("%s: %v", n.Name, err)
		}
	}
	failOn(t, c.Check(t.Context(), names, scheduler.StateSuccess))
	submittedOnce(t, c, mach)
	lost := int64(0)
	for _, n := range nodes {
		lost += n.Sched.Stats().RunsLost
	}
	if lost == 0 {
		t.Error("no scheduler let go of its runs while the database was down")
	}
}
