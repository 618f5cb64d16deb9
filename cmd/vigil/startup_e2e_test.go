package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/store/postgres/pgtest"

	"github.com/vigilhq/vigil/scheduler/store/sqlite/sqlitetest"
)

// The start-up tests (issue 16) run the real binary against databases
// and data folders a user could hand it by mistake.

// runOnce runs `vigil run` with args in dir until it exits (or 60s
// pass) and returns its output and exit code.
func runOnce(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBin, append([]string{"run", "--api-addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VIGIL_CONFIG=")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("vigil run %v: %v\n%s", args, err, out)
	}
	return string(out), 0
}

// TestRunRefusesUnknownDBScheme: a --db that is neither a path nor a
// PostgreSQL URL is a usage error, and nothing is created on disk (it
// once became a SQLite file in a folder named "mysql:").
func TestRunRefusesUnknownDBScheme(t *testing.T) {
	for _, tt := range []struct{ db, want string }{
		{"mysql://root:pw@127.0.0.1:1/vigil", `"mysql" databases are not supported`},
		{"Postgres://vigil@127.0.0.1:1/vigil", `did you mean "postgres://vigil@127.0.0.1:1/vigil"`},
	} {
		t.Run(tt.db, func(t *testing.T) {
			dir := t.TempDir()
			out, code := runOnce(t, dir, "--db", tt.db, "--dags", "dags", "--data-dir", "data",
				"--runtime-dir", filepath.Join(dir, "run"), "--health-addr", freeAddr(t))
			if code != exitUsage || !strings.Contains(out, tt.want) {
				t.Errorf("vigil run --db %s: exit %d, want %d and %q in:\n%s", tt.db, code, exitUsage, tt.want, out)
			}
			left, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range left {
				t.Errorf("vigil run --db %s left %s behind", tt.db, e.Name())
			}
		})
	}
}

// TestRunFilesOwnerOnly: what `vigil run` creates is readable by its
// user only: the database folder and data folders 0700, the SQLite file
// and its -wal and -shm 0600 (task specs hold environment values).
func TestRunFilesOwnerOnly(t *testing.T) {
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	e.db = filepath.Join(e.dir, "state", "vigil.db")
	e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })
	want := map[string]os.FileMode{
		filepath.Dir(e.db): 0o700, e.db: 0o600, e.db + "-wal": 0o600, e.db + "-shm": 0o600,
		e.data: 0o700, filepath.Join(e.data, "tasks"): 0o700, filepath.Join(e.data, "bundles"): 0o700,
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s has mode %o, want %o", path, got, mode)
		}
	}
}

// TestSecondRunOnOneSQLiteFileRefused: a second `vigil run` on the SQLite
// file a running one uses exits at once, naming the first one's pid and
// the lock file; the first keeps working, and once it is SIGKILLed (the
// kernel drops its lock) a new one starts.
func TestSecondRunOnOneSQLiteFileRefused(t *testing.T) {
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	first := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "chain")
	})
	out, code := runOnce(t, e.dir, "--dags", e.dags, "--db", e.db, "--data-dir", t.TempDir(), "--health-addr", freeAddr(t))
	want := fmt.Sprintf("process %d holds %s.lock", first.cmd.Process.Pid, e.db)
	if code == 0 || !strings.Contains(out, "database is in use by another scheduler") || !strings.Contains(out, want) {
		t.Fatalf("second vigil run on %s: exit %d, want a refusal naming %q:\n%s", e.db, code, want, out)
	}
	e.mustVigil("dags", "trigger", "chain")
	e.waitFor("the first scheduler to finish the run", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })

	_ = first.stop(t, syscall.SIGKILL, 10*time.Second)
	e.start()
	e.mustVigil("dags", "trigger", "chain")
	e.waitFor("a scheduler started after the SIGKILL to run the DAG", 60*time.Second, func() bool {
		out, err := e.vigil("runs", "list", "--dag", "chain")
		return err == nil && strings.Count(out, "success") == 2
	})
}

// dailyDAG's scheduled run has the same id in every database (the
// latest midnight): the case where another database's try folder has
// the very name of this one's try.
const dailyDAG = `
id: daily
schedule: "@daily"
start_date: 2026-01-01
tasks:
  - id: a
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/a']
`

// TestFreshDatabaseOldDataFolder (issue 16): a scheduler on database A
// runs the daily DAG with data folder D; then a scheduler on a new
// database B is pointed at D. It once found A's try folder under the
// name of its own first try and recorded the task succeeded without
// running it ("the try had already run; not run again"). Now it refuses
// D, naming the folder and both databases, and records nothing.
func TestFreshDatabaseOldDataFolder(t *testing.T) {
	e := newEnv(t, map[string]string{"daily.yaml": dailyDAG})
	d := e.start()
	e.waitFor("database A's scheduled run to succeed", 60*time.Second, func() bool { return allSucceeded(e.tasks("daily"), 1) })
	if err := d.stop(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("scheduler on A: %v", err)
	}

	e.db = filepath.Join(e.dir, "b.db")
	out, code := runOnce(t, e.dir, "--dags", e.dags, "--db", e.db, "--data-dir", e.data, "--health-addr", freeAddr(t))
	want := "data folder " + filepath.Join(e.data, "tasks") + " belongs to database "
	if code == 0 || !strings.Contains(out, want) || !strings.Contains(out, "pass a fresh --data-dir") {
		t.Fatalf("vigil run on a new database with A's data folder: exit %d, want a refusal containing %q:\n%s", code, want, out)
	}
	for id, ti := range e.tasks("daily") {
		if ti.State == scheduler.StateSuccess {
			t.Errorf("database B records task %s succeeded, and it never ran with B", id)
		}
	}
	if got := e.executions("a"); len(got) != 1 {
		t.Errorf("task a ran %d times, want once (with A)", len(got))
	}

	// A fresh data folder is the way forward: B runs the task itself.
	e.data = filepath.Join(e.dir, "data-b")
	e.start()
	e.waitFor("database B's run to succeed", 60*time.Second, func() bool { return allSucceeded(e.tasks("daily"), 1) })
	if got := e.executions("a"); len(got) != 2 {
		t.Errorf("task a ran %d times, want twice (once per database)", len(got))
	}
}

