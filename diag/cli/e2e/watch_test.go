package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

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
