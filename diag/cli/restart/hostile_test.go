package restart

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/debugserver/debugtest"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// TestPodBundleNameFromServerValidated: restart --pod copies the bundle
// out of the pod under the name the scheduler gives it. A scheduler that
// names it "../../x" used to have diag write there; now the restart stops
// at the bundle, naming the bad name, and nothing is written.
func TestPodBundleNameFromServerValidated(t *testing.T) {
	srv := debugtest.Start(t, debugtest.Options{Wrap: func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == debugserver.Prefix+"bundles" {
				debugtest.EditJSON(api, w, r, func(v map[string]any) { v["name"] = "../../x" })
				return
			}
			if strings.HasPrefix(r.URL.Path, debugserver.Prefix+"bundles/") {
				_, _ = w.Write([]byte("not what you asked for\n"))
				return
			}
			api.ServeHTTP(w, r)
		})
	}})
	base := t.TempDir()
	out := filepath.Join(base, "a", "b")
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	ios, _, stdout, _ := iostreams.Test()
	opts := &Options{IO: ios, File: out + "/", Factory: &cmdutil.Factory{IOStreams: ios, Now: time.Now,
		Target: &cmdutil.TargetFlags{Timeout: 10 * time.Second}}}
	// The pod's transport is the exec stream; any stream to the same API
	// does for the copy.
	c, err := client.New(client.Target{Socket: srv.Socket})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = writeBundle(t.Context(), opts, &pod{opts: opts, c: c})
	if err == nil || !strings.Contains(err.Error(), `"../../x" is not a bundle name`) {
		t.Fatalf("bundle named ../../x: %v; want a refusal naming it\n%s", err, stdout)
	}
	if _, err := os.Stat(filepath.Join(base, "x")); err == nil {
		t.Errorf("%s was written", filepath.Join(base, "x"))
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("files left in %s: %v", out, ents)
	}
}

// TestRestartRefusesPidNotServingTheSocket: diag restart signals the pid
// the scheduler reports. A scheduler that reports another process of
// ours (here a sleep) used to have that process SIGTERMed, after a
// bundle; now the kernel's word on who serves the socket (SO_PEERCRED)
// is checked first, and the restart is refused, naming both pids.
func TestRestartRefusesPidNotServingTheSocket(t *testing.T) {
	victim := exec.Command("sleep", "300")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- victim.Wait() }()
	t.Cleanup(func() { _ = victim.Process.Kill(); <-exited })

	srv := startLying(t, victim.Process.Pid, false)
	out, err := runRestart(t, &cmdutil.TargetFlags{Socket: srv.Socket, Timeout: 10 * time.Second})
	want := fmt.Sprintf("the scheduler says its pid is %d, but %s is served by pid %d", victim.Process.Pid, srv.Socket, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("restart of a pid that does not serve the socket: %v; want a refusal saying %q\n%s", err, want, out)
	}
	// A restart returns once its target is gone: alive now means never
	// signalled.
	if !alive(victim.Process) {
		t.Fatalf("the process the scheduler named was signalled\n%s", out)
	}
	if strings.Contains(out, "Bundle:") || strings.Contains(out, "SIGTERM") {
		t.Errorf("output:\n%s\nwant the refusal before any bundle or signal", out)
	}
}

func TestVerifyPeer(t *testing.T) {
	const where = "/run/vigil/vigil-42.sock"
	tests := []struct {
		name string
		pid  int
		peer client.Peer
		want string // "" for accepted
	}{
		{"same pid and user", 42, client.Peer{PID: 42, UID: 1000}, ""},
		{"another pid", 42, client.Peer{PID: 43, UID: 1000}, "served by pid 43"},
		{"another user", 42, client.Peer{PID: 42, UID: 0}, "of uid 0, not this user (uid 1000)"},
		{"not visible", 42, client.Peer{PID: 0, UID: 1000}, "not visible from this PID namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyPeer(where, tt.pid, tt.peer, 1000)
			if tt.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, errRefused) {
				t.Errorf("verifyPeer = %v, want a refusal saying %q", err, tt.want)
			}
		})
	}
}

// TestRestartOverTCPRefused: loopback TCP cannot say which process
// serves it, so a restart through --addr is refused before anything is
// signalled, pointing at the socket. (The scheduler here names a sleep
// as its pid, which diag could signal.)
func TestRestartOverTCPRefused(t *testing.T) {
	victim := exec.Command("sleep", "300")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- victim.Wait() }()
	t.Cleanup(func() { _ = victim.Process.Kill(); <-exited })
	srv := startLying(t, victim.Process.Pid, true)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cr3t-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runRestart(t, &cmdutil.TargetFlags{Addr: srv.Addr, TokenFile: tokenFile, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "cannot say which process serves it") || !strings.Contains(err.Error(), "--socket") {
		t.Errorf("restart over --addr: %v; want a refusal pointing at --socket\n%s", err, out)
	}
	// A restart returns once its target is gone: alive now means never
	// signalled.
	if !alive(victim.Process) {
		t.Fatalf("the process the scheduler named was signalled\n%s", out)
	}
}

// startLying serves a stalled scheduler's debug API that says its pid is
// pid (and its command sleep).
func startLying(t *testing.T, pid int, tcp bool) *debugtest.Server {
	t.Helper()
	var skew atomic.Int64
	wd := watchdog.New(watchdog.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	wd.Register("scheduler.loop", time.Second)
	skew.Store(int64(time.Hour)) // stalled: restart --if-stalled goes ahead
	return debugtest.Start(t, debugtest.Options{TCP: tcp, Sources: debugserver.Sources{Watchdog: wd}, Wrap: func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == debugserver.Prefix+"info" {
				debugtest.EditJSON(api, w, r, func(v map[string]any) {
					v["pid"] = pid
					v["args"] = []string{"sleep", "300"}
				})
				return
			}
			api.ServeHTTP(w, r)
		})
	}})
}

// runRestart runs diag restart --if-stalled against target.
func runRestart(t *testing.T, target *cmdutil.TargetFlags) (string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: target}
	cmd := NewCmdRestart(f, nil)
	cmd.SetArgs([]string{"--if-stalled", "--reason", "test", "--grace", "1s"})
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}
