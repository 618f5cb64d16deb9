package local

import (
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
// a rename, so a reader never sees half a file. A signal that comes before
// the command is started is recorded as if the command had received it.
// mv is looked up in the system's default PATH (command -p): the task's
// environment, which the wrapper shares, may set PATH to anything. The
// script spells out exitFile: keep the two in step.
//
// One window remains that the script cannot close: a signal that reaches
// the forked child before it execs the command is taken by the inherited
// handler and lost. Stop therefore waits for the exec (see awaitExec).
const wrapperScript = `trap 's=143' TERM
trap 's=130' INT
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
d=$1; shift
if [ -z "$s" ]; then "$@" </dev/null; c=$?; else c=$s; fi
printf '%d\n' "$c" >"$d/exitcode.tmp" && command -p mv -f "$d/exitcode.tmp" "$d/exitcode"
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
