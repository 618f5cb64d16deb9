package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
)

// TestDagsValidateOutput: dags validate speaks the read commands' -o
// grammar; each problem keeps its file, line, column and task.
func TestDagsValidateOutput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("id: bad\ntasks:\n  - id: a\n    comand: [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		ios, _, out, _ := iostreams.Test()
		code := runWith(context.Background(), append([]string{"dags", "validate"}, args...), ios, func(string) string { return "" })
		return out.String(), code
	}
	out, code := run(bad, "../../examples/dags", "-o", "json")
	if code != exitcode.Found {
		t.Fatalf("exit %d, want %d:\n%s", code, exitcode.Found, out)
	}
	var rep validateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if rep.Valid < 3 || rep.FilesWithErrors != 1 || len(rep.Errors) == 0 {
		t.Fatalf("report %+v", rep)
	}
	found := false
	for _, p := range rep.Errors {
		if p.File == bad && p.Line == 4 && p.Column == 5 && p.Task == "a" && strings.Contains(p.Message, `did you mean "command"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem at %s:4:5 for task a: %+v", bad, rep.Errors)
	}
	if out, code := run("../../examples/dags", "-o", "jsonpath={.files_with_errors}"); code != 0 || out != "0\n" {
		t.Errorf("-o jsonpath on valid DAGs: exit %d, %q", code, out)
	}
}
