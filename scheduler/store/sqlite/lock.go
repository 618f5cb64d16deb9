package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked is returned (wrapped) by Open with Options.Exclusive when
// another process holds the database's lock file.
var ErrLocked = errors.New("database is in use by another scheduler")

// lockFile takes the exclusive lock of the database at path: a flock on
// path+".lock", held until the returned file is closed or the process
// ends (the kernel drops it even after a SIGKILL, so a crash leaves no
// stale lock). The holder writes its pid into the file, so the refusal
// can name it.
func lockFile(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		holder := "another process"
		if data, rerr := os.ReadFile(name); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(data))); perr == nil && pid > 0 {
				holder = "process " + strconv.Itoa(pid)
			}
		}
		return nil, fmt.Errorf("%w: %s holds %s; a SQLite database serves one scheduler: stop that one first, "+
			"give this one another --db, or use PostgreSQL to run several", ErrLocked, holder, name)
	}
	// Written after the lock is taken: a reader that finds it empty or
	// half written only loses the pid from its message.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
