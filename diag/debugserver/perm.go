package debugserver

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// The debug API trusts whoever can reach the socket, and diag trusts
// whatever answers on it (issue 16): both hold only if the runtime folder
// and the socket belong to the user running them, and a token file is
// readable by that user alone.

// ErrNotOwned is wrapped by the errors of PrepareDir and CheckSocket for a
// folder or socket that belongs to another user.
var ErrNotOwned = debugapi.ErrNotOwned

// PrepareDir creates the runtime folder dir (and any missing parents)
// with mode 0700, or checks the existing one: it must be a real folder
// (not a symbolic link) owned by this process's user. A folder of ours
// that others may enter is tightened to 0700, and tightened reports that
// it was (with the old mode) so the caller can say so. A folder of
// another user is refused: that user could read, replace or remove the
// socket.
func PrepareDir(dir string) (tightened fs.FileMode, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("debug runtime folder %s: %w (set --runtime-dir or $%s to a folder of your own)", dir, err, EnvDir)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return 0, fmt.Errorf("debug runtime folder %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return 0, fmt.Errorf("debug runtime folder %s is a symbolic link (owned by uid %d): the socket must live in a folder of yours; set --runtime-dir or $%s to the real folder", dir, owner(fi), EnvDir)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("debug runtime folder %s is not a folder (mode %s); remove it or set --runtime-dir or $%s", dir, fi.Mode(), EnvDir)
	}
	if uid := owner(fi); uid != os.Geteuid() {
		return 0, fmt.Errorf("debug runtime folder %s is owned by uid %d (mode %#o), not by this user (uid %d): %w; that user could read, replace or remove the debug socket. Remove the folder, or set --runtime-dir or $%s to a folder of your own",
			dir, uid, fi.Mode().Perm(), os.Geteuid(), ErrNotOwned, EnvDir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, perm&0o700); err != nil {
			return 0, fmt.Errorf("debug runtime folder %s has mode %#o (others may enter it) and cannot be tightened to 0700: %w; run chmod 700 %s", dir, perm, err, dir)
		}
		return perm, nil
	}
	return 0, nil
}

// CheckSocket checks that path, if something is there, is a unix socket
// owned by this process's user (debugapi.CheckSocket: diag checks the
// socket it dials by the same rule).
func CheckSocket(path string) error { return debugapi.CheckSocket(path) }

// ReadToken reads the bearer token in path, refusing a file that users
// other than its owner may read or change (debugapi.ReadToken).
func ReadToken(path string) (string, error) { return debugapi.ReadToken(path) }

// owner is the uid that owns fi's file.
func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
