package debugserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

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
