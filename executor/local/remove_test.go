package local

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveRun(t *testing.T) {
	dir := t.TempDir()
	mk := func(parts ...string) string {
		p := filepath.Join(append([]string{dir}, parts...)...)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, logFile), []byte("hello\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := mk("etl", "old", "a", "try-1")
	mk("etl", "old", "b", "try-2")
	kept := mk("etl", "live", "a", "try-1")
	outside := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := RemoveRun(dir, "etl", "old"); err != nil {
		t.Fatalf("RemoveRun: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(gone))); !os.IsNotExist(err) {
		t.Errorf("run folder still there after RemoveRun: %v", err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("another run's folder: %v; want it kept", err)
	}
	// No folder: nothing to do.
	if err := RemoveRun(dir, "etl", "never-ran"); err != nil {
		t.Errorf("RemoveRun of a run with no folder: %v", err)
	}
	// Ids that read as paths stay one component each: nothing escapes.
	for _, ids := range [][2]string{{"..", ".."}, {"../..", "x"}, {"etl", "../live"}, {"", ""}, {"/", "/"}} {
		if err := RemoveRun(dir, ids[0], ids[1]); err != nil {
			t.Errorf("RemoveRun(%q, %q): %v", ids[0], ids[1], err)
		}
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("after path-like ids, another run's folder: %v; want it kept", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file outside the data folder: %v; want it kept", err)
	}
	// A DAG folder that is a symlink is not followed.
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := RemoveRun(dir, "linked", "precious"); err == nil {
		t.Error("RemoveRun through a symlinked DAG folder succeeded; want it refused")
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("file behind a symlink: %v; want it kept", err)
	}
	if err := RemoveRun("", "etl", "live"); err == nil {
		t.Error("RemoveRun with no data folder succeeded; want an error")
	}
}
