package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownerOnly makes the database at path readable by its owner only: the
// file holds every task's spec, environment values included (issue 16
// found it 0644). A missing file is created empty with mode 0600, which
// SQLite opens as a new database; SQLite gives the -wal and -shm files it
// creates the database file's mode. An existing file, and its -wal and
// -shm, that this user owns and that others may read are narrowed to 0600
// (a file of another user is left as it is: it is not ours to change).
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || int(st.Uid) != os.Geteuid() || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("make %s owner-only: %w", p, err)
		}
	}
	return nil
}