// probe GETs http://addr+path and returns the status and body (0 when
// nothing answers).
func probe(addr, path string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// diagAttach runs `diag attach -o json` on the daemon's debug socket, as
// on-call would, and returns its exit status and output.
func diagAttach(t *testing.T, runDir string, d *daemon) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ios, _, out, errOut := iostreams.Test()
	code := cli.MainContext(ctx, []string{"--socket", debugserver.SocketPath(runDir, d.cmd.Process.Pid), "attach", "-o", "json"}, ios, "test")
	return code, out.String() + errOut.String()
}

// TestDatabaseUnreachableAtStart (issue 16): `vigil run` on a PostgreSQL
// that is down once exited 0.03 s after start, with nothing for a probe
// or diag to look at. Now it stays up: /livez ok, /readyz 503 with the
// connection error, the debug socket answers `diag attach`, and once the
// server is up the scheduler starts and /readyz turns ok.
func TestDatabaseUnreachableAtStart(t *testing.T) {
	srv := pgtest.StartServer(t)
	srv.Stop()

	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	e.db = srv.URL
	health, runDir := freeAddr(t), filepath.Join(e.dir, "run")
	e.extra = []string{"--health-addr", health, "--runtime-dir", runDir}
	d := e.start()

	var body string
	e.waitFor("/readyz to give the connection error", 60*time.Second, func() bool {
		var code int
		code, body = probe(health, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "cannot open the database")
	})
	if !strings.Contains(body, "connect") {
		t.Errorf("/readyz does not give the connection error: %s", body)
	}
	if code, body := probe(health, "/livez"); code != http.StatusOK {
		t.Errorf("/livez = %d %s while the database is down; want 200 (the process is alive)", code, body)
	}
	if code, _ := probe(health, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while the database is down; want 200", code)
	}
	if code, out := diagAttach(t, runDir, d); code != 0 || !strings.Contains(out, `"pid": `+fmt.Sprint(d.cmd.Process.Pid)) {
		t.Errorf("diag attach while the database is down: exit %d\n%s", code, out)
	}

	srv.Start()
	e.waitFor("/readyz to turn ok once PostgreSQL is up", 90*time.Second, func() bool {
		code, _ := probe(health, "/readyz")
		return code == http.StatusOK
	})
	e.mustVigil("dags", "trigger", "chain")
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })
}

// TestCorruptSQLiteFile (issue 16): a SQLite file with a bad page once
// had the daemon log the page's error about 1.5 times a second for ever
// while /livez said ok. Now the start-up integrity check finds it:
// /readyz fails naming the file and what to do, /livez stays ok, the
// error is logged once and then at a growing interval, and a file
// restored from a backup is picked up.
func TestCorruptSQLiteFile(t *testing.T) {
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })
	if err := d.stop(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(e.db)
	if err != nil {
		t.Fatal(err)
	}
	sqlitetest.CorruptPage(t, e.db, "runs")

	health := freeAddr(t)
	e.extra = []string{"--health-addr", health, "--runtime-dir", filepath.Join(e.dir, "run")}
	d = e.start()
	var body string
	e.waitFor("/readyz to report the damaged file", 60*time.Second, func() bool {
		var code int
		code, body = probe(health, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "damaged")
	})
	for _, want := range []string{e.db, "quick_check", "restore the file from a backup"} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz does not say %q: %s", want, body)
		}
	}
	if code, body := probe(health, "/livez"); code != http.StatusOK {
		t.Errorf("/livez = %d %s; want 200 (the process is alive, the file is not)", code, body)
	}
	// Watch the log for 20 s: attempts come at 1, 2, 4, 8 s intervals,
	// the same error is logged at 0 s and then after 10 s, 20 s...
	time.Sleep(20 * time.Second)
	if n := strings.Count(d.logs.String(), "damaged"); n == 0 || n > 4 {
		t.Errorf("the damaged file was logged %d times in 20 s; want once, then at a backoff:\n%s", n, d.logs.String())
	}

	tmp := e.db + ".restore"
	if err := os.WriteFile(tmp, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, e.db); err != nil {
		t.Fatal(err)
	}
	e.waitFor("/readyz to turn ok on the restored file", 90*time.Second, func() bool {
		code, _ := probe(health, "/readyz")
		return code == http.StatusOK
	})
}
