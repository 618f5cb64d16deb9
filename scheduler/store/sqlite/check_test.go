package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/scheduler/store/sqlite/sqlitetest"
)

// TestQuickCheck: a sound file passes; a file with a bad page fails with
// ErrCorrupt naming the file and what to do, though Open, which does not
// read that page, succeeds (issue 16: the daemon then logged the page's
// error on every read, for ever).
func TestQuickCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	s := open(t, path, Options{})
	if err := s.SaveDAG(t.Context(), testDAG("etl")); err != nil {
		t.Fatal(err)
	}
	if err := s.QuickCheck(t.Context()); err != nil {
		t.Fatalf("QuickCheck of a sound file: %v", err)
	}
	s.Close()

	sqlitetest.CorruptPage(t, path, "runs")
	s = open(t, path, Options{})
	err := s.QuickCheck(t.Context())
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("QuickCheck of a file with a bad page: %v; want ErrCorrupt", err)
	}
	for _, want := range []string{path, "quick_check", "restore the file from a backup", "move it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

// TestOpenCorruptSchema: damage Open itself meets is ErrCorrupt too.
func TestOpenCorruptSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	open(t, path, Options{}).Close()
	sqlitetest.CorruptPage(t, path, "schema_migrations")
	_, err := Open(t.Context(), path, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a file with a bad schema_migrations page: %v; want ErrCorrupt naming the file", err)
	}
}
