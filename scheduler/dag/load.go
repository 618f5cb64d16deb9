package dag

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LoadResult is what LoadDir found: the DAGs that parsed, in path order,
// and a FileError for every file that did not.
type LoadResult struct {
	DAGs   []*DAG
	Errors []*FileError
}

// FileError is a DAG file that could not be used.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string {
	// Parse errors name the file on every line already.
	var list ErrorList
	if errors.As(e.Err, &list) {
		return list.Error()
	}
	return e.File + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// LoadDir parses every *.yaml and *.yml file under dir, in path order,
// skipping hidden files and folders. A broken file never stops the others
// from loading. When two files declare the same DAG id, the first (by path)
// wins and the second gets a FileError. A file larger than
// DefaultMaxFileSize is refused unread.
func LoadDir(dir string, presets Presets) LoadResult {
	res, _ := NewLoader(dir, presets, LoaderOptions{}).Load()
	return res
}

// dagFiles lists the DAG files under dir, sorted by path.
func dagFiles(dir string) ([]string, []*FileError) {
	var files []string
	var errs []*FileError
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &FileError{File: path, Err: fmt.Errorf("cannot read: %w; check its permissions", unwrapPath(err))})
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(path))
		if d.IsDir() || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		// A Kubernetes ConfigMap volume holds its files as symlinks into a
		// hidden folder, so a link to a regular file counts as a file.
		if d.Type()&fs.ModeSymlink != 0 {
			info, err := os.Stat(path)
			if err != nil {
				errs = append(errs, &FileError{File: path, Err: fmt.Errorf("cannot follow the link: %w; fix or remove it", unwrapPath(err))})
				return nil
			}
			if !info.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		files = append(files, path)
		return nil
	})
	slices.Sort(files)
	return files, errs
}

// unwrapPath drops the path from an *fs.PathError, which the FileError
// names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
