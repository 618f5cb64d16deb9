package bundle_test

import (
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/bundle"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"vigil-bundle-20261123T120501123Z-stale.tar.gz", true},
		{"vigil-bundle-20261123T120501123Z-restart-loop_stuck.tar.gz", true},
		{"", false},
		{"..", false},
		{"../../x", false},
		{"/etc/passwd", false},
		{"vigil-bundle-a/../b.tar.gz", false},
		{`vigil-bundle-a\b.tar.gz`, false},
		{"vigil-bundle-a..tar.gz", false},
		{"vigil-bundle-a b.tar.gz", false},
		{"vigil-bundle-\x1b[2J.tar.gz", false},
		{"go.mod", false},
		{".vigil-bundle-a.tar.gz", false},
		{"vigil-bundle-" + strings.Repeat("a", 250) + ".tar.gz", false},
	}
	for _, tt := range tests {
		if err := bundle.CheckName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestWrittenNamesPass: whatever the reason, the writer's names pass
// CheckName (a reason with dots used to give names holding "..").
func TestWrittenNamesPass(t *testing.T) {
	w, err := bundle.New(bundle.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"", "stale", "restart: loop stuck...", "../../etc/passwd", "v1.2 ünïcode"} {
		info, err := w.Write(t.Context(), reason)
		if err != nil {
			t.Fatal(err)
		}
		if err := bundle.CheckName(info.Name); err != nil {
			t.Errorf("reason %q: %v", reason, err)
		}
	}
}
