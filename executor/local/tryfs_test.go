package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

func TestSafeName(t *testing.T) {
	cases := []struct{ id, want string }{
		{"extract", "extract"},
		{"scheduled__2026-01-02T03:04:05+00:00", "scheduled__2026-01-02T03%3A04%3A05%2B00%3A00"},
		{"a/b", "a%2Fb"},
		{"..", "%2E."},
		{".hidden", "%2Ehidden"},
		{"", "%"},
		{"%", "%25"},
		{"é", "%C3%A9"},
	}
	for _, c := range cases {
		if got := safeName(c.id); got != c.want {
			t.Errorf("safeName(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	long := strings.Repeat("x/", 300)
	if got := safeName(long); len(got) > 255 || got == safeName(long+"y") {
		t.Errorf("safeName of a long id = %q (%d bytes): too long or not unique", got, len(got))
	}
}

func TestTryDirStaysInside(t *testing.T) {
	e := &Executor{dir: "/state"}
	k := scheduler.TryKey{TaskKey: scheduler.TaskKey{DAGID: "..", RunID: "../..", TaskID: "/etc"}, Try: 1}
	got := e.tryDir(k)
	if want := "/state/%2E./%2E.%2F../%2Fetc/try-1"; got != want {
		t.Errorf("tryDir = %q, want %q", got, want)
	}
}

// TestWrapperSurvivesGroupSIGTERM checks the wrapper on its own: after a
// SIGTERM to the whole group it must still be there to record the command's
// 143, and then exit with it (not die of the signal itself).
func TestWrapperSurvivesGroupSIGTERM(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", wrapperScript, "vigil-try", dir, "sleep", "30")
	cmd.Stdin = strings.NewReader("go\n")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, "sleep to run in the wrapper's group", func() bool { return groupSize(cmd.Process.Pid) == 2 })
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatal("the wrapper did not end after SIGTERM")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() || ws.ExitStatus() != 143 {
		t.Errorf("wrapper status = %v, want a normal exit with 143", cmd.ProcessState)
	}
	if code, ok, err := readExit(dir); err != nil || !ok || code != 143 {
		t.Errorf("recorded exit = %d, %v, %v; want 143", code, ok, err)
	}
}

// TestWrapperNeedsGoAhead: without "go" on stdin the command must not run.
func TestWrapperNeedsGoAhead(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	cmd := exec.Command("/bin/sh", "-c", wrapperScript, "vigil-try", dir, "touch", marker)
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Run(); err == nil {
		t.Error("the wrapper exited 0 without a go-ahead")
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran without a go-ahead")
	}
	if _, ok, _ := readExit(dir); ok {
		t.Error("an exit status was recorded for a command that never ran")
	}
}

// TestWrapperIgnoresTaskPath: a task that sets PATH must not keep the
// wrapper from recording its status.
func TestWrapperIgnoresTaskPath(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("/bin/sh", "-c", wrapperScript, "vigil-try", dir, "/bin/sh", "-c", "exit 5")
	cmd.Stdin = strings.NewReader("go\n")
	cmd.Env = []string{"PATH=/nonexistent"}
	_ = cmd.Run()
	if code, ok, err := readExit(dir); err != nil || !ok || code != 5 {
		t.Errorf("recorded exit = %d, %v, %v; want 5", code, ok, err)
	}
}

func TestProcStat(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	dir := t.TempDir()
	name := filepath.Join(dir, "we(ird) name")
	if err := os.Symlink("/bin/sleep", name); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	start, state, err := procStat(cmd.Process.Pid)
	if err != nil || start == 0 || state == 0 {
		t.Fatalf("procStat = %d, %q, %v", start, state, err)
	}
	if !sameProcess(cmd.Process.Pid, start) || sameProcess(cmd.Process.Pid, start+1) {
		t.Error("sameProcess does not tell the process by its start time")
	}
}

func groupSize(pgid int) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		if len(f) > 2 && f[2] == fmt.Sprint(pgid) {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
