package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKubectlPlugin runs diag installed as the kubectl plugin
// kubectl-diag: its help and usage name it "kubectl diag", it has the
// kubectl flags --pod needs, and kubectl finds it on $PATH.
func TestKubectlPlugin(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-diag")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/vigilhq/vigil/cmd/kubectl-diag").CombinedOutput(); err != nil {
		t.Fatalf("build kubectl-diag: %v\n%s", err, out)
	}
	run := func(name string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		return string(out), code
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"help", []string{"--help"}, 0, []string{"kubectl diag [command]", "--pod", "--kubeconfig", "-n, --namespace", "--context", "-c, --container", "--diag-path"}},
		{"verb help", []string{"restart", "--help"}, 0, []string{"kubectl diag restart [flags]", "--if-stalled"}},
		{"usage error", []string{"attach", "--nope"}, 2, []string{"Run 'kubectl diag attach --help' for usage."}},
		{"unknown command", []string{"nope"}, 2, []string{`unknown command "nope" for "kubectl diag"`, "Run 'kubectl diag --help' for usage."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := run(bin, tt.args...)
			if code != tt.code {
				t.Fatalf("kubectl-diag %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("kubectl-diag %s: output lacks %q:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
		})
	}
	t.Run("through kubectl", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not on $PATH")
		}
		out, code := run(kubectl, "diag", "version")
		if code != 0 || !strings.HasPrefix(out, "diag ") {
			t.Errorf("kubectl diag version: exit %d\n%s", code, out)
		}
	})
}
