package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// haDAG fans out 8 tasks that each leave one line per execution in
// RAN_DIR, named by run, task and try, and take a second.
const haDAG = `id: ha
tasks:
  - id: first
    command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 1"]
` + haMiddle + `
  - id: last
    depends_on: [m1, m2, m3, m4, m5, m6]
    command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY"]
`

const haMiddle = `  - {id: m1, depends_on: [first], command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 4"]}
  - {id: m2, depends_on: [first], command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 4"]}
  - {id: m3, depends_on: [first], command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 4"]}
  - {id: m4, depends_on: [first], command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 4"]}
  - {id: m5, depends_on: [first], command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 4"]}
  - {id: m6, depends_on: [first], command: ["sh", "-c", "echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; sleep 4"]}`

// TestHASchedulerKilled runs three `vigil run` processes on one PostgreSQL
// and one data folder (local executor), triggers six runs with no owner,
// and SIGKILLs the scheduler that owns the most while its tasks run. The
// other two take its runs over once its beat is stale, adopt its still
// running processes from their pid files, and finish everything: every
// task succeeds, every try's command ran once, and every record is by the
// scheduler that owned the run then.
func TestHASchedulerKilled(t *testing.T) {
	url := pgtest.FreshDatabase(t)
	c := hatest.New(t, url) // migrates
	e := newEnv(t, map[string]string{"ha.yaml": haDAG})
	e.db = url
	const stale = 4 * time.Second
	names := []string{"s1", "s2", "s3"}
	daemons := map[string]*daemon{}
	for _, name := range names {
		e.extra = []string{"--instance", name, "--stale-after", stale.String(), "--claim-batch", "1", "--parallelism", "8"}
		daemons[name] = e.start()
	}
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "ha")
		return err == nil
	})
	for range 5 {
		time.Sleep(5 * time.Millisecond) // manual run ids are by the clock
		e.mustVigil("dags", "trigger", "ha")
	}

	// The victim: the owner of the most runs, once its middle tasks run.
	var victim string
	e.waitFor("middle tasks to run", 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		runs, err := c.Admin.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
		if err != nil || len(runs) < 3 {
			return false
		}
		owned := map[string]int{}
		for _, r := range runs {
			owned[r.Owner]++
		}
		victim = ""
		for _, n := range names {
			if owned[n] > owned[victim] {
				victim = n
			}
		}
		tis, err := c.Admin.ListTaskInstances(ctx, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateRunning}})
		if err != nil {
			return false
		}
		for _, ti := range tis {
			if strings.HasPrefix(ti.TaskID, "m") {
				return true
			}
		}
		return false
	})
	if err := daemons[victim].stop(t, syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("SIGKILL left a clean exit")
	}
	killed := time.Now()
	took := c.WaitDone(2 * time.Minute)
	t.Logf("killed %s; all runs ended %s later", victim, took.Round(time.Millisecond))

	rep := c.Check(t.Context(), names, scheduler.StateSuccess)
	for _, v := range rep.Violations {
		t.Error(v)
	}
	if rep.Instances != 6*8 {
		t.Errorf("%d task instances, want 48", rep.Instances)
	}
	if rep.Adoptions == 0 {
		t.Errorf("no takeover recorded after %s was killed", victim)
	}
	// Each try's command ran once.
	files, err := filepath.Glob(filepath.Join(e.ran, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 48 {
		t.Errorf("%d tries ran, want 48 (one each)", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "x"); n != 1 {
			t.Errorf("%s ran %d times", filepath.Base(f), n)
		}
	}
	// The first takeover record, and how long after the kill it came.
	first := time.Time{}
	rows, err := c.DB.QueryContext(t.Context(), `SELECT at FROM transitions WHERE reason LIKE $1 ORDER BY seq LIMIT 1`,
		"adopted from scheduler "+victim+": heartbeat stale%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		first = time.Unix(0, at)
	}
	if first.IsZero() {
		t.Fatalf("no record says the runs were adopted from %s with a stale heartbeat", victim)
	}
	t.Logf("first takeover record %s after the SIGKILL (stale after %s); transitions by scheduler %v",
		first.Sub(killed).Round(time.Millisecond), stale, rep.ByScheduler)
}
