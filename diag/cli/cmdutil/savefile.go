package cmdutil

import (
	"fmt"
	"os"
	"path/filepath"
)

// OutputFile is a file a command saves (a profile, a bundle): written
// under a temporary name beside its final path, mode 0600 because
// profiles and bundles hold stacks, command lines and configuration, and
// renamed into place only by Commit. An interrupted or failed download
// is removed by Abort and never leaves a partial file, nor clobbers an
// earlier file at the same path.
type OutputFile struct {
	f    *os.File
	path string
	n    int64
	done bool
}

// CreateOutputFile starts writing path. Call Commit when the content is
// complete, and defer Abort (a no-op after Commit).
func CreateOutputFile(path string) (*OutputFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w (is its folder there and writable? choose another with -f/--file)", path, err)
	}
	// CreateTemp already uses 0600; say so for the reader and for a
	// platform that might not.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &OutputFile{f: f, path: path}, nil
}

// Write appends to the file.
func (o *OutputFile) Write(p []byte) (int, error) {
	n, err := o.f.Write(p)
	o.n += int64(n)
	return n, err
}

// Size is how many bytes were written.
func (o *OutputFile) Size() int64 { return o.n }

// Path is the final path.
func (o *OutputFile) Path() string { return o.path }

// Commit closes the file and moves it to its final path.
func (o *OutputFile) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if err := o.f.Close(); err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if err := os.Rename(o.f.Name(), o.path); err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("save %s: %w", o.path, err)
	}
	return nil
}

// Abort removes the partial file unless Commit has run.
func (o *OutputFile) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	os.Remove(o.f.Name())
}

// OutputPath is where to save a file: file if given (inside it, named
// name, when it is a folder), else name in the current folder.
func OutputPath(file, name string) string {
	if file == "" {
		return name
	}
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		return filepath.Join(file, name)
	}
	return file
}
