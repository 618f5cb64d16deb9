package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RemoveRun removes the folder of one run (its tasks' try folders and
// logs) from a local executor's Dir, or from a registry folder, which has
// the same layout. Retention (issue 18) calls it for the runs it deleted
// from the store. A run with no folder is not an error. The path is built
// as the executor builds it (one component per id, see safeName) and is
// refused unless it lies strictly inside dir, two levels down.
func RemoveRun(dir, dagID, runID string) error {
	if dir == "" {
		return errors.New("remove run folder: no data folder given")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("remove run folder: %w", err)
	}
	path := filepath.Join(root, safeName(dagID), safeName(runID))
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) ||
		len(strings.Split(rel, string(filepath.Separator))) != 2 {
		return fmt.Errorf("remove run folder of %s/%s: %s is not a run folder inside %s", dagID, runID, path, root)
	}
	// A symlinked DAG folder would lead the removal outside root.
	if fi, err := os.Lstat(filepath.Dir(path)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("remove run folder of %s/%s: %s is a symbolic link; not following it", dagID, runID, filepath.Dir(path))
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove run folder of %s/%s: %w", dagID, runID, err)
	}
	// Drop the DAG's folder once it is empty; another run may be adding
	// to it, so a folder not empty is left alone.
	_ = os.Remove(filepath.Dir(path))
	return nil
}
