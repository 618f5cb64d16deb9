package vet_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli"
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
