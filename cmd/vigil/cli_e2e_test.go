package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	diagcli "github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
	"github.com/vigilhq/vigil/scheduler"
)

// TestAdminCommandsNeedOnlyAToken: from a folder with no database and no
// database credentials, with only the server's address and a token, the
// admin commands work against a real `vigil run` (issue 19); a context
// file names the same; a read-only token's clear is refused with exit 4
// and the server's message; a token file others can read is refused.
func TestAdminCommandsNeedOnlyAToken(t *testing.T) {
	e := newEnv(t, map[string]string{"etl.yaml": opsDAGs})
	tokDir := t.TempDir()
	opFile, opSecret := writeToken(t, tokDir, "alice")
	roFile, roSecret := writeToken(t, tokDir, "bob")
	e.extra = []string{"--api-token", "alice:operator:" + opFile, "--api-token", "bob:read-only:" + roFile}
	d := e.start()
	server := e.local(d).Server

	// An operator's laptop: an empty folder, no runtime record to find,
	// no VIGIL_* variables but those given.
	laptop := t.TempDir()
	ctxFile := filepath.Join(laptop, "contexts.yaml")
	cli := func(env []string, args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, vigilBin, args...)
		cmd.Dir = laptop
		cmd.Env = append(e.environ(), "VIGIL_RUNTIME_DIR="+filepath.Join(laptop, "run"), "VIGIL_CONTEXTS="+ctxFile)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("vigil %v: %v", args, err)
		}
		return string(out), 0
	}
	as := func(token string) []string { return []string{"--server", server, "--token-file", token} }

	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		out, code := cli(nil, append([]string{"dags", "list"}, as(opFile)...)...)
		return code == 0 && strings.Contains(out, "etl")
	})
	if out, code := cli(nil, append([]string{"dags", "trigger", "etl", "--reason", "laptop"}, as(opFile)...)...); code != 0 || !strings.Contains(out, "triggered etl run") {
		t.Fatalf("trigger with an operator token: exit %d\n%s", code, out)
	}
	e.waitFor("load to fail", 60*time.Second, func() bool { return e.tasks("etl")["load"].State == scheduler.StateFailed })

	// The same through the environment, and through a context.
	env := []string{"VIGIL_SERVER=" + server, "VIGIL_TOKEN_FILE=" + roFile}
	if out, code := cli(env, "tasks", "list", "--dag", "etl", "--run", "latest", "-o", "jsonpath={.items[*].task_id}"); code != 0 || strings.TrimSpace(out) != "extract load report" {
		t.Errorf("tasks list by $VIGIL_SERVER: exit %d, %q; want the three tasks", code, out)
	}
	if out, code := cli(nil, "config", "set-context", "prod", "--server", server, "--token-file", roFile, "--current"); code != 0 {
		t.Fatalf("config set-context: exit %d\n%s", code, out)
	}
	if out, code := cli(nil, "runs", "list", "--no-headers"); code != 0 || !strings.Contains(out, "etl") || strings.Contains(out, "STATE") {
		t.Errorf("runs list by the current context: exit %d\n%s", code, out)
	}

	// A read-only token may not clear: exit 4 and the server's message.
	out, code := cli(nil, append([]string{"tasks", "clear", "etl", "latest", "load"}, as(roFile)...)...)
	if code != exitcode.Error || !strings.Contains(out, "bob") || !strings.Contains(out, "operator") {
		t.Errorf("clear with a read-only token: exit %d\n%s\nwant 4 and the server's refusal naming bob and the operator role", code, out)
	}
	// The operator's clear goes through.
	if out, code := cli(nil, append([]string{"tasks", "clear", "etl", "latest", "load", "--reason", "retry from laptop"}, as(opFile)...)...); code != 0 || !strings.Contains(out, "done by scheduler") {
		t.Errorf("clear with an operator token: exit %d\n%s", code, out)
	}
	hist := e.history("etl", "load")
	if !strings.Contains(hist, "alice") || !strings.Contains(hist, "retry from laptop") {
		t.Errorf("load's history does not name the token and the reason:\n%s", hist)
	}

	// A token file others can read is refused before any request.
	if err := os.Chmod(opFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(nil, append([]string{"dags", "list"}, as(opFile)...)...); code != exitcode.Error || !strings.Contains(out, "chmod 600") {
		t.Errorf("a token file of mode 0644: exit %d\n%s\nwant 4 and chmod 600", code, out)
	}
	// No server anywhere: exit 3 and what to do.
	if out, code := cli([]string{"VIGIL_CONTEXTS=" + filepath.Join(laptop, "none.yaml")}, "status"); code != exitcode.Unreachable || !strings.Contains(out, "vigil run") {
		t.Errorf("no server: exit %d\n%s\nwant 3 and what to do", code, out)
	}
	// No database was opened or made here, and no token is in the logs.
	if _, err := os.Stat(filepath.Join(laptop, "vigil.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a vigil.db appeared in the operator's folder: %v", err)
	}
	for _, secret := range []string{opSecret, roSecret} {
		if strings.Contains(d.logs.String(), secret) {
			t.Errorf("a token is in the scheduler's log")
		}
	}
}

