package stacks_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/internal/exitcode"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// diag runs a diag command line in-process with stdin and returns its
// output and exit status.
func diag(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = cli.MainContext(ctx, args, ios, "test")
	return out.String(), errOut.String(), code
}

// buildDumper builds testdata/dumper.go.txt into a temporary folder.
func buildDumper(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/dumper.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"main.go": src, "go.mod": []byte("module dumper\n\ngo 1.24\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", "dumper", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build dumper: %v\n%s", err, out)
	}
	return filepath.Join(dir, "dumper")
}

// dump runs the dumper and returns its stdout and stderr: with "panic",
// until it panics; otherwise until it says ready and SIGQUIT ends it.
func dump(t *testing.T, bin string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=tracebacklabels=1", "GOTRACEBACK=all")
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var outBuf bytes.Buffer
	sc := bufio.NewScanner(outPipe)
	for sc.Scan() {
		outBuf.WriteString(sc.Text() + "\n")
		if sc.Text() == "ready" {
			if err := cmd.Process.Signal(syscall.SIGQUIT); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("dumper exited cleanly; want it killed by SIGQUIT or a panic\nstderr:\n%s", errBuf.Bytes())
	}
	return outBuf.Bytes(), errBuf.Bytes()
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFileFromRealProcess feeds the stderr of a real Go program, killed
// with SIGQUIT or dead of a panic, to diag stacks --file, and checks the
// groups, labels and filters of live stacks come out.
func TestFileFromRealProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := buildDumper(t)
	const fn = "main.blockedOnAVeryLongFunctionNameSoThatTruncationShows"
	_, quit := dump(t, bin)
	panicOut, panicErr := dump(t, bin, "panic")
	// kubectl logs --previous --timestamps: the program's log lines and its
	// dump, each line stamped.
	var logs bytes.Buffer
	for i, l := range strings.SplitAfter(string(panicOut)+string(panicErr), "\n") {
		if l != "" {
			logs.WriteString(time.Date(2026, 12, 7, 3, 0, i, 123456789, time.UTC).Format(time.RFC3339Nano) + " " + l)
		}
	}
	logs.WriteString("2026-12-07T03:00:59.5Z log: restarting\n")

	tests := []struct {
		name  string
		input []byte
	}{
		{"sigquit", quit},
		{"panic", panicErr},
		{"kubectl logs --previous --timestamps", logs.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "dump.txt", tt.input)
			out, errOut, code := diag(t, "", "stacks", "--file", path)
			if code != exitcode.OK {
				t.Fatalf("exit %d: %s\ninput:\n%s", code, errOut, tt.input)
			}
			if !strings.HasPrefix(out, "goroutine dump: ") {
				t.Errorf("no summary line:\n%s", out)
			}
			for _, want := range []string{"5 goroutines [chan receive]", "1 goroutine [chan receive] labels loop=scheduler", fn} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}

			// The same filters as live stacks, and -o json decodes as the
			// live snapshot does.
			out, errOut, code = diag(t, string(tt.input), "stacks", "--file", "-", "--match", "loop=scheduler", "-o", "json")
			if code != exitcode.OK {
				t.Fatalf("--match -o json: exit %d: %s", code, errOut)
			}
			var snap debugapi.Snapshot
			if err := json.Unmarshal([]byte(out), &snap); err != nil {
				t.Fatalf("-o json: %v\n%s", err, out)
			}
			if len(snap.Groups) != 1 || snap.Groups[0].Count != 1 || snap.Groups[0].Labels["loop"] != "scheduler" {
				t.Errorf("--match loop=scheduler: groups %+v", snap.Groups)
			}
			if snap.Goroutines < 7 {
				t.Errorf("goroutines %d: want the whole dump's count (>= 7)", snap.Goroutines)
			}
			if strings.Contains(out, "0001-01-01") {
				t.Errorf("-o json prints a zero time:\n%s", out)
			}

			out, _, code = diag(t, "", "stacks", "--file", path, "--min-wait", "1m")
			if code != exitcode.OK || !strings.Contains(out, "No goroutine group matches") {
				t.Errorf("--min-wait 1m on a fresh dump: exit %d\n%s", code, out)
			}
		})
	}
}

// TestFileGolden checks the output for recorded dumps (a scheduler's
// SIGQUIT output with waits of minutes, a panic) and the filters.
func TestFileGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"sigquit", []string{"--file", "../../stacks/testdata/dumps/sigquit.txt"}},
		{"sigquit-min-wait", []string{"--file", "../../stacks/testdata/dumps/sigquit.txt", "--min-wait", "5m"}},
		{"sigquit-match-max", []string{"--file", "../../stacks/testdata/dumps/sigquit.txt", "--match", "runtime", "--max", "1"}},
		{"panic-jsonpath", []string{"--file", "../../stacks/testdata/dumps/panic.txt", "-o", `jsonpath={range .groups[*]}{.count} {.state}{"\n"}{end}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := diag(t, "", append([]string{"stacks"}, tt.args...)...)
			if code != exitcode.OK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".golden"), []byte(out), *update)
		})
	}
}

// TestFileErrors: a file with no dump is refused with its name and what
// to give instead; --file does not go with --raw.
func TestFileErrors(t *testing.T) {
	empty := writeFile(t, "app.log", []byte("level=info msg=started\nlevel=error msg=\"exit status 2\"\n"))
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"no dump in file", "", []string{"--file", empty}, exitcode.Usage, []string{empty, "no goroutine dump found", "goroutine 1 [running]:"}},
		{"no dump on stdin", "hello\n", []string{"--file", "-"}, exitcode.Usage, []string{"standard input", "no goroutine dump found"}},
		{"missing file", "", []string{"--file", filepath.Join(t.TempDir(), "nope.txt")}, exitcode.Usage, []string{"nope.txt: no such file"}},
		{"with --raw", "", []string{"--file", empty, "--raw"}, exitcode.Usage, []string{"--raw", "--file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := diag(t, tt.stdin, append([]string{"stacks"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}
