package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFilesOwnerOnly: a new database and the -wal and -shm SQLite makes
// beside it are 0600 whatever the umask, and an existing 0644 database
// (as earlier versions made it) is narrowed to 0600 when opened.
func TestFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	check := func(t *testing.T, path string) {
		t.Helper()
		s := open(t, path, Options{})
		if err := s.SaveDAG(t.Context(), testDAG("etl")); err != nil { // writes the WAL
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s: %v", p, err)
				continue
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s has mode %o, want 600", filepath.Base(p), got)
			}
		}
	}
	t.Run("new", func(t *testing.T) { check(t, filepath.Join(t.TempDir(), "vigil.db")) })
	t.Run("existing 0644", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "vigil.db")
		s := open(t, path, Options{})
		s.Close()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		check(t, path)
	})
}

// TestExclusive: a second Exclusive open of one file is refused with
// ErrLocked naming the holder's pid and the lock file, while plain opens
// (the admin commands) still work beside it; closing the holder frees it.
func TestExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	first := open(t, path, Options{Exclusive: true})
	_, err := Open(t.Context(), path, Options{Exclusive: true})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("process %d holds %s.lock", os.Getpid(), path)) {
		t.Fatalf("second exclusive Open: %v; want ErrLocked naming pid %d and the lock file", err, os.Getpid())
	}
	admin := open(t, path, Options{})
	if _, err := admin.ListDAGs(t.Context()); err != nil {
		t.Fatalf("a plain Open beside the exclusive one: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, path, Options{Exclusive: true})
}
