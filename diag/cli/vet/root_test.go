package vet_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/golden"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

// TestDiagVet runs `diag vet` as a user types it: through the
// root command, with no scheduler anywhere.
func TestDiagVet(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		"m.go":   "package m\n\nimport \"net\"\n\nfunc Dial(a string) (net.Conn, error) { return net.Dial(\"tcp\", a) }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	ios, _, out, errOut := iostreams.Test()
	code := cli.MainContext(context.Background(), []string{"vet", "./..."}, ios, "test")
	if code != 1 {
		t.Fatalf("diag vet: exit status %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if want := "m.go:5:48: net.Dial has no timeout"; !strings.Contains(out.String(), want) {
		t.Errorf("stdout does not contain %q:\n%s", want, out)
	}
	if want := "diag vet: 1 finding: fix each, or explain it with //diag:ignore <reason>"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr does not contain %q:\n%s", want, errOut)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestVetHelp checks that `diag vet --help` shows vet's own flags only:
// the root's --pod, --socket, --kubeconfig... reach a scheduler, which
// vet never does.
func TestVetHelp(t *testing.T) {
	for _, args := range [][]string{{"vet", "--help"}, {"vet", "-h"}, {"help", "vet"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			if code := cli.MainContext(context.Background(), args, ios, "test"); code != 0 {
				t.Fatalf("diag %s: exit status %d, want 0\n%s", strings.Join(args, " "), code, errOut)
			}
			for _, flag := range []string{"--pod", "--socket", "--kubeconfig", "--addr", "Global Flags"} {
				if strings.Contains(out.String(), flag) {
					t.Errorf("help shows %q:\n%s", flag, out)
				}
			}
			golden.Check(t, filepath.Join("testdata", "help.golden"), out.Bytes(), *update)
		})
	}
	// The root's own help still lists them.
	ios, _, out, _ := iostreams.Test()
	cli.MainContext(context.Background(), []string{"attach", "--help"}, ios, "test")
	if !strings.Contains(out.String(), "--pod") {
		t.Errorf("diag attach --help lost the root's --pod flag:\n%s", out)
	}
}

// TestVetTags checks that -tags reaches package loading: the finding
// sits in a file behind a build tag.
func TestVetTags(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":   "module example.com/m\n\ngo 1.26\n",
		"m.go":     "package m\n",
		"fetch.go": "//go:build special\n\npackage m\n\nimport \"net/http\"\n\nfunc Fetch(u string) (*http.Response, error) { return http.Get(u) }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"vet", "./..."}, 0},
		{[]string{"vet", "-tags", "other,special", "./..."}, 1},
		{[]string{"vet", "-tags=special", "./..."}, 1},
		{[]string{"vet", "--tags", "special", "./..."}, 1},
		{[]string{"vet", "-tags", "other", "./..."}, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			code := cli.MainContext(context.Background(), tt.args, ios, "test")
			if code != tt.code {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if want := "fetch.go:7:55: http.Get uses http.DefaultClient"; tt.code == 1 && !strings.Contains(out.String(), want) {
				t.Errorf("stdout does not contain %q:\n%s", want, out)
			}
		})
	}
}
