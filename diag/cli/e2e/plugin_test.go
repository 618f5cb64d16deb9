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
	for _, name := range []string{"kubectl-diag", "kubectl_complete-diag"} {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, name), "github.com/vigilhq/vigil/cmd/"+name).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	// No kubeconfig anywhere, and not in a pod: HOME has no .kube.
	home := t.TempDir()
	run := func(name string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HOME="+home, "KUBECONFIG=", "KUBERNETES_SERVICE_HOST=")
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
		{"help", []string{"--help"}, 0, []string{"kubectl diag [command]", "--pod", "--kubeconfig", "-n, --namespace", "--context", "-c, --container", "--diag-path",
			"\n  kubectl diag attach --pod deploy/vigil-scheduler -n vigil\n", "kubectl exec deploy/vigil-scheduler -- diag attach"}},
		{"commands in descriptions", []string{"bundle", "ls", "--help"}, 0, []string{"'kubectl diag bundle get NAME'"}},
		{"verb help", []string{"restart", "--help"}, 0, []string{"kubectl diag restart [flags]", "--if-stalled"}},
		{"usage error", []string{"attach", "--nope"}, 2, []string{"Run 'kubectl diag attach --help' for usage."}},
		{"unknown command", []string{"nope"}, 2, []string{`unknown command "nope" for "kubectl diag"`, "Run 'kubectl diag --help' for usage."}},
		{"kube flags", []string{"health", "--help"}, 0, []string{"--server", "--token string", "--as string", "--as-group", "--request-timeout", "--certificate-authority", "--insecure-skip-tls-verify", "--pod string"}},
		{"no kubeconfig", []string{"health", "--pod", "deploy/vigil-scheduler"}, 3, []string{
			"--pod: no kubeconfig found: looked at $KUBECONFIG (unset), " + filepath.Join(home, ".kube", "config") + " (does not exist), the in-cluster config (not in a pod: $KUBERNETES_SERVICE_HOST is unset). Give --kubeconfig FILE or set $KUBECONFIG, or --server URL with --token"}},
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
	// Every command's examples are typed as the plugin's.
	t.Run("examples", func(t *testing.T) {
		for _, verb := range [][]string{{"attach"}, {"stacks"}, {"tasks"}, {"hangs"}, {"health"}, {"version"}, {"profile"},
			{"trace"}, {"loglevel"}, {"bundle"}, {"bundle", "ls"}, {"restart"}} {
			out, code := run(bin, append(verb, "--help")...)
			if code != 0 {
				t.Fatalf("kubectl-diag %s --help: exit %d\n%s", strings.Join(verb, " "), code, out)
			}
			_, examples, ok := strings.Cut(out, "\nExamples:\n")
			examples, _, _ = strings.Cut(examples, "\n\n")
			if !ok {
				continue
			}
			plugin := 0
			for _, line := range strings.Split(examples, "\n") {
				l := strings.TrimSpace(line)
				if strings.HasPrefix(l, "diag ") {
					t.Errorf("kubectl-diag %s --help: example %q does not say kubectl diag", strings.Join(verb, " "), l)
				}
				if strings.HasPrefix(l, "kubectl diag ") {
					plugin++
				}
			}
			if plugin == 0 {
				t.Errorf("kubectl-diag %s --help: no example says kubectl diag:\n%s", strings.Join(verb, " "), examples)
			}
		}
	})
	t.Run("completion helper", func(t *testing.T) {
		out, code := run(filepath.Join(dir, "kubectl_complete-diag"), "__complete", "at")
		if code != 0 || !strings.HasPrefix(out, "attach\t") || !strings.Contains(out, "\n:4\n") {
			t.Errorf("kubectl_complete-diag __complete at: exit %d\n%s", code, out)
		}
	})
	t.Run("through kubectl", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not on $PATH")
		}
		out, code := run(kubectl, "diag", "version")
		if code != 0 || !strings.HasPrefix(out, "diag ") {
			t.Errorf("kubectl diag version: exit %d\n%s", code, out)
		}
		// kubectl's own completion runs kubectl_complete-diag.
		out, code = run(kubectl, "__complete", "diag", "hea")
		if code != 0 || !strings.Contains(out, "health") {
			t.Errorf("kubectl __complete diag hea: exit %d\n%s", code, out)
		}
	})
}
