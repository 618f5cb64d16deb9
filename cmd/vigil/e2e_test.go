package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/runbooks"
	"github.com/vigilhq/vigil/scheduler"
)

// The end-to-end tests run the real vigil binary: scheduler + local
// executor + SQLite, killed and restarted the way production kills it.

var vigilBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigilBin = filepath.Join(dir, "vigil")
	build := exec.Command("go", "build", "-race", "-o", vigilBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vigil:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one scheduler's working folder: DAGs, database, task data.
type env struct {
	t    *testing.T
	dir  string
	dags string
	db   string
	data string
	// ran is where the example tasks record each execution.
	ran string
	// extra are more `vigil run` flags (the executor's).
	extra []string
}

func newEnv(t *testing.T, dags map[string]string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, dags: filepath.Join(dir, "dags"), db: filepath.Join(dir, "vigil.db"),
		data: filepath.Join(dir, "data"), ran: filepath.Join(dir, "ran")}
	for _, d := range []string{e.dags, e.ran} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range dags {
		text = strings.ReplaceAll(text, "RAN_DIR", e.ran)
		if err := os.WriteFile(filepath.Join(e.dags, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// daemon is a running `vigil run`.
type daemon struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

func (e *env) start() *daemon {
	e.t.Helper()
	logs := &syncBuffer{}
	args := append([]string{"run", "--dags", e.dags, "--db", e.db, "--data-dir", e.data,
		"--health-addr", freeAddr(e.t), "--kill-grace", "2s", "--log-level", "debug",
		// Never the default port, which CI and other tests may hold.
		"--api-addr", "127.0.0.1:0"}, e.extra...)
	cmd := exec.Command(vigilBin, args...)
	cmd.Dir = e.dir
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: logs, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
		if e.t.Failed() {
			e.t.Logf("scheduler log:\n%s", logs.String())
		}
	})
	return d
}

// syncBuffer is a bytes.Buffer a test may read while the daemon's
// output is still being copied into it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stop signals the daemon and waits for it to exit.
func (d *daemon) stop(t *testing.T, sig syscall.Signal, within time.Duration) error {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("scheduler did not exit within %s of %s", within, sig)
		return nil
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// vigil runs an admin command against the env's database.
func (e *env) vigil(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBin, append(args, "--db", e.db)...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "VIGIL_CONFIG=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (e *env) mustVigil(args ...string) string {
	e.t.Helper()
	out, err := e.vigil(args...)
	if err != nil {
		e.t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *env) tasks(dagID string) map[string]scheduler.TaskInstance {
	e.t.Helper()
	out, err := e.vigil("tasks", "list", "--dag", dagID, "--limit", "0", "-o", "json")
	if err != nil {
		return nil // the database may not exist yet
	}
	var tis []scheduler.TaskInstance
	if err := unmarshalPage(out, &tis); err != nil {
		e.t.Fatalf("tasks list -o json: %v\n%s", err, out)
	}
	m := map[string]scheduler.TaskInstance{}
	for _, ti := range tis {
		m[ti.TaskID] = ti
	}
	return m
}

// unmarshalPage reads the items of a paged list's -o json.
func unmarshalPage[T any](out string, items *[]T) error {
	var pg struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(out), &pg); err != nil {
		return err
	}
	*items = pg.Items
	return nil
}

// waitFor polls cond until it holds or the deadline passes.
func (e *env) waitFor(what string, within time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// executions returns how many times each task ran, from the marker files
// the tasks append to.
func (e *env) executions(task string) []string {
	data, _ := os.ReadFile(filepath.Join(e.ran, task))
	return strings.Fields(string(data))
}

const chainDAG = `
id: chain
tasks:
  - id: a
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/a']
  - id: b
    depends_on: [a]
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/b; sleep 4']
  - id: c
    depends_on: [b]
    command: [sh, -c, 'echo "$VIGIL_TRY" >> RAN_DIR/c']
`

func allSucceeded(tis map[string]scheduler.TaskInstance, n int) bool {
	if len(tis) != n {
		return false
	}
	for _, ti := range tis {
		if ti.State != scheduler.StateSuccess {
			return false
		}
	}
	return true
}

// TestRestartMidRun kills the scheduler with SIGKILL while a task runs and
// starts a new one: the running task is adopted, not run again, and the
// run completes.
func TestRestartMidRun(t *testing.T) {
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, err := e.vigil("dags", "list")
		return err == nil && strings.Contains(out, "chain")
	})
	e.mustVigil("dags", "trigger", "chain")
	e.waitFor("task b to run", 30*time.Second, func() bool {
		return e.tasks("chain")["b"].State == scheduler.StateRunning
	})
	_ = d.stop(t, syscall.SIGKILL, 10*time.Second)

	e.start()
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })
	for _, task := range []string{"a", "b", "c"} {
		if got := e.executions(task); len(got) != 1 {
			t.Errorf("task %s ran %d times (tries %v), want once", task, len(got), got)
		}
	}
	hist := e.mustVigil("tasks", "history", "chain", "latest", "b")
	if !strings.Contains(hist, "adopted after restart") {
		t.Errorf("history of b does not show the adoption:\n%s", hist)
	}
	if !strings.Contains(hist, "chain/") || !strings.Contains(hist, "success") {
		t.Errorf("history of b does not end in success:\n%s", hist)
	}
}

