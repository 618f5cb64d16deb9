package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/hatest"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"
)

// poolDAG has width tasks in pool "limited"; each records, in RAN_DIR,
// when its command started and ended (unix nanoseconds), and sleeps in
// between.
func poolDAG(width int) string {
	const record = `f=RAN_DIR/$VIGIL_RUN_ID.$VIGIL_TASK_ID.$VIGIL_TRY; echo "$(date +%s%N)" > $f.start; sleep 1; echo "$(date +%s%N)" > $f.end`
	var b strings.Builder
	b.WriteString("id: pooled\ndefaults:\n  pool: limited\ntasks:\n")
	for i := range width {
		fmt.Fprintf(&b, "  - {id: t%02d, command: [\"sh\", \"-c\", %q]}\n", i, record)
	}
	return b.String()
}

// interval is one try's command, from start to end.
type interval struct {
	name       string
	start, end int64
}

func readIntervals(t *testing.T, dir string) []interval {
	t.Helper()
	starts, err := filepath.Glob(filepath.Join(dir, "*.start"))
	if err != nil {
		t.Fatal(err)
	}
	var out []interval
	for _, s := range starts {
		name := strings.TrimSuffix(filepath.Base(s), ".start")
		iv := interval{name: name}
		for _, f := range []struct {
			path string
			dst  *int64
		}{{s, &iv.start}, {strings.TrimSuffix(s, ".start") + ".end", &iv.end}} {
			b, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatalf("try %s: %v", name, err)
			}
			if *f.dst, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
				t.Fatalf("try %s: %s: %v", name, f.path, err)
			}
		}
		out = append(out, iv)
	}
	return out
}

// maxOverlap is the most intervals open at one instant. An interval that
// ends at the instant another starts does not overlap it.
func maxOverlap(ivs []interval) int {
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, iv := range ivs {
		edges = append(edges, edge{iv.start, 1}, edge{iv.end, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return int(min(max(a.at-b.at, -1), 1))
		}
		return a.delta - b.delta // ends first
	})
	open, most := 0, 0
	for _, e := range edges {
		open += e.delta
		most = max(most, open)
	}
	return most
}

// TestPoolAcrossSchedulers runs two `vigil run` processes on one
// PostgreSQL, each allowed 8 tasks at once, and runs of 12 tasks in a
// pool of 2 slots: at no instant do more than 2 of the tasks' commands
// run, though each scheduler alone would have run them all, and every
// task runs once.
func TestPoolAcrossSchedulers(t *testing.T) {
	const runs, width, slots = 3, 4, 2
	url := pgtest.FreshDatabase(t)
	c := hatest.New(t, url) // migrates
	e := newEnv(t, map[string]string{"pooled.yaml": poolDAG(width)})
	e.db = url
	names := []string{"s1", "s2"}
	var daemons []*daemon
	for _, name := range names {
		e.data = filepath.Join(e.dir, "data-"+name)
		e.extra = []string{"--instance", name, "--claim-batch", "1", "--parallelism", "8"}
		daemons = append(daemons, e.start())
	}
	// Two schedulers run on this machine: the commands name one.
	d := daemons[0]
	if out := e.mustVigilVia(d, "pools", "set", "limited", "--slots", strconv.Itoa(slots), "--description", "e2e"); !strings.Contains(out, "pool limited: 2 slots") {
		t.Fatalf("vigil pools set: %s", out)
	}
	var rec scheduler.DAGRecord
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		var err error
		rec, err = c.Admin.GetDAG(t.Context(), "pooled")
		return err == nil
	})
	c.Trigger(rec, runs)

	// While the tasks run, the pool is full and cannot be deleted.
	var listed []api.Pool
	e.waitFor("the pool to fill", 60*time.Second, func() bool {
		out, err := e.vigilVia(d, "pools", "list", "-o", "json")
		if err != nil || unmarshalPage(out, &listed) != nil {
			return false
		}
		i := slices.IndexFunc(listed, func(p api.Pool) bool { return p.Name == "limited" })
		return i >= 0 && listed[i].Occupied >= slots
	})
	out, err := e.vigilVia(d, "pools", "delete", "limited")
	if err == nil || !strings.Contains(out, "hold slots of pool limited") {
		t.Errorf("vigil pools delete of a full pool: %v\n%s", err, out)
	}
	took := c.WaitDone(3 * time.Minute)

	rep := c.Check(t.Context(), names, scheduler.StateSuccess)
	for _, v := range rep.Violations {
		t.Error(v)
	}
	ivs := readIntervals(t, e.ran)
	if len(ivs) != runs*width {
		t.Errorf("%d tries ran, want %d (one each)", len(ivs), runs*width)
	}
	most := maxOverlap(ivs)
	if most > slots {
		t.Errorf("%d tasks of a pool of %d slots ran at once", most, slots)
	}
	// Both schedulers owned runs, so the limit held across them.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	all, err := c.Admin.ListRuns(ctx, scheduler.RunFilter{DAGID: "pooled"})
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]int{}
	for _, r := range all {
		owners[r.Owner]++
	}
	if len(owners) < 2 {
		t.Errorf("runs owned by %v; want both schedulers to own some", owners)
	}
	// No refused attempt is in any history: a task waiting for the pool
	// is queued once per try.
	var queued int
	if err := c.DB.QueryRowContext(ctx, `SELECT count(*) FROM transitions WHERE dag_id = 'pooled' AND to_state = 'queued'`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != runs*width {
		t.Errorf("%d records of a task queued, want %d", queued, runs*width)
	}
	hist := e.mustVigilVia(d, "pools", "history", "limited")
	if !strings.Contains(hist, "set") || !strings.Contains(hist, "api@") {
		t.Errorf("vigil pools history does not show who set the pool:\n%s", hist)
	}
	t.Logf("%d tasks in %d runs on schedulers %v, pool of %d slots: at most %d ran at once; all ended %s after the trigger",
		len(ivs), runs, owners, slots, most, took.Round(time.Millisecond))
}
