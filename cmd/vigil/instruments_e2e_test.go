package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/debugserver"
)

// TestInstrumentsOfALiveScheduler checks what a running `vigil run` offers
// an on-call engineer: a debug socket diag can find with no flags (given
// the runtime folder), only its owner can open, that answers the API; and
// the metrics the dashboards query.
func TestInstrumentsOfALiveScheduler(t *testing.T) {
	e := newEnv(t, map[string]string{"chain.yaml": chainDAG})
	runDir := filepath.Join(e.dir, "run")
	health := freeAddr(t)
	e.extra = []string{"--runtime-dir", runDir, "--health-addr", health}
	d := e.start()
	e.waitFor("the DAG to load", 30*time.Second, func() bool {
		_, err := e.vigil("dags", "trigger", "chain")
		return err == nil
	})
	e.waitFor("the run to finish", 60*time.Second, func() bool { return allSucceeded(e.tasks("chain"), 3) })

	var eps []debugserver.Endpoint
	e.waitFor("the debug socket", 10*time.Second, func() bool {
		eps, _ = debugserver.Discover(runDir)
		return len(eps) == 1
	})
	if eps[0].PID != d.cmd.Process.Pid || !eps[0].Alive {
		t.Fatalf("Discover = %+v, want the daemon's pid %d", eps, d.cmd.Process.Pid)
	}
	if fi, err := os.Stat(eps[0].Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", eps[0].Path)
	}}}
	resp, err := c.Get("http://vigil" + debugserver.Prefix + "info")
	if err != nil {
		t.Fatal(err)
	}
	var info debugserver.Info
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.PID != d.cmd.Process.Pid || info.Extra["executor"] != "local" || !strings.HasSuffix(info.BundleDir, "bundles") {
		t.Errorf("info = %+v (%v)", info, err)
	}

	resp, err = http.Get("http://" + health + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{
		"vigil_loop_iteration_duration_seconds_bucket", "vigil_inflight_calls", "vigil_inflight_calls_no_deadline",
		"vigil_inflight_oldest_seconds", "vigil_inflight_calls_total", "vigil_heartbeat_age_seconds",
		`vigil_tasks{state="active"}`, "vigil_runs_open", "vigil_profile_uploads_dropped_total", "vigil_task_transitions_total",
	} {
		if !strings.Contains(string(body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// One version everywhere, and never Go's "(devel)": vigil version,
	// the debug API's /info, and vigil_build_info.
	var build struct {
		Version   string `json:"version"`
		Revision  string `json:"revision"`
		GoVersion string `json:"go_version"`
	}
	if err := json.Unmarshal([]byte(e.mustVigil("version", "-o", "json")), &build); err != nil {
		t.Fatal(err)
	}
	if build.Version == "" || build.Version == "(devel)" || build.GoVersion != runtime.Version() {
		t.Errorf("vigil version -o json = %+v", build)
	}
	if info.Version != build.Version || info.Revision != build.Revision {
		t.Errorf("/info says version %q revision %q, vigil version %q %q", info.Version, info.Revision, build.Version, build.Revision)
	}
	if w := fmt.Sprintf("vigil_build_info{go_version=%q,revision=%q,version=%q} 1\n", build.GoVersion, build.Revision, build.Version); !strings.Contains(string(body), w) {
		t.Errorf("/metrics lacks %s", w)
	}

	_ = d.stop(t, syscall.SIGTERM, 30*time.Second)
	if _, err := os.Stat(eps[0].Path); !os.IsNotExist(err) {
		t.Errorf("the socket outlived a clean shutdown (%v)", err)
	}
}
