package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vetLine returns the go vet command README.md tells users to run.
func vetLine(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cmd, ok := strings.CutPrefix(line, "$ go vet -vettool="); ok {
			cmd, _, _ = strings.Cut(cmd, "#")
			return "go vet -vettool=" + strings.TrimSpace(cmd)
		}
	}
	t.Fatal("README.md has no line `$ go vet -vettool=...`")
	return ""
}

// TestGoVetTool builds diag-vet, puts it on PATH and runs README.md's
// go vet line on two small modules: one whose http.Client, built without
// Timeout in another package, must be reported (through the facts go
// vet carries between packages), one that must pass.
func TestGoVetTool(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot build diag-vet or run go vet")
	}
	line := vetLine(t)
	if !strings.Contains(line, "$(which diag-vet)") {
		t.Fatalf("README's go vet line %q does not use $(which diag-vet)", line)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	bin := t.TempDir()
	build := exec.CommandContext(ctx, goBin, "build", "-o", filepath.Join(bin, "diag-vet"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build diag-vet: %v\n%s", err, out)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "GOWORK=off", "GOFLAGS=-mod=mod")
	tests := []struct {
		name     string
		dir      string
		wantExit bool
		want     string
	}{
		{"finding", "hang", true, "hang.go:10:9: Get on an http.Client without Timeout (built at client.go:7, returned by client.New)"},
		{"clean", "clean", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("testdata", tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, "sh", "-c", line)
			cmd.Dir, cmd.Env = dir, env
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case tt.wantExit && !errors.As(err, &exit):
				t.Fatalf("%s: %v, want a non-zero exit status\n%s", line, err, out)
			case !tt.wantExit && err != nil:
				t.Fatalf("%s: %v, want exit status 0\n%s", line, err, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("%s printed\n%s\nwant it to contain %q", line, out, tt.want)
			}
		})
	}
}
