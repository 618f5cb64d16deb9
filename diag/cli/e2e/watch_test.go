package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/attach"
	"github.com/vigilhq/vigil/diag/cli/clitest"
)

// TestAttachWatchPiped checks that --watch, piped, prints one screen after
// another (no terminal escapes) and ends cleanly when interrupted.
func TestAttachWatchPiped(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	r := clitest.RunContext(t, ctx, s, "attach", "--watch", "--interval", "500ms")
	if r.Code != 0 {
		t.Fatalf("attach --watch: exit %d\n%s", r.Code, r.Err)
	}
	if n := strings.Count(r.Out, "\n---\n"); n < 2 {
		t.Errorf("attach --watch printed %d separators in 2.5s at 500ms, want at least 2:\n%s", n, r.Out)
	}
	if strings.Contains(r.Out, "\033[") {
		t.Errorf("piped output contains terminal escapes")
	}
}

// TestAttachWatchJSONLines checks that --watch -o json prints one compact
// JSON document per refresh, one per line, that a script decodes line by
// line.
func TestAttachWatchJSONLines(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	r := clitest.RunContext(t, ctx, s, "attach", "--watch", "--interval", "500ms", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("attach --watch -o json: exit %d\n%s", r.Code, r.Err)
	}
	lines := strings.Split(strings.TrimSuffix(r.Out, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("%d lines in 2.5s at 500ms, want at least 2:\n%s", len(lines), r.Out)
	}
	for i, line := range lines {
		var scr attach.Screen
		if err := json.Unmarshal([]byte(line), &scr); err != nil {
			t.Fatalf("line %d is not one JSON document: %v\n%s", i+1, err, line)
		}
		if scr.Taken.IsZero() || scr.Health == nil || len(scr.Health.Heartbeats) == 0 {
			t.Errorf("line %d: no time or heartbeats: %s", i+1, line)
		}
	}
}
