package cmdutil

import (
	"encoding/json"
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

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/diag/debugapi"
)

// Target is the server a command talks to, and where that choice came
// from (for errors and 'vigil config view').
type Target struct {
	Server    string
	TokenFile string
	CAFile    string
	Insecure  bool
	// Source: "--server", "$VIGIL_SERVER", "context NAME (FILE)" or
	// "local scheduler pid N (FILE)".
	Source string
}

// EnvRuntimeDir is the runtime folder's variable (as debugserver.EnvDir).
const EnvRuntimeDir = "VIGIL_RUNTIME_DIR"

// Resolve picks the server: --server, then $VIGIL_SERVER, then the
// context file's context (--context, $VIGIL_CONTEXT or its
// current-context), then the only live `vigil run` on this machine (its
// RUNTIME_DIR/api-PID.json). The token file, CA and TLS choice come from
// the same place, unless --token-file / $VIGIL_TOKEN_FILE or the TLS flags
// are given. None found: a NoServerError (exit 3) that says what to do.
func (f *Factory) Resolve() (Target, error) {
	s := f.Server
	var t Target
	switch {
	case s.Server != "":
		t = Target{Server: s.Server, Source: "--server"}
	case f.Env(EnvServer) != "":
		t = Target{Server: f.Env(EnvServer), Source: "$" + EnvServer}
	default:
		var found bool
		var err error
		if t, found, err = f.fromContext(); err != nil {
			return t, err
		}
		if !found {
			if t, err = f.fromLocal(); err != nil {
				return t, err
			}
		}
	}
	if s.TokenFile != "" {
		t.TokenFile = s.TokenFile
	} else if v := f.Env(EnvTokenFile); v != "" {
		t.TokenFile = v
	}
	if s.CAFile != "" {
		t.CAFile = s.CAFile
	}
	if s.Insecure {
		t.Insecure = true
	}
	t.TokenFile, t.CAFile = expandHome(t.TokenFile), expandHome(t.CAFile)
	return t, nil
}

// fromContext reads the chosen context; found is false when none is
// chosen (no --context, no $VIGIL_CONTEXT, no current-context).
func (f *Factory) fromContext() (Target, bool, error) {
	path := DefaultContextsPath(f.Env)
	name, how := f.Server.Context, "--context"
	if name == "" {
		name, how = f.Env(EnvContext), "$"+EnvContext
	}
	cf, err := LoadContexts(path)
	if err != nil {
		return Target{}, false, err
	}
	if name == "" {
		name, how = cf.CurrentContext, "current-context of "+path
	}
	if name == "" {
		return Target{}, false, nil
	}
	ctx, ok := cf.Get(name)
	if !ok {
		known := "it has none"
		if n := cf.Names(); len(n) > 0 {
			known = "it has " + strings.Join(n, ", ")
		}
		return Target{}, false, Usagef("context %q (%s) is not in %s: %s; add it with 'vigil config set-context %s --server URL --token-file FILE'",
			name, how, path, known, name)
	}
	return Target{Server: ctx.Server, TokenFile: ctx.TokenFile, CAFile: ctx.CAFile, Insecure: ctx.Insecure,
		Source: fmt.Sprintf("context %s (%s)", name, path)}, true, nil
}

// RuntimeDir is --runtime-dir, or $VIGIL_RUNTIME_DIR, $XDG_RUNTIME_DIR/vigil,
// /tmp/vigil-UID (debugserver.DefaultDir's order).
func (f *Factory) RuntimeDir() string {
	if f.Server.RuntimeDir != "" {
		return f.Server.RuntimeDir
	}
	if d := f.Env(EnvRuntimeDir); d != "" {
		return d
	}
	if d := f.Env("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "vigil")
	}
	return filepath.Join(os.TempDir(), "vigil-"+strconv.Itoa(os.Getuid()))
}

// fromLocal finds the only live `vigil run` in the runtime folder.
func (f *Factory) fromLocal() (Target, error) {
	dir := f.RuntimeDir()
	locals, err := FindLocal(dir)
	if err != nil {
		return Target{}, err
	}
	switch len(locals) {
	case 0:
		return Target{}, &NoServerError{Msg: fmt.Sprintf("no scheduler API to talk to: no --server, $%s or context, and no live 'vigil run' announces one in %s.\nTo fix: %s",
			EnvServer, dir, reachHint)}
	case 1:
		l := locals[0]
		return Target{Server: l.Server, TokenFile: l.TokenFile, CAFile: l.CAFile,
			Source: fmt.Sprintf("local scheduler pid %d (%s)", l.PID, filepath.Join(dir, localName(l.PID)))}, nil
	}
	var lines []string
	for _, l := range locals {
		lines = append(lines, fmt.Sprintf("  pid %d: %s", l.PID, l.Server))
	}
	return Target{}, Usagef("%d schedulers run on this machine (in %s):\n%s\nchoose one with --server URL (and --token-file), or give each its own --runtime-dir",
		len(locals), dir, strings.Join(lines, "\n"))
}

func localName(pid int) string { return "api-" + strconv.Itoa(pid) + ".json" }

// FindLocal reads the api-PID.json files in dir whose process is alive,
// lowest pid first. A file of a dead process (one that was SIGKILLed) is
// passed over.
func FindLocal(dir string) ([]api.Local, error) {
	names, err := filepath.Glob(filepath.Join(dir, "api-*.json"))
	if err != nil {
		return nil, err
	}
	var out []api.Local
	for _, name := range names {
		pid, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(name), "api-"), ".json"))
		if err != nil || !alive(pid) {
			continue
		}
		b, err := readSmall(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // it stopped meanwhile
		}
		if err != nil {
			return nil, err
		}
		var l api.Local
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("%s: %w (a scheduler writing it? remove it if no 'vigil run' has pid %d)", name, err, pid)
		}
		if l.PID == 0 {
			l.PID = pid
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func readSmall(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, 64<<10))
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// ReadToken reads the bearer token in path with the debug token's rule
// (debugapi.ReadToken: a file other users may read or change is
// refused), and refuses an empty one. Errors never quote the token.
func ReadToken(path string) (string, error) {
	tok, err := debugapi.ReadToken(path)
	if err == nil && tok == "" {
		err = fmt.Errorf("token file %s is empty", path)
	}
	return tok, err
}
