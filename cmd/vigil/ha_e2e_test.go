package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// haDAG fans out width tasks between a first and a last one; each task
// leaves one line per execution in RAN_DIR, in a file named by run, task
// and try, and the middle ones take sleep seconds.
func haDAG(width int, sleep string) string {
	const record = `echo x >> RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY`
	var b strings.Builder
	fmt.Fprintf(&b, "id: ha\ntasks:\n  - {id: first, command: [\"sh\", \"-c\", %q]}\n", record)
	var middle []string
	for i := range width {
		id := fmt.Sprintf("m%03d", i)
		middle = append(middle, id)
		fmt.Fprintf(&b, "  - {id: %s, depends_on: [first], command: [\"sh\", \"-c\", %q]}\n", id, record+"; sleep "+sleep)
	}
	fmt.Fprintf(&b, "  - {id: last, depends_on: [%s], command: [\"sh\", \"-c\", %q]}\n", strings.Join(middle, ", "), record)
	return b.String()
}

// envInt reads a positive integer from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// TestHASchedulerKilled runs three `vigil run` processes on one PostgreSQL
// and one data folder (local executor), triggers six runs with no owner,
// and SIGKILLs the scheduler that owns the most while its tasks run. The
// other two take its runs over once its beat is stale, adopt its still
// running processes from their pid files, and finish everything: every
// task succeeds, every try's command ran once, and every record is by the
// scheduler that owned the run then.
//
// VIGIL_HA_RUNS, VIGIL_HA_WIDTH and VIGIL_HA_SLEEP scale it up (bench/ha.sh
// runs 100 runs of 100 tasks for the R3 figure).
func TestHASchedulerKilled(t *testing.T) {
	runs, width := envInt(t, "VIGIL_HA_RUNS", 6), envInt(t, "VIGIL_HA_WIDTH", 6)
	sleep := cmp.Or(os.Getenv("VIGIL_HA_SLEEP"), "4")
	url := pgtest.FreshDatabase(t)
	c := hatest.New(t, url) // migrates
	e := newEnv(t, map[string]string{"ha.yaml": haDAG(width, sleep)})
	e.db = url
	const stale = 4 * time.Second
	names := []string{"s1", "s2", "s3"}
	daemons := map[string]*daemon{}
	for _, name := range names {
		e.extra = []string{"--instance", name, "--stale-after", stale.String(), "--claim-batch", "1", "--parallelism", "8"}
		daemons[name] = e.start()
	}
	var rec scheduler.DAGRecord
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		var err error
		rec, err = c.Admin.GetDAG(t.Context(), "ha")
		return err == nil
	})
	c.Trigger(rec, runs) // as `vigil dags trigger` does, with no owner

	// The victim: the owner of the most runs, once it owns a few and
	// middle tasks run.
	var victim string
	var ownedAtKill int
	e.waitFor("a scheduler to own two runs while middle tasks run", 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		running, err := c.Admin.ListRuns(ctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
		if err != nil || len(running) == 0 {
			return false
		}
		owned := map[string]int{}
		for _, r := range running {
			owned[r.Owner]++
		}
		victim = names[0]
		for _, n := range names {
			if owned[n] > owned[victim] {
				victim = n
			}
		}
		ownedAtKill = owned[victim]
		if owned[victim] < 2 {
			return false
		}
		tis, err := c.Admin.ListTaskInstances(ctx, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateRunning}})
		if err != nil {
			return false
		}
		for _, ti := range tis {
			if strings.HasPrefix(ti.TaskID, "m0") {
				return true
			}
		}
		return false
	})
	if err := daemons[victim].stop(t, syscall.SIGKILL, 10*time.Second); err == nil {
		t.Fatal("SIGKILL left a clean exit")
	}
	killed := time.Now()
	took := c.WaitDone(10 * time.Minute)
	t.Logf("killed %s; all runs ended %s later", victim, took.Round(time.Millisecond))

	rep := c.Check(t.Context(), names, scheduler.StateSuccess)
	for _, v := range rep.Violations {
		t.Error(v)
	}
	tasks := runs * (width + 2)
	if rep.Instances != tasks {
		t.Errorf("%d task instances, want %d", rep.Instances, tasks)
	}
	if rep.Adoptions == 0 {
		t.Errorf("no takeover recorded after %s was killed", victim)
	}
	// vigil status names every scheduler and what it owns (asked of a
	// survivor's API: two schedulers still run on this machine).
	survivor := names[0]
	if survivor == victim {
		survivor = names[1]
	}
	out, _ := e.vigilVia(daemons[survivor], "status")
	for _, want := range []string{"INSTANCE", "RUNS", "s1", "s2", "s3"} {
		if !strings.Contains(out, want) {
			t.Errorf("vigil status lacks %q:\n%s", want, out)
		}
	}
	// Each try's command ran once.
	files, err := filepath.Glob(filepath.Join(e.ran, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != tasks {
		t.Errorf("%d tries ran, want %d (one each)", len(files), tasks)
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
	// The takeover records: how long after the kill the first and the
	// last came, and how many of the victim's runs changed hands.
	var firstNS, lastNS int64
	var taken int
	err = c.DB.QueryRowContext(t.Context(), `SELECT COALESCE(min(at), 0), COALESCE(max(at), 0), count(DISTINCT run_id)
		FROM transitions WHERE reason LIKE $1`, "adopted from scheduler "+victim+": heartbeat stale%").Scan(&firstNS, &lastNS, &taken)
	if err != nil {
		t.Fatal(err)
	}
	if taken == 0 {
		t.Fatalf("no record says the runs were adopted from %s with a stale heartbeat", victim)
	}
	if taken != ownedAtKill {
		t.Errorf("%d of %s's runs were adopted, want all %d it owned when killed", taken, victim, ownedAtKill)
	}
	t.Logf("R3-kill: %d tasks, %d runs; killed %s owning %d runs; takeover records from %s to %s after the SIGKILL "+
		"(stale after %s, sync 2s); %d violations, %d adoption records, %d tries ran once each; transitions by scheduler %v",
		tasks, runs, victim, ownedAtKill, time.Unix(0, firstNS).Sub(killed).Round(time.Millisecond), time.Unix(0, lastNS).Sub(killed).Round(time.Millisecond),
		stale, len(rep.Violations), rep.Adoptions, len(files), rep.ByScheduler)
}

// TestHASchedulerPaused freezes the owner of the runs with SIGSTOP for
// three stale periods (a paused VM, a stop-the-world pause), then lets it go
// on with SIGCONT. Each scheduler has a data folder of its own, as two
// schedulers started in two working directories do. While it is frozen the
// other takes its runs over: it must adopt the tries that still run and
// record those that ended meanwhile, never take them for zombies and run
// them again (issue 16: 16 of 40 tasks ran twice). Once thawed, the first
// owner must not act on runs it lost: every try's command runs once, and
// every task succeeds with its retries unused.
func TestHASchedulerPaused(t *testing.T) {
	pause := time.Duration(envInt(t, "VIGIL_PAUSE_SECONDS", 12)) * time.Second
	url := pgtest.FreshDatabase(t)
	c := hatest.New(t, url) // migrates
	// Middle tasks of two lengths: the short ones end while the owner is
	// frozen, the long ones outlive the pause.
	dag := haDAG(8, `$(( ${VIGIL_TASK_ID#m00} % 2 == 0 ? 3 : `+strconv.Itoa(int(pause.Seconds())+6)+` ))`)
	e := newEnv(t, map[string]string{"ha.yaml": dag})
	e.db = url
	const stale = 4 * time.Second
	names := []string{"s1", "s2"}
	daemons := map[string]*daemon{}
	for _, name := range names {
		e.data = filepath.Join(e.dir, "data-"+name)
		e.extra = []string{"--instance", name, "--stale-after", stale.String(), "--parallelism", "16"}
		daemons[name] = e.start()
	}
	var rec scheduler.DAGRecord
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		var err error
		rec, err = c.Admin.GetDAG(t.Context(), "ha")
		return err == nil
	})
	c.Trigger(rec, 2)
	var victim string
	e.waitFor("middle tasks to run", 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		tis, err := c.Admin.ListTaskInstances(ctx, scheduler.TaskFilter{States: []scheduler.State{scheduler.StateRunning}})
		if err != nil {
			return false
		}
		n := 0
		for _, ti := range tis {
			if strings.HasPrefix(ti.TaskID, "m0") {
				n++
			}
		}
		if n < 8 {
			return false
		}
		run, err := c.Admin.GetRun(ctx, tis[0].DAGID, tis[0].RunID)
		victim = run.Owner
		return err == nil && victim != ""
	})
	frozen := daemons[victim]
	if err := frozen.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pause)
	if err := frozen.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	took := c.WaitDone(5 * time.Minute)
	t.Logf("froze %s for %s; all runs ended %s after it went on", victim, pause, took.Round(time.Millisecond))

	rep := c.Check(t.Context(), names, scheduler.StateSuccess)
	for _, v := range rep.Violations {
		t.Error(v)
	}
	if rep.Retries != 0 {
		t.Errorf("%d retries: a try of the frozen scheduler was taken for a failure", rep.Retries)
	}
	if rep.Adoptions == 0 {
		t.Errorf("no takeover recorded while %s was frozen", victim)
	}
	files, err := filepath.Glob(filepath.Join(e.ran, "*"))
	if err != nil {
		t.Fatal(err)
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
	if want := 2 * 10; len(files) != want {
		t.Errorf("%d tries ran, want %d (one each)", len(files), want)
	}
}
