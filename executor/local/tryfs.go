package local

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil/scheduler"
)

// The files of a try folder. Their names are part of the on-disk format that
// a newer scheduler must still read after an upgrade: change them only with a
// fallback for the old names.
const (
	logFile  = "output.log"
	pidFile  = "pid"      // "<pid> <start time in clock ticks>\n"
	exitFile = "exitcode" // "<code>\n", written by the wrapper when the command ends
)

// wrapperScript runs as the leader of the try's process group and outlives
// the scheduler. It waits for "go" on stdin, which the executor sends only
// after the pid file is on disk, so a command never runs without a record
// that lets a later scheduler find it. TERM and INT get handlers rather than
// being ignored, because ignored signals would be inherited by the command;
// with a handler the shell survives the group's SIGTERM, still waits for its
// foreground child, and records the child's status (128+n for signal n) with
// a rename, so a reader never sees half a file.
const wrapperScript = `trap : TERM INT
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
d=$1; shift
"$@" </dev/null
c=$?
printf '%d\n' "$c" >"$d/exitcode.tmp" && mv -f "$d/exitcode.tmp" "$d/exitcode"
exit "$c"`

// tryDir is the folder of one try. Each id becomes one path component, so no
// id can reach outside Dir or collide with another.
func (e *Executor) tryDir(k scheduler.TryKey) string {
	return filepath.Join(e.dir, safeName(k.DAGID), safeName(k.RunID), safeName(k.TaskID),
		fmt.Sprintf("try-%d", k.Try))
}

// safeName turns any id into a file name: letters, digits, '_', '-' and '.'
// stay, every other byte becomes %XX, as does a leading dot (no hidden files,
// no "." or ".."). The mapping is one-to-one, so two ids never share a
// folder; "%" alone, which no encoding produces, stands for the empty id.
// Names too long for the file system keep a readable prefix and a hash.
func safeName(id string) string {
	if id == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '-', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	s := b.String()
	// 255 bytes is NAME_MAX on Linux file systems.
	if len(s) > 200 {
		sum := sha256.Sum256([]byte(id))
		s = s[:120] + "~" + hex.EncodeToString(sum[:16])
	}
	return s
}

// diskState is what a try folder says about the try.
type diskState struct {
	exists   bool // the folder exists
	exited   bool // an exit status is recorded
	code     int
	recorded bool // a pid is recorded
	pid      int
	start    uint64
	alive    bool // the recorded process is running (same pid and start time)
}

// inspect reads a try folder. The exit status is read before and after
// looking at the process: the wrapper writes it just before it exits, so a
// process found dead with no status after that second read really ended
// without one.
func inspect(dir string) (diskState, error) {
	var st diskState
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return st, nil
	} else if err != nil {
		return st, fmt.Errorf("inspect try folder: %w", err)
	}
	st.exists = true
	var err error
	if st.pid, st.start, st.recorded, err = readPid(dir); err != nil {
		return st, err
	}
	if st.code, st.exited, err = readExit(dir); err != nil || st.exited || !st.recorded {
		return st, err
	}
	if st.alive = sameProcess(st.pid, st.start); st.alive {
		return st, nil
	}
	st.code, st.exited, err = readExit(dir)
	return st, err
}

func readExit(dir string) (code int, ok bool, err error) {
	path := filepath.Join(dir, exitFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read exit status: %w", err)
	}
	code, err = strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false, fmt.Errorf("read exit status %s: %q is not a number", path, data)
	}
	return code, true, nil
}

func writeExit(dir string, code int) error {
	return writeAtomic(filepath.Join(dir, exitFile), fmt.Sprintf("%d\n", code))
}

func readPid(dir string) (pid int, start uint64, ok bool, err error) {
	path := filepath.Join(dir, pidFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("read pid file: %w", err)
	}
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || pid <= 0 {
		return 0, 0, false, fmt.Errorf("read pid file %s: %q is not \"<pid> <start time>\"", path, data)
	}
	return pid, start, true, nil
}

func writePid(dir string, pid int, start uint64) error {
	return writeAtomic(filepath.Join(dir, pidFile), fmt.Sprintf("%d %d\n", pid, start))
}

func writeAtomic(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// procStat reads a process's start time (field 22 of /proc/<pid>/stat, in
// clock ticks since boot) and state (field 3).
func procStat(pid int) (start uint64, state byte, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Field 2 is the command name in parentheses and may itself hold spaces
	// and parentheses; the fields after the last ')' are plain.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 > len(data) {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+2:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %d fields after the name", pid, len(f))
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat start time: %w", pid, err)
	}
	return start, f[0][0], nil
}

// sameProcess reports whether pid is still the process that started at
// start, and has not ended. A zombie has ended: after a scheduler crash the
// wrapper may be reparented to a PID 1 that never reaps it.
func sameProcess(pid int, start uint64) bool {
	got, state, err := procStat(pid)
	return err == nil && got == start && state != 'Z' && state != 'X'
}
