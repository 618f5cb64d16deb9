package cmdutil_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/internal/exitcode"
)

func TestParseContexts(t *testing.T) {
	good := `current-context: prod
contexts:
- name: prod
  server: https://vigil.internal:8975
  token-file: /etc/vigil/prod.token
  certificate-authority: /etc/vigil/ca.pem
- name: dev
  server: http://127.0.0.1:8975
  insecure-skip-tls-verify: true
`
	cf, err := cmdutil.ParseContexts("contexts.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	prod, ok := cf.Get("prod")
	if cf.CurrentContext != "prod" || !ok || prod.TokenFile != "/etc/vigil/prod.token" || prod.CAFile != "/etc/vigil/ca.pem" {
		t.Errorf("parsed %+v", cf)
	}
	if dev, _ := cf.Get("dev"); !dev.Insecure {
		t.Errorf("dev: %+v; want insecure-skip-tls-verify", dev)
	}

	bad := []struct {
		name, text, want string
	}{
		{"unknown top key", "current-context: a\ncontext:\n- name: a\n", `contexts.yaml:2: unknown key "context"`},
		{"unknown context key", "contexts:\n- name: a\n  server: http://a:1\n  tokenfile: x\n", `contexts.yaml:4: unknown key "tokenfile"`},
		{"no server", "contexts:\n- name: a\n  token-file: x\n", `contexts.yaml:2: context "a" has no server`},
		{"no name", "contexts:\n- server: http://a:1\n", `contexts.yaml:2: a context without a name`},
		{"bad server", "contexts:\n- name: a\n  server: vigil:8975\n", `contexts.yaml:2: context "a": server "vigil:8975"`},
		{"bad bool", "contexts:\n- name: a\n  server: http://a:1\n  insecure-skip-tls-verify: maybe\n", `contexts.yaml:4: insecure-skip-tls-verify: want true or false`},
		{"duplicate", "contexts:\n- name: a\n  server: http://a:1\n- name: a\n  server: http://b:1\n", `contexts.yaml:4: contexts: a second context named "a" (the first is on line 2)`},
		{"not a list", "contexts: prod\n", `contexts.yaml:1: contexts: want a list`},
		{"not yaml", "contexts: [\n", `contexts.yaml: yaml:`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cmdutil.ParseContexts("contexts.yaml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want %q", err, tt.want)
			}
		})
	}
}

func TestContextsSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "contexts.yaml")
	cf, err := cmdutil.LoadContexts(path)
	if err != nil || len(cf.Contexts) != 0 {
		t.Fatalf("missing file: %+v, %v; want empty", cf, err)
	}
	cf.Set(cmdutil.Context{Name: "a", Server: "http://a:1", TokenFile: "/t"})
	cf.Set(cmdutil.Context{Name: "b", Server: "https://b:2"})
	cf.Set(cmdutil.Context{Name: "a", Server: "http://a:3"})
	cf.CurrentContext = "b"
	if err := cf.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v, %v; want mode 0600", fi, err)
	}
	got, err := cmdutil.LoadContexts(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := got.Get("a"); a.Server != "http://a:3" || a.TokenFile != "" || got.CurrentContext != "b" || len(got.Contexts) != 2 {
		t.Errorf("read back %+v", got)
	}
	if !got.Delete("b") || got.CurrentContext != "" || got.Delete("b") {
		t.Errorf("delete: %+v", got)
	}
}

