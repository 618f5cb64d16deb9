package dag

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// DefaultMaxFileSize bounds a DAG file a Loader reads: about 20,000 tasks
// of a few lines each. A bigger file is refused unread, with an error that
// names it and the limit, and the folder's other files load as usual.
const DefaultMaxFileSize = 4 << 20

// racyWindow is how long before its last read a file must have been
// modified for its size and modification time to vouch for its content.
// A file system with a coarse clock (a second, or two on FAT) gives a
// write in the same tick as the read, of the same size, the same times.
const racyWindow = 2 * time.Second

// Loader loads a DAG folder again and again, as LoadDir does, but parses
// only the files that changed since its last Load. The scheduler reloads
// its folder every few seconds, and parsing an unchanged 20,000-task file
// each time cost 40% of a core (issue 16).
//
// A file whose identity (device and inode), size and modification time
// are those of its last read, and which was modified well before that
// read, is taken as unchanged without being read. Any other file is read
// and parsed only if its SHA-256 differs from the last read's.
//
// A Loader is not safe for concurrent use.
type Loader struct {
	dir     string
	presets Presets
	opts    LoaderOptions
	files   map[string]*loadedFile
	last    []loadMark // what the last Load returned, to tell a change
	stats   LoaderStats
}

// LoaderOptions tune a Loader; the zero value gives the defaults.
type LoaderOptions struct {
	// MaxFileSize is the largest DAG file read, in bytes;
	// DefaultMaxFileSize if zero.
	MaxFileSize int64
	// Parse, if set, replaces Parse (tests count or hold parses with it).
	Parse func(file string, data []byte, presets Presets) (*DAG, error)
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// LoaderStats count a Loader's work since it was made.
type LoaderStats struct {
	// Read is the files read; Parsed those of them parsed, because they
	// were new or their content changed.
	Read, Parsed int64
}

// loadedFile is what a Loader knows of one file.
type loadedFile struct {
	info   os.FileInfo // as of the last read
	readAt time.Time   // when the last read started
	sum    [sha256.Size]byte
	dag    *DAG
	err    error // why the file cannot be used
}

// loadMark is one entry of a LoadResult, compared to tell a change.
type loadMark struct {
	file string
	dag  *DAG
	err  string
}

// NewLoader returns a Loader of the folder dir.
func NewLoader(dir string, presets Presets, opts LoaderOptions) *Loader {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.Parse == nil {
		opts.Parse = Parse
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Loader{dir: dir, presets: presets, opts: opts, files: map[string]*loadedFile{}}
}

// Stats returns the Loader's counts.
func (l *Loader) Stats() LoaderStats { return l.stats }

// Load reads the folder as LoadDir does and reports whether the result
// differs from the previous Load's (always true the first time). A file
// that did not change gives the same *DAG as before; callers must not
// modify it.
func (l *Loader) Load() (res LoadResult, changed bool) {
	present := map[string]bool{}
	if info, err := os.Stat(l.dir); err != nil {
		res.Errors = append(res.Errors, &FileError{File: l.dir, Err: fmt.Errorf("cannot read the DAG folder: %w; create it or point vigil at the folder that holds your DAG files", unwrapPath(err))})
	} else if !info.IsDir() {
		res.Errors = append(res.Errors, &FileError{File: l.dir, Err: errors.New("is not a folder; point vigil at the folder that holds your DAG files")})
	} else {
		files, walkErrs := dagFiles(l.dir)
		res.Errors = append(res.Errors, walkErrs...)
		seen := map[string]string{} // DAG id -> file
		for _, path := range files {
			present[path] = true
			f := l.file(path)
			if f.err != nil {
				res.Errors = append(res.Errors, &FileError{File: path, Err: f.err})
				continue
			}
			if first, dup := seen[f.dag.ID]; dup {
				res.Errors = append(res.Errors, &FileError{File: path, Err: fmt.Errorf("DAG id %q is already declared by %s; give each DAG its own id", f.dag.ID, first)})
				continue
			}
			seen[f.dag.ID] = path
			res.DAGs = append(res.DAGs, f.dag)
		}
	}
	for path := range l.files {
		if !present[path] {
			delete(l.files, path)
		}
	}
	slices.SortStableFunc(res.Errors, func(a, b *FileError) int { return strings.Compare(a.File, b.File) })
	marks := make([]loadMark, 0, len(res.DAGs)+len(res.Errors))
	for _, d := range res.DAGs {
		marks = append(marks, loadMark{file: d.File, dag: d})
	}
	for _, e := range res.Errors {
		marks = append(marks, loadMark{file: e.File, err: e.Error()})
	}
	changed = l.last == nil || !slices.Equal(marks, l.last)
	l.last = marks
	return res, changed
}

// file returns what the file at path holds now, reading and parsing it
// only if it may have changed.
func (l *Loader) file(path string) *loadedFile {
	now := l.opts.Now()
	info, err := os.Stat(path)
	if err != nil {
		delete(l.files, path)
		return &loadedFile{err: fmt.Errorf("cannot read: %w; check its permissions", unwrapPath(err))}
	}
	if info.Size() > l.opts.MaxFileSize {
		delete(l.files, path)
		return &loadedFile{err: l.tooBig(info.Size())}
	}
	old := l.files[path]
	if old != nil && sameFile(old.info, info) && info.ModTime().Before(old.readAt.Add(-racyWindow)) {
		return old
	}
	l.stats.Read++
	data, err := readAtMost(path, l.opts.MaxFileSize)
	if err != nil {
		delete(l.files, path)
		return &loadedFile{err: err}
	}
	sum := sha256.Sum256(data)
	if old != nil && old.sum == sum {
		old.info, old.readAt = info, now
		return old
	}
	l.stats.Parsed++
	d, err := l.opts.Parse(path, data, l.presets)
	f := &loadedFile{info: info, readAt: now, sum: sum, dag: d, err: err}
	l.files[path] = f
	return f
}

func (l *Loader) tooBig(size int64) error {
	return fmt.Errorf("is %s, more than the %s a DAG file may hold; split it into several DAG files", byteSize(size), byteSize(l.opts.MaxFileSize))
}

// readAtMost reads the file at path, refusing it past limit bytes (it may
// have grown since it was looked at).
func readAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w; check its permissions", unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w; check its permissions", unwrapPath(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("grew past the %s a DAG file may hold while being read; split it into several DAG files", byteSize(limit))
	}
	return data, nil
}

// sameFile reports whether a and b describe the same file, unchanged as
// far as its metadata tells.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && a.Mode() == b.Mode()
}

// byteSize writes n for people: "5.0 MiB (5242880 bytes)".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB (%d bytes)", float64(n)/(1<<10), n)
	}
	return fmt.Sprintf("%d bytes", n)
}
