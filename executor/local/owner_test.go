package local_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/executor/local"
	"github.com/vigilhq/vigil/scheduler"
)

// TestDataFolderBoundToDatabase (issue 16): a data folder is marked with
// the id of the database it is first used with; another database's
// scheduler is refused it, with a message naming the folder and both ids,
// instead of taking its try folders for its own tries.
func TestDataFolderBoundToDatabase(t *testing.T) {
	dir := t.TempDir()
	newExecutor(t, dir, local.Options{StoreID: "db-a"})
	newExecutor(t, dir, local.Options{StoreID: "db-a"}) // the same database again
	_, err := local.New(local.Options{Dir: dir, StoreID: "db-b"})
	if !errors.Is(err, local.ErrOtherStore) {
		t.Fatalf("New on a folder of database db-a, for db-b: %v; want ErrOtherStore", err)
	}
	for _, want := range []string{dir, "belongs to database db-a", "this database is db-b", "--data-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
}

// TestUnmarkedDataFolder: a folder from before database ids is adopted
// (marked) only if the database has every run it holds try folders of.
func TestUnmarkedDataFolder(t *testing.T) {
	runs := func(rs ...scheduler.Run) func() ([]scheduler.Run, error) {
		return func() ([]scheduler.Run, error) { return rs, nil }
	}
	oldFolder := func(t *testing.T) string {
		dir := t.TempDir()
		// "manual__2026-03-01T12:00:00Z" as safeName writes it.
		if err := os.MkdirAll(filepath.Join(dir, "etl", "manual__2026-03-01T12%3A00%3A00Z", "extract", "try-1"), 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	etlRun := scheduler.Run{DAGID: "etl", RunID: "manual__2026-03-01T12:00:00Z"}

	t.Run("the database has its runs", func(t *testing.T) {
		dir := oldFolder(t)
		newExecutor(t, dir, local.Options{StoreID: "db-a", KnownRuns: runs(etlRun, scheduler.Run{DAGID: "etl", RunID: "other"})})
		if _, err := local.New(local.Options{Dir: dir, StoreID: "db-b"}); !errors.Is(err, local.ErrOtherStore) {
			t.Errorf("the adopted folder is not marked as db-a's: New for db-b = %v", err)
		}
	})
	t.Run("a fresh database", func(t *testing.T) {
		dir := oldFolder(t)
		_, err := local.New(local.Options{Dir: dir, StoreID: "db-b", KnownRuns: runs()})
		if !errors.Is(err, local.ErrOtherStore) || !strings.Contains(err.Error(), "etl/manual__2026-03-01T12%3A00%3A00Z") {
			t.Fatalf("New on an unmarked folder the database knows nothing of: %v; want ErrOtherStore naming the run folder", err)
		}
		if _, err := os.Stat(filepath.Join(dir, ".vigil-store")); !os.IsNotExist(err) {
			t.Errorf("the refused folder was marked (%v)", err)
		}
	})
	t.Run("an empty folder", func(t *testing.T) {
		newExecutor(t, t.TempDir(), local.Options{StoreID: "db-b", KnownRuns: func() ([]scheduler.Run, error) {
			t.Error("KnownRuns called for an empty folder")
			return nil, nil
		}})
	})
}
