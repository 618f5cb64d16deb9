package client_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestImportsOnlyTheWireContract holds package client to what its doc
// promises (issue 19): it imports the standard library and
// diag/debugapi, and nothing else of Vigil or of any other module, so
// that a diag binary carries none of the server it inspects. It asks the
// go command, for Linux (where the client asks the kernel who serves a
// socket) and for another system.
func TestImportsOnlyTheWireContract(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH (%v): cannot list the client's imports", err)
	}
	allowed := map[string]bool{
		"github.com/vigilhq/vigil/diag/client":   true,
		"github.com/vigilhq/vigil/diag/debugapi": true,
	}
	for _, goos := range []string{"linux", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, goCmd, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".")
			cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("go list -deps: %v\n%s", err, stderr)
			}
			var seen int
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				path, std, ok := strings.Cut(line, " ")
				if !ok {
					t.Fatalf("go list printed %q", line)
				}
				seen++
				if std == "true" || allowed[path] {
					continue
				}
				t.Errorf("diag/client depends on %s: it may import only the standard library and diag/debugapi (move the wire type it needs into diag/debugapi)", path)
			}
			// The list names the client itself and the wire contract; a
			// list without them means the command listed something else.
			if !strings.Contains(string(out), "github.com/vigilhq/vigil/diag/debugapi false") || seen < 10 {
				t.Fatalf("go list -deps did not list the client's imports:\n%s", out)
			}
		})
	}
}
