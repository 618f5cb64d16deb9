package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
)

// TestExitCodes provokes each exit status of package exitcode's table for
// real, through the same runWith main uses: valid and invalid DAG files,
// unknown commands and flags, an API address nobody listens on, a file
// that cannot be read.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "id: good\ntasks:\n  - id: a\n    command: [\"true\"]\n", 0o644)
	bad := write("bad.yaml", "id: bad\ntasks:\n  - id: a\n    comand: [\"true\"]\n", 0o644)
	token := write("token", "secret\n", 0o600)
	// A port nobody listens on: taken, then given back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + l.Addr().String()
	l.Close()
	env := map[string]string{
		"VIGIL_RUNTIME_DIR": filepath.Join(dir, "run"),
		"VIGIL_CONTEXTS":    filepath.Join(dir, "contexts.yaml"),
		"VIGIL_CONFIG":      "",
	}
	tests := []struct {
		name string
		args []string
		code int
		// stderr must hold each.
		want []string
	}{
		{"valid DAG file", []string{"dags", "validate", good}, exitcode.OK, nil},
		{"no contexts is no error", []string{"config", "get-contexts"}, exitcode.OK, nil},
		{"invalid DAG file", []string{"dags", "validate", bad}, exitcode.Found, nil},
		{"unknown command", []string{"nope"}, exitcode.Usage, []string{`unknown command "nope" for "vigil"`, "Run 'vigil --help' for usage."}},
		{"unknown subcommand", []string{"dags", "nope"}, exitcode.Usage, []string{`unknown command "nope" for "vigil dags"`, "Run 'vigil dags --help' for usage."}},
		{"unknown subcommand of config", []string{"config", "nope"}, exitcode.Usage, []string{"Run 'vigil config --help' for usage."}},
		{"bad flag", []string{"tasks", "list", "--bogus"}, exitcode.Usage, []string{"unknown flag: --bogus", "Run 'vigil tasks list --help' for usage."}},
		{"bad -o", []string{"dags", "list", "-o", "xml"}, exitcode.Usage, []string{"table, json, yaml or jsonpath=TEMPLATE"}},
		{"no scheduler found", []string{"status"}, exitcode.Unreachable, nil},
		{"API nobody listens on", []string{"dags", "list", "--server", nobody, "--token-file", token}, exitcode.Unreachable, []string{nobody}},
		{"unreadable file", []string{"dags", "validate", filepath.Join(dir, "missing.yaml")}, exitcode.Error, []string{"missing.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ios, _, out, errOut := iostreams.Test()
			code := runWith(ctx, tt.args, ios, func(k string) string { return env[k] })
			if code != tt.code {
				t.Fatalf("vigil %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestHelpDocumentsExitCodes: the exit-code table is in --help.
func TestHelpDocumentsExitCodes(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"dags", "--help"}} {
		ios, _, out, _ := iostreams.Test()
		if code := runWith(context.Background(), args, ios, func(string) string { return "" }); code != 0 {
			t.Fatalf("vigil %v: exit %d", args, code)
		}
		if !strings.Contains(out.String(), exitcode.Help) {
			t.Errorf("vigil %v does not print the exit statuses:\n%s", args, out)
		}
	}
}
