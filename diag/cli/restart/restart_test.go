package restart

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/cli/kubepod"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/watchdog"
)

// TestRestartRefusesProcessItCannotSignal serves a real debug API from the test
// process itself, with a stale heartbeat: restart --if-stalled must go
// ahead as far as the process check, and refuse there, saying why, before
// it writes a bundle or signals anything.
func TestRestartRefusesProcessItCannotSignal(t *testing.T) {
	var skew atomic.Int64
	wd := watchdog.New(watchdog.Options{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	wd.Register("scheduler.loop", time.Second)
	skew.Store(int64(time.Hour)) // the loop last beat an hour ago
	srv, err := debugserver.New(debugserver.Options{Dir: t.TempDir(), Logger: zaptest.NewLogger(t)}, debugserver.Sources{Watchdog: wd})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("unix", srv.Socket(), time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no debug socket at %s", srv.Socket())
		}
		time.Sleep(20 * time.Millisecond)
	}

	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{Socket: srv.Socket(), Timeout: 10 * time.Second},
		PodDialer: kubepod.PodDialer}
	cmd := NewCmdRestart(f, nil)
	cmd.SetArgs([]string{"--if-stalled", "--reason", "test"})
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(t.Context())
	if err == nil || !strings.Contains(err.Error(), "will not signal") {
		t.Fatalf("restart of its own process: %v; want a refusal\n%s", err, out)
	}
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitError {
		t.Errorf("exit status %d, want %d", code, cmdutil.ExitError)
	}
	if !strings.Contains(out.String(), "Heartbeats: stale: scheduler.loop stale") || strings.Contains(out.String(), "Bundle:") {
		t.Errorf("output:\n%s\nwant the stale heartbeat and no bundle", out)
	}
}

func TestBundleReason(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", "", "restart"},
		{"short", "loop stuck", "restart: loop stuck"},
		{"long", strings.Repeat("x", 200), "restart: " + strings.Repeat("x", 91)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bundleReason(tt.in); got != tt.want {
				t.Errorf("bundleReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	p := &pod{
		opts: &Options{Factory: &cmdutil.Factory{Now: func() time.Time { return now }}},
		pod:  kubepod.Pod{Namespace: "vigil", Name: "vigil-scheduler-7c5d", UID: "u-1", Container: "scheduler", Containers: 1},
	}
	ev := p.event(record{Who: "ana@laptop", Reason: "INC-1234", Bundle: "vigil-bundle-x.tar.gz"})
	if ev.Reason != EventReason || ev.Type != "Warning" || ev.Namespace != "vigil" ||
		ev.InvolvedObject.Kind != "Pod" || ev.InvolvedObject.Name != "vigil-scheduler-7c5d" || ev.InvolvedObject.UID != "u-1" {
		t.Errorf("event %+v", ev)
	}
	if want := "Restarted by diag restart, run by ana@laptop: INC-1234; bundle vigil-bundle-x.tar.gz"; ev.Message != want {
		t.Errorf("message %q, want %q", ev.Message, want)
	}
	if ev := p.event(record{Who: "ana@laptop"}); !strings.Contains(ev.Message, "no reason given; no bundle written") {
		t.Errorf("message without reason or bundle: %q", ev.Message)
	}
}

// TestZombieIsNotAlive: a process that exited but is not reaped yet
// (its parent has not waited) counts as gone.
func TestZombieIsNotAlive(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !zombie(cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the child never became a zombie")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if alive(cmd.Process) {
		t.Errorf("alive(zombie) = true")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if alive(cmd.Process) {
		t.Errorf("alive(reaped) = true")
	}
}
