// Package clitest runs diag commands against a live `vigil run` process in
// tests: Main builds the vigil binary once per test binary, Start runs it
// on a throwaway folder with its own runtime and bundle directories, and
// Run executes a diag command line in-process, as a user would type it,
// with captured output and the exit status.
package clitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/debugserver"
)

var vigilBin string

// Main builds vigil (with -race) for the tests of a package and runs
// them: call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "diag-clitest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigilBin = filepath.Join(dir, "vigil")
	build := exec.Command("go", "build", "-race", "-o", vigilBin, "github.com/vigilhq/vigil/cmd/vigil")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vigil:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Options configure Start.
type Options struct {
	// DAGs are file name -> YAML; a default one-task DAG if empty.
	DAGs map[string]string
	// Extra are more `vigil run` flags.
	Extra []string
	// DB, if set, is the database URL (PostgreSQL) instead of a SQLite
	// file in the folder.
	DB string
	// Dir, if set, is an earlier scheduler's folder (Scheduler.Dir): the
	// new one starts on its database, data and bundles, as a restarted
	// container does.
	Dir string
}

// Scheduler is a running `vigil run`.
type Scheduler struct {
	Dir        string
	DB         string // the --db it runs on
	RuntimeDir string
	BundleDir  string
	Socket     string
	HealthAddr string
	// TokenFile, if set, is the API token Vigil's commands send: a
	// scheduler started with --api-token writes no local one.
	TokenFile string
	Cmd       *exec.Cmd
	logs      *syncBuffer
	done      chan error
}

// Logs returns what the scheduler has logged so far.
func (s *Scheduler) Logs() string { return s.logs.String() }

// Start runs `vigil run` (local executor, SQLite) and waits for its debug
// socket and its scheduler (the store open, see schedulerUp). It is
// killed when the test ends; its log is shown if the test failed.
func Start(t testing.TB, opts Options) *Scheduler {
	t.Helper()
	if vigilBin == "" {
		t.Fatal("clitest.Start: call clitest.Main from the package's TestMain")
	}
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	db := opts.DB
	if db == "" {
		db = filepath.Join(dir, "vigil.db")
	}
	s := &Scheduler{Dir: dir, DB: db, RuntimeDir: filepath.Join(dir, "run"), BundleDir: filepath.Join(dir, "bundles"),
		HealthAddr: freeAddr(t), logs: &syncBuffer{}, done: make(chan error, 1)}
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(opts.DAGs) == 0 {
		opts.DAGs = map[string]string{"hello.yaml": "id: hello\ntasks:\n  - id: say\n    command: [\"true\"]\n"}
	}
	for name, text := range opts.DAGs {
		if err := os.WriteFile(filepath.Join(dags, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"run", "--dags", dags, "--db", db,
		"--data-dir", filepath.Join(dir, "data"), "--health-addr", s.HealthAddr,
		"--runtime-dir", s.RuntimeDir, "--bundle-dir", s.BundleDir, "--log-level", "debug",
		// The operations API the admin commands (Vigil) reach, on a port
		// of its own, announced in s.RuntimeDir.
		"--api-addr", "127.0.0.1:0"}, opts.Extra...)
	s.Cmd = exec.Command(vigilBin, args...)
	s.Cmd.Dir = dir
	s.Cmd.Stdout, s.Cmd.Stderr = s.logs, s.logs
	if err := s.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.Cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.Cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("scheduler log:\n%s", s.logs.String())
		}
	})
	s.Socket = debugserver.SocketPath(s.RuntimeDir, s.Cmd.Process.Pid)
	deadline := time.Now().Add(60 * time.Second) // a -race binary on a busy 2-core machine
	for {
		if c, err := net.DialTimeout("unix", s.Socket, time.Second); err == nil {
			c.Close()
			if s.schedulerUp() {
				return s
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("vigil run exited before its debug socket appeared: %v\n%s", err, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no debug socket at %s after 60s\n%s", s.Socket, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// schedulerUp reports whether the scheduler exists, its store open and
// its heartbeats registered: the debug socket serves before that, while
// the database may still be out of reach, and /readyz says which.
func (s *Scheduler) schedulerUp() bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + s.HealthAddr + "/readyz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK || strings.Contains(string(body), "loading DAGs")
}

// Kill ends the scheduler with SIGKILL, as the kubelet does to a
// container that keeps failing its liveness probe, and waits for it.
func (s *Scheduler) Kill(t testing.TB) {
	t.Helper()
	if err := s.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-s.done
	s.done <- err
}

// Result is one diag command's outcome.
type Result struct {
	Out, Err string
	Code     int
}

// runLimit bounds a command run by Run: the longest a drill waits on is a
// timed profile of a few seconds; a command that hangs fails the test.
const runLimit = 3 * time.Minute

// Run runs `diag args...` in-process against s (unless args name their
// own target) and returns its output and exit status, within runLimit.
func Run(t testing.TB, s *Scheduler, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runLimit)
	defer cancel()
	return RunContext(t, ctx, s, args...)
}

// WideDAG is a DAG of n independent tasks t000, t001, ... each running
// command (a YAML flow sequence); header holds more top-level keys
// (schedule, defaults), one per line, or "".
func WideDAG(id, header string, n int, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\n%stasks:\n", id, header)
	for i := range n {
		fmt.Fprintf(&b, "  - id: t%03d\n    command: %s\n", i, command)
	}
	return b.String()
}

// RunContext is Run with a context that can end the command (--watch).
func RunContext(t testing.TB, ctx context.Context, s *Scheduler, args ...string) Result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	full := args
	if s != nil && !hasTarget(args) {
		full = append([]string{"--socket", s.Socket}, args...)
	}
	code := cli.MainContext(ctx, full, ios, "test")
	return Result{Out: out.String(), Err: errOut.String(), Code: code}
}

func hasTarget(args []string) bool {
	for _, a := range args {
		for _, f := range []string{"--socket", "--addr", "--pod", "--runtime-dir"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

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

// Vigil runs a `vigil` admin command (dags trigger, tasks list, ...)
// against s's operations API, which it finds in s.RuntimeDir as an
// operator does with no flags, and returns its combined output.
func (s *Scheduler) Vigil(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBin, args...)
	cmd.Dir = s.Dir
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "VIGIL_CONFIG", "VIGIL_RUNTIME_DIR", "VIGIL_SERVER", "VIGIL_TOKEN_FILE", "VIGIL_CONTEXT", "VIGIL_CONTEXTS":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "VIGIL_RUNTIME_DIR="+s.RuntimeDir, "VIGIL_CONTEXTS="+filepath.Join(s.Dir, "no-contexts.yaml"))
	if s.TokenFile != "" {
		env = append(env, "VIGIL_TOKEN_FILE="+s.TokenFile)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TaskState returns the state of task in the latest run of dag, or ""
// while there is none.
func (s *Scheduler) TaskState(t testing.TB, dag, task string) string {
	t.Helper()
	out, err := s.Vigil("tasks", "list", "--dag", dag, "--limit", "0", "-o", "json")
	if err != nil {
		return ""
	}
	var tis struct {
		Items []struct {
			TaskID string `json:"task_id"`
			State  string `json:"state"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &tis); err != nil {
		t.Fatalf("vigil tasks list -o json: %v\n%s", err, out)
	}
	for _, ti := range tis.Items {
		if ti.TaskID == task {
			return ti.State
		}
	}
	return ""
}

// WaitFor polls cond every 100ms until it holds, failing the test after
// within.
func WaitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
