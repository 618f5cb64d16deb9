package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigilhq/vigil/scheduler"
)

// ErrOtherStore is returned (wrapped) by New for a Dir whose try folders
// belong to another database than Options.StoreID.
var ErrOtherStore = errors.New("the data folder belongs to another database")

// storeMarker, in Dir, holds the id of the database Dir's tries belong
// to. Its leading dot keeps it apart from the DAG folders: safeName never
// starts a name with a dot.
const storeMarker = ".vigil-store"

// bindToStore makes sure Dir's try folders are the database's (issue 16:
// a fresh database with an old data folder took the old folders for its
// own tries and recorded them as run, without running them). A Dir
// marked with the database's id is used; one marked with another id is
// refused; an unmarked Dir is marked if it holds no try folder, or if
// every run folder it holds names a run the database has (a Dir from
// before database ids, used with this database); any other is refused.
func bindToStore(dir, storeID string, knownRuns func() ([]scheduler.Run, error)) error {
	marker := filepath.Join(dir, storeMarker)
	data, err := os.ReadFile(marker)
	switch {
	case err == nil:
		have := strings.TrimSpace(string(data))
		if have == storeID {
			return nil
		}
		return fmt.Errorf("%w: data folder %s belongs to database %s, and this database is %s (%s); "+
			"its try folders would be taken for this database's tries: move the folder aside, or pass a fresh --data-dir",
			ErrOtherStore, dir, have, storeID, marker)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read %s: %w", marker, err)
	}
	unknown, err := unknownRuns(dir, knownRuns)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		shown := unknown
		if len(shown) > 3 {
			shown = append(shown[:3:3], "...")
		}
		return fmt.Errorf("%w: data folder %s holds try folders of %d runs this database (%s) does not have (%s) and no %s marker: "+
			"it was used with another database; move the folder aside, or pass a fresh --data-dir",
			ErrOtherStore, dir, len(unknown), storeID, strings.Join(shown, ", "), storeMarker)
	}
	tmp := marker + ".tmp"
	if err := os.WriteFile(tmp, []byte(storeID+"\n"), 0o600); err != nil {
		return fmt.Errorf("mark data folder %s: %w", dir, err)
	}
	if err := os.Rename(tmp, marker); err != nil {
		return fmt.Errorf("mark data folder %s: %w", dir, err)
	}
	return nil
}

// unknownRuns lists dir's run folders (DAG/RUN, as named on disk) that
// name no run of knownRuns, which is called only if dir has any.
func unknownRuns(dir string, knownRuns func() ([]scheduler.Run, error)) ([]string, error) {
	var folders []string
	dags, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range dags {
		if !d.IsDir() {
			continue
		}
		runs, err := os.ReadDir(filepath.Join(dir, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.IsDir() {
				folders = append(folders, d.Name()+"/"+r.Name())
			}
		}
	}
	if len(folders) == 0 {
		return nil, nil
	}
	if knownRuns == nil {
		return folders, nil
	}
	runs, err := knownRuns()
	if err != nil {
		return nil, fmt.Errorf("list the database's runs to check data folder %s: %w", dir, err)
	}
	known := make(map[string]bool, len(runs))
	for _, r := range runs {
		known[safeName(r.DAGID)+"/"+safeName(r.RunID)] = true
	}
	var unknown []string
	for _, f := range folders {
		if !known[f] {
			unknown = append(unknown, f)
		}
	}
	return unknown, nil
}