// TestExitCodesOfBothBinaries: vigil and diag share one table of exit
// statuses (package exitcode), in-process, each case a real failure.
func TestExitCodesOfBothBinaries(t *testing.T) {
	dir := t.TempDir()
	good, bad, empty := filepath.Join(dir, "good"), filepath.Join(dir, "bad"), filepath.Join(dir, "empty")
	for _, d := range []string{good, bad, empty} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(good, "a.yaml"), []byte("id: a\ntasks:\n  - id: x\n    command: [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "b.yaml"), []byte("id: b\ntasks:\n  - id: x\n    comand: [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	closed := "http://" + freeAddr(t)           // nothing listens there
	openTok := filepath.Join(dir, "open.token") // a token file others can read
	if err := os.WriteFile(openTok, []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIGIL_RUNTIME_DIR": empty, "VIGIL_CONTEXTS": filepath.Join(empty, "contexts.yaml")}
	vigil := func(args ...string) (int, string) {
		ios, _, out, errOut := iostreams.Test()
		code := runWith(t.Context(), args, ios, func(k string) string { return env[k] })
		return code, out.String() + errOut.String()
	}
	diag := func(args ...string) (int, string) {
		ios, _, out, errOut := iostreams.Test()
		code := diagcli.MainContext(t.Context(), args, ios, "test")
		return code, out.String() + errOut.String()
	}
	tests := []struct {
		name string
		run  func(...string) (int, string)
		args []string
		want int
	}{
		{"vigil ok", vigil, []string{"dags", "validate", good}, exitcode.OK},
		{"vigil found: an invalid DAG", vigil, []string{"dags", "validate", bad}, exitcode.Found},
		{"vigil usage: -o", vigil, []string{"dags", "list", "-o", "xml"}, exitcode.Usage},
		{"vigil usage: a flag", vigil, []string{"runs", "list", "--bogus"}, exitcode.Usage},
		{"vigil usage: an unknown command", vigil, []string{"nope"}, exitcode.Usage},
		{"vigil usage: an unknown subcommand", vigil, []string{"dags", "nope"}, exitcode.Usage},
		{"vigil usage: an unknown subcommand of config", vigil, []string{"config", "nope"}, exitcode.Usage},
		{"vigil usage: an unknown help topic", vigil, []string{"help", "dags", "nope"}, exitcode.Usage},
		{"vigil usage: an unknown completion shell", vigil, []string{"completion", "tcsh"}, exitcode.Usage},
		{"vigil error: a DAG path that is not there", vigil, []string{"dags", "validate", filepath.Join(dir, "none.yaml")}, exitcode.Error},
		{"vigil unreachable: none found", vigil, []string{"status"}, exitcode.Unreachable},
		{"vigil unreachable: refused", vigil, []string{"status", "--server", closed}, exitcode.Unreachable},
		{"vigil error: no token file", vigil, []string{"status", "--server", closed, "--token-file", filepath.Join(dir, "none")}, exitcode.Error},
		{"diag ok", diag, []string{"version"}, exitcode.OK},
		{"diag usage", diag, []string{"hangs", "--bogus"}, exitcode.Usage},
		{"diag usage: an unknown command", diag, []string{"nope"}, exitcode.Usage},
		{"diag usage: an unknown subcommand", diag, []string{"trace", "tial"}, exitcode.Usage},
		{"diag unreachable", diag, []string{"hangs", "--runtime-dir", empty}, exitcode.Unreachable},
		{"diag error: an open token file", diag, []string{"hangs", "--addr", strings.TrimPrefix(closed, "http://"), "--token-file", openTok}, exitcode.Error},
		{"vigil error: an open token file", vigil, []string{"status", "--server", closed, "--token-file", openTok}, exitcode.Error},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := tt.run(tt.args...)
			if code != tt.want {
				t.Errorf("%v: exit %d, want %d\n%s", tt.args, code, tt.want, out)
			}
			// A usage error says where the help is, naming the command.
			if code == exitcode.Usage && !strings.Contains(out, " --help' for usage.") {
				t.Errorf("%v: no \"Run '... --help' for usage.\":\n%s", tt.args, out)
			}
		})
	}
	// Both binaries' help shows the table.
	for name, run := range map[string]func(...string) (int, string){"vigil": vigil, "diag": diag} {
		if _, out := run("--help"); !strings.Contains(out, exitcode.Help) {
			t.Errorf("%s --help lacks the exit-status table:\n%s", name, out)
		}
	}
}
