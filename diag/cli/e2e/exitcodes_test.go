package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/internal/exitcode"
)

// TestExitCodes provokes each exit status of package exitcode's table for
// real: a live scheduler, code with a call that can hang, unknown
// commands and flags, a socket and an address nobody listens on, a
// bundle the scheduler does not have.
func TestExitCodes(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := l.Addr().String()
	l.Close()
	// A module whose one function dials with no timeout: diag vet finds it.
	mod := t.TempDir()
	for name, text := range map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		"m.go":   "package m\n\nimport \"net\"\n\nfunc Dial(a string) (net.Conn, error) { return net.Dial(\"tcp\", a) }\n",
	} {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		// chdir, if set, is the working directory.
		chdir string
		args  []string
		code  int
		want  []string // in stderr
	}{
		{"healthy scheduler", "", []string{"health"}, exitcode.OK, nil},
		{"a call that can hang", mod, []string{"vet", "./..."}, exitcode.Found, []string{"1 finding"}},
		{"unknown command", "", []string{"nope"}, exitcode.Usage, []string{`unknown command "nope" for "diag"`, "Run 'diag --help' for usage."}},
		{"unknown profile", "", []string{"profile", "nope"}, exitcode.Usage, []string{"Run 'diag profile --help' for usage."}},
		{"unknown help topic", "", []string{"help", "profile", "nope"}, exitcode.Usage, []string{`unknown help topic "profile nope"`}},
		{"unknown trace subcommand", "", []string{"trace", "tial"}, exitcode.Usage, nil},
		{"unknown completion shell", "", []string{"completion", "tcsh"}, exitcode.Usage, []string{"Run 'diag completion --help' for usage."}},
		{"bad flag", "", []string{"stacks", "--bogus"}, exitcode.Usage, []string{"unknown flag: --bogus", "Run 'diag stacks --help' for usage."}},
		{"bad -o", "", []string{"attach", "-o", "xml"}, exitcode.Usage, []string{"table, json, yaml or jsonpath=TEMPLATE"}},
		{"socket nobody listens on", "", []string{"health", "--socket", filepath.Join(dir, "vigil.sock")}, exitcode.Unreachable, nil},
		{"address nobody listens on", "", []string{"health", "--addr", nobody, "--token-file", token}, exitcode.Unreachable, nil},
		{"bundle the scheduler does not have", "", []string{"bundle", "get", "vigil-bundle-20010101T000000000Z-none.tar.gz", "-f", dir}, exitcode.Error, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.chdir != "" {
				t.Chdir(tt.chdir)
			}
			r := clitest.Run(t, s, tt.args...)
			if r.Code != tt.code {
				t.Fatalf("diag %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), r.Code, tt.code, r.Out, r.Err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Err, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.Err)
				}
			}
		})
	}
	t.Run("help documents the table", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"stacks", "--help"}} {
			r := clitest.Run(t, nil, args...)
			if r.Code != 0 || !strings.Contains(r.Out, exitcode.Help) {
				t.Errorf("diag %v: exit %d, exit statuses not in help:\n%s", args, r.Code, r.Out)
			}
		}
	})
}