// writeLocal writes the discovery file a `vigil run` of pid leaves.
func writeLocal(t *testing.T, dir string, pid int, server string) {
	t.Helper()
	b, _ := json.Marshal(api.Local{Server: server, TokenFile: "/local.token", PID: pid, StartedAt: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, "api-"+strconv.Itoa(pid)+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestResolveOrder(t *testing.T) {
	rt := t.TempDir()
	ctxFile := filepath.Join(t.TempDir(), "contexts.yaml")
	// This process stands for the live `vigil run`; pid 2^22+1 is above
	// Linux's pid_max, so never alive.
	writeLocal(t, rt, os.Getpid(), "http://127.0.0.1:1111")
	writeLocal(t, rt, 1<<22+1, "http://127.0.0.1:9999")
	if err := os.WriteFile(ctxFile, []byte(`current-context: cur
contexts:
- name: cur
  server: http://cur:1
  token-file: /cur.token
- name: other
  server: http://other:1
  token-file: /other.token
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		flags      cmdutil.ServerFlags
		env        map[string]string
		noContexts bool
		server     string
		token      string
	}{
		{"flag wins", cmdutil.ServerFlags{Server: "http://flag:1", Context: "other"},
			map[string]string{"VIGIL_SERVER": "http://env:1"}, false, "http://flag:1", ""},
		{"env over context", cmdutil.ServerFlags{}, map[string]string{"VIGIL_SERVER": "http://env:1", "VIGIL_TOKEN_FILE": "/env.token"}, false, "http://env:1", "/env.token"},
		{"--context over current", cmdutil.ServerFlags{Context: "other"}, map[string]string{"VIGIL_CONTEXT": "cur"}, false, "http://other:1", "/other.token"},
		{"$VIGIL_CONTEXT over current", cmdutil.ServerFlags{}, map[string]string{"VIGIL_CONTEXT": "other"}, false, "http://other:1", "/other.token"},
		{"current-context", cmdutil.ServerFlags{}, nil, false, "http://cur:1", "/cur.token"},
		{"--token-file over the context's", cmdutil.ServerFlags{TokenFile: "/flag.token"}, nil, false, "http://cur:1", "/flag.token"},
		{"local scheduler last", cmdutil.ServerFlags{}, nil, true, "http://127.0.0.1:1111", "/local.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"VIGIL_RUNTIME_DIR": rt, "VIGIL_CONTEXTS": ctxFile}
			if tt.noContexts {
				env["VIGIL_CONTEXTS"] = filepath.Join(t.TempDir(), "none.yaml")
			}
			for k, v := range tt.env {
				env[k] = v
			}
			flags := tt.flags
			f := &cmdutil.Factory{Getenv: func(k string) string { return env[k] }, Server: &flags}
			got, err := f.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			if got.Server != tt.server || got.TokenFile != tt.token {
				t.Errorf("resolved %+v; want server %s, token file %s", got, tt.server, tt.token)
			}
		})
	}
}

func TestResolveNone(t *testing.T) {
	empty := t.TempDir()
	writeLocal(t, empty, 1<<22+1, "http://127.0.0.1:9999") // dead: passed over
	env := map[string]string{"VIGIL_RUNTIME_DIR": empty, "VIGIL_CONTEXTS": filepath.Join(empty, "none.yaml")}
	f := &cmdutil.Factory{Getenv: func(k string) string { return env[k] }, Server: &cmdutil.ServerFlags{}}
	_, err := f.Resolve()
	if cmdutil.ExitCode(err) != exitcode.Unreachable || !strings.Contains(err.Error(), "vigil run") || !strings.Contains(err.Error(), "set-context") {
		t.Errorf("no server: exit %d, %v; want 3 and what to do", cmdutil.ExitCode(err), err)
	}
	// A context named but not in the file is a usage error naming the file.
	env["VIGIL_CONTEXT"] = "nope"
	_, err = f.Resolve()
	if cmdutil.ExitCode(err) != exitcode.Usage || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("unknown context: exit %d, %v", cmdutil.ExitCode(err), err)
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	const secret = "s3cr3t-token-value"
	path := filepath.Join(dir, "token")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := cmdutil.ReadToken(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), secret) {
		t.Errorf("a token others can read: %v; want refused, naming chmod 600, not quoting it", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := cmdutil.ReadToken(path); err != nil || got != secret {
		t.Errorf("ReadToken = %q, %v", got, err)
	}
	// The client refuses it too, before any request.
	env := map[string]string{"VIGIL_CONTEXTS": filepath.Join(dir, "none.yaml")}
	_ = os.Chmod(path, 0o640)
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Getenv: func(k string) string { return env[k] },
		Server: &cmdutil.ServerFlags{Server: "http://127.0.0.1:1", TokenFile: path}}
	if _, err := f.Client(); err == nil || cmdutil.ExitCode(err) != exitcode.Error {
		t.Errorf("client with an open token file: %v; want exit 4", err)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&cmdutil.FoundError{Msg: "stale"}, 1},
		{cmdutil.Usagef("bad"), 2},
		{exitcode.With(exitcode.Usage, errors.New("-o")), 2},
		{&cmdutil.NoServerError{Msg: "none"}, 3},
		{&client.APIError{Status: 403, Message: "read-only"}, 4},
		{&client.APIError{Status: 400, Message: "bad cursor"}, 2},
		{fmt.Errorf("runs: %w", &client.APIError{Status: 503, Message: "database is not open yet"}), 3},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), 3},
		{errors.New("other"), 4},
	}
	for _, tt := range tests {
		if got := cmdutil.ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
