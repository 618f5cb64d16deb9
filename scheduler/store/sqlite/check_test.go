package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corruptPage overwrites the root page of table in the (closed) database
// file at path with garbage: a bad page, as a disk or a careless copy
// leaves one.
func corruptPage(t *testing.T, path, table string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var root, size int64
	err = db.QueryRowContext(t.Context(), `SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&root)
	if err == nil {
		err = db.QueryRowContext(t.Context(), `PRAGMA page_size`).Scan(&size)
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, int(size)/4), (root-1)*size); err != nil {
		t.Fatal(err)
	}
}

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

	corruptPage(t, path, "runs")
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
	corruptPage(t, path, "schema_migrations")
	_, err := Open(t.Context(), path, Options{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a file with a bad schema_migrations page: %v; want ErrCorrupt naming the file", err)
	}
}
