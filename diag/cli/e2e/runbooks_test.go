package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
)

// TestCPUHighDrill stages a scheduler busy with one DAG (run after run
// of 200 tasks) beside a quiet one, and runs runbooks/cpu-high.md's first
// command, exactly as written: its label breakdown must name the hot DAG
// as the one the CPU goes to.
func TestCPUHighDrill(t *testing.T) {
	t.Chdir(t.TempDir()) // the profile is saved in the working folder
	s := clitest.Start(t, clitest.Options{
		// Run after run of 200 tasks that do nothing keeps the scheduler
		// forking processes, which is where its CPU goes.
		DAGs: map[string]string{"hot.yaml": clitest.WideDAG("hot", "", 200, `["true"]`),
			"quiet.yaml": "id: quiet\ntasks:\n  - id: wait\n    command: [\"sleep\", \"60\"]\n"},
		Extra: []string{"--parallelism", "64"},
	})
	clitest.WaitFor(t, "the DAGs to load", 30*time.Second, func() bool {
		_, err := s.Vigil("dags", "trigger", "quiet")
		return err == nil
	})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // a run of hot every second, for as long as the profile takes
		defer close(done)
		for {
			if _, err := s.Vigil("dags", "trigger", "hot"); err != nil {
				t.Errorf("trigger hot: %v", err)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	args := runbookCommand(t, "cpu-high.md")
	r := clitest.Run(t, s, args...)
	close(stop)
	<-done
	t.Logf("diag %s:\n%s", strings.Join(args, " "), r.Out)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Err)
	}
	m := regexp.MustCompile(`(?m)^  dag +(.*)$`).FindStringSubmatch(r.Out)
	if m == nil {
		t.Fatalf("no dag line in the label breakdown")
	}
	// The first DAG the line names (past the unlabelled share) is hot.
	first := ""
	for _, f := range strings.Fields(m[1]) {
		if f != "(none)" && !strings.HasSuffix(f, "%") {
			first = f
			break
		}
	}
	if first != "hot" {
		t.Errorf("the breakdown's first DAG is %q, want hot: %s", first, m[0])
	}
}

// TestMemoryGrowingDrill stages the growth runbooks/memory-growing.md
// names first: runs that cannot finish pile up (a schedule catching up an
// hour of @every 1s, each run's tasks waiting behind one slot), and each
// keeps its task instances in the scheduler's memory. The runbook's first
// command, exactly as written, must name the scheduler's run tracking as
// the top in-use allocation site.
func TestMemoryGrowingDrill(t *testing.T) {
	t.Chdir(t.TempDir()) // the profile is saved in the working folder
	start := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	pile := clitest.WideDAG("pile", "schedule: \"@every 1s\"\nstart_date: "+start+"\ncatchup: true\nmax_active_runs: 100000\nmax_catchup_runs: 100000\n", 100, `["sleep", "600"]`)
	s := clitest.Start(t, clitest.Options{
		DAGs:  map[string]string{"pile.yaml": pile},
		Extra: []string{"--parallelism", "1"},
	})
	clitest.WaitFor(t, "300 open runs", 120*time.Second, func() bool { return metric(t, s, "vigil_runs_open") >= 300 })
	args := runbookCommand(t, "memory-growing.md")
	r := clitest.Run(t, s, args...)
	t.Logf("diag %s:\n%s", strings.Join(args, " "), r.Out)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Err)
	}
	m := regexp.MustCompile(`(?m)^ +flat +flat%.*\n(.*)$`).FindStringSubmatch(r.Out)
	if m == nil || !strings.Contains(m[1], "vigil/scheduler.(*Scheduler).addRun") {
		t.Errorf("the top in-use allocation site is not the scheduler's run tracking (addRun)")
	}
}

// metric reads one unlabelled value from the scheduler's /metrics.
func metric(t *testing.T, s *clitest.Scheduler, name string) float64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + s.HealthAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestProfilesMissingDrill stages continuous profiling that never
// arrives: the scheduler pushes to the real Pyroscope server under a
// wrong path. runbooks/profiles-missing.md's first command, exactly as
// written (it follows until interrupted), must show the uploads and the
// server's 404.
func TestProfilesMissingDrill(t *testing.T) {
	t.Parallel() // waits for a grace, a threshold, uploads

	base := os.Getenv("PYROSCOPE_URL")
	if base == "" {
		t.Skip("PYROSCOPE_URL not set: run under testenv/kube/with-cluster.sh (make test does)")
	}
	cfg := filepath.Join(t.TempDir(), "vigil.yaml")
	writeFile(t, cfg, fmt.Sprintf("debug:\n  pyroscope:\n    server_address: %s/no-such-prefix\n    upload_rate: 1s\n", base))
	s := clitest.Start(t, clitest.Options{Extra: []string{"--config", cfg}})
	args := runbookCommand(t, "profiles-missing.md")
	var r clitest.Result
	clitest.WaitFor(t, "runbooks/profiles-missing.md's first command to show a failed upload", 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second) // the engineer's Ctrl-C
		defer cancel()
		r = clitest.RunContext(t, ctx, s, args...)
		return regexp.MustCompile(`(?m)^\S+ +pyroscope +POST +404 .* ` + regexp.QuoteMeta(base) + `/no-such-prefix/ingest`).MatchString(r.Out)
	})
	t.Logf("diag %s:\n%s", strings.Join(args, " "), r.Out)
}
