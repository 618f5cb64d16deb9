package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigilhq/vigil/diag/cli"
	"github.com/vigilhq/vigil/diag/cli/attach"
	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
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

// TestAttachWatchTerminal80x24 runs attach --watch on an 80x24 terminal
// against a live scheduler: every redraw fits, with the heartbeats on it.
func TestAttachWatchTerminal80x24(t *testing.T) {
	s := clitest.Start(t, clitest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	ios, _, out, errOut := iostreams.Test()
	ios.SetTTY(true)
	ios.SetSize(80, 24)
	if code := cli.MainContext(ctx, []string{"--socket", s.Socket, "attach", "--watch", "--interval", "500ms"}, ios, "test"); code != 0 {
		t.Fatalf("attach --watch: exit %d\n%s", code, errOut)
	}
	screens := strings.Split(out.String(), "\033[H\033[2J")[1:]
	if len(screens) < 2 {
		t.Fatalf("%d redraws in 2.5s at 500ms, want at least 2:\n%q", len(screens), out.String())
	}
	for i, scr := range screens {
		lines := strings.Split(strings.TrimSuffix(scr, "\n"), "\n")
		if len(lines) > 23 {
			t.Errorf("redraw %d: %d lines on a 24-line terminal:\n%s", i+1, len(lines), scr)
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > 80 {
				t.Errorf("redraw %d: a line of %d columns: %q", i+1, n, l)
			}
		}
		for _, want := range []string{"HEARTBEATS", "scheduler.loop", "CALLS IN FLIGHT", "GOROUTINES"} {
			if !strings.Contains(scr, want) {
				t.Errorf("redraw %d lacks %q:\n%s", i+1, want, scr)
			}
		}
	}
}