// TestSIGTERMDrains stops the scheduler with SIGTERM while a task runs:
// the task is stopped and recorded as such, and runs again after restart.
func TestSIGTERMDrains(t *testing.T) {
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("task b to run", 30*time.Second, func() bool {
		return e.tasks("chain")["b"].State == scheduler.StateRunning
	})
	if err := d.stop(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("scheduler exited with %v after SIGTERM, want a clean exit", err)
	}
	b := e.tasks("chain")["b"]
	if b.State != scheduler.StateUpForRetry {
		t.Fatalf("after drain b is %s, want up_for_retry", b.State)
	}
	hist := e.mustVigil("tasks", "history", "chain", "latest", "b")
	if !strings.Contains(hist, "scheduler shutting down") {
		t.Errorf("history of b does not say it was stopped by the shutdown:\n%s", hist)
	}

	e.start()
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })
	if got := e.executions("b"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("task b tries %v, want [1 2]", got)
	}
}

// TestBrokenDAGFile checks that one malformed file neither stops the other
// DAGs nor goes unreported.
func TestBrokenDAGFile(t *testing.T) {
	e := newEnv(t, map[string]string{
		"chain.yaml":  chainDAG,
		"broken.yaml": "id: broken\ntasks:\n  - id: x\n    comand: [true]\n",
	})
	e.start()
	e.waitFor("the good DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	out := e.mustVigil("dags", "list")
	if !strings.Contains(out, "broken.yaml") || !strings.Contains(out, "comand") {
		t.Errorf("dags list does not show the broken file's error:\n%s", out)
	}
	e.waitFor("the good DAG's run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })

	if _, err := e.vigil("dags", "validate", e.dags); err == nil {
		t.Errorf("dags validate exited 0 on a broken file")
	}

	// The drill: runbooks/dag-validation.md's first command, with its
	// folder placeholder pointed at this one, names the file, the line and
	// the fix.
	tool, args, err := runbooks.FirstCommand("dag-validation.md")
	if err != nil || tool != "vigil" || len(args) != 3 || args[2] != "path/to/dags" {
		t.Fatalf("runbooks/dag-validation.md's first command is %s %v (%v); want vigil dags validate path/to/dags", tool, args, err)
	}
	out, err = e.vigil(append(args[:2:2], e.dags)...)
	if err == nil || !strings.Contains(out, "broken.yaml:4:") || !strings.Contains(out, `did you mean "command"`) {
		t.Errorf("the runbook's first command does not name the file, line and fix (err %v):\n%s", err, out)
	}
}
