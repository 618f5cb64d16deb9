package debugapi

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Where the server listens and how a client finds it: both ends follow
// these rules, so they agree with no configuration. The debug API trusts
// whoever can reach the socket, and diag trusts whatever answers on it
// (issue 16): both hold only if the runtime folder and the socket belong
// to the user running them, and a token file is readable by that user
// alone.

// EnvDir names the environment variable that overrides the runtime
// directory, for both the server and the diag CLI.
const EnvDir = "VIGIL_RUNTIME_DIR"

// DefaultDir is the runtime directory the server puts its socket in and
// `diag` looks in when given no flags: $VIGIL_RUNTIME_DIR, else
// $XDG_RUNTIME_DIR/vigil, else <tmp>/vigil-<uid>. In a container the two
// processes (`kubectl exec … diag`) share the filesystem and the uid, so
// they agree without configuration.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "vigil")
	}
	return filepath.Join(os.TempDir(), "vigil-"+strconv.Itoa(os.Getuid()))
}

// SocketPath is the socket of process pid in dir: vigil-<pid>.sock, so
// several schedulers on one machine never collide.
func SocketPath(dir string, pid int) string {
	return filepath.Join(dir, "vigil-"+strconv.Itoa(pid)+".sock")
}

// Endpoint is a debug socket found in a runtime directory.
type Endpoint struct {
	Path string `json:"path"`
	PID  int    `json:"pid"`
	// Alive is false when no process has that pid (a socket left by a
	// process that was SIGKILLed).
	Alive bool `json:"alive"`
}

// Discover lists the debug sockets in dir, live processes first, then by
// pid. A missing directory is not an error: there is just no scheduler.
func Discover(dir string) ([]Endpoint, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for debug sockets in %s: %w", dir, err)
	}
	var out []Endpoint
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "vigil-") || !strings.HasSuffix(name, ".sock") {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "vigil-"), ".sock"))
		if err != nil || pid <= 0 {
			continue
		}
		out = append(out, Endpoint{Path: filepath.Join(dir, name), PID: pid, Alive: processAlive(pid)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Alive != out[j].Alive {
			return out[i].Alive
		}
		return out[i].PID < out[j].PID
	})
	return out, nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ErrNotOwned is wrapped by the errors for a runtime folder or socket
// that belongs to another user (CheckSocket, and the server's check of
// its folder).
var ErrNotOwned = errors.New("not owned by this user")

// CheckSocket checks that path, if something is there, is a unix socket
// owned by this process's user. A missing path is fine (nothing to
// check); the caller decides what that means.
func CheckSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("debug socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("debug socket %s is not a socket (mode %s, owned by uid %d); remove it, or choose another runtime folder with --runtime-dir or $%s", path, fi.Mode(), owner(fi), EnvDir)
	}
	if uid := owner(fi); uid != os.Geteuid() {
		return fmt.Errorf("debug socket %s is owned by uid %d (mode %#o), not by this user (uid %d): %w; a process of that user would answer. Run diag as uid %d, or remove the socket if it is not a scheduler's",
			path, uid, fi.Mode().Perm(), os.Geteuid(), ErrNotOwned, uid)
	}
	return nil
}

// maxToken bounds what ReadToken reads: a token is a line, not a file.
const maxToken = 4 << 10

// ReadToken reads the bearer token in path, refusing a file that users
// other than its owner may read or change: whoever reads a token acts
// with it (the whole debug API, or an operations API role). The token is
// the file's content, trimmed; errors never quote it. The debug and
// operations API servers read their tokens with it, and their clients
// the ones they send.
func ReadToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("token file %s is not a regular file (mode %s)", path, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("token file %s has mode %#o: other users can read or change it, and whoever reads the token acts with it; run chmod 600 %s (in a Kubernetes Secret volume, set defaultMode: 0400)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxToken+1))
	if err != nil {
		return "", fmt.Errorf("token file %s: %w", path, err)
	}
	if len(b) > maxToken {
		return "", fmt.Errorf("token file %s is over %d bytes: it should hold one token", path, maxToken)
	}
	return strings.TrimSpace(string(b)), nil
}

// owner is the uid that owns fi's file, or -1 when the system does not
// say.
func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
